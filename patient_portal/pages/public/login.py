"""Sign in, in two steps: email and password, then (only for accounts with two-step sign-in) the
authenticator code. Both are native forms: the password step posts to /api/auth/login, the code
step to /api/auth/login/code, and the server answers with the next page (see api/auth.py)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, notice_callout
from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.state.login import LoginState

TAP = "44px"
ERROR_ID = "login-error"


def _field_error(field: str) -> rx.Component:
    """The error, right under the field it is about (one element with id login-error at most)."""
    return rx.cond(
        LoginState.error_field == field,
        rx.text(LoginState.error, id=ERROR_ID, role="alert", size="2", color=rx.color("red", 11),
                weight="medium"),
    )


def _described_by(field: str, hint_id: str = "") -> rx.Var:
    hint = f" {hint_id}" if hint_id else ""
    return rx.cond(LoginState.error_field == field, f"{ERROR_ID}{hint}", hint_id)


def _field(label, name: str, *, error_field: str = "", hint=None, hint_id: str = "",
           field_id: str = "", **input_props) -> rx.Component:
    field_id = field_id or f"login-{name}"
    own = error_field or name
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500"}),
        rx.input(id=field_id, name=name, size="3", width="100%", min_height=TAP,
                 aria_invalid=rx.cond(LoginState.error_field == own, "true", "false"),
                 aria_describedby=_described_by(own, hint_id), **input_props),
        rx.text(hint, size="1", color=rx.color("gray", 11), id=hint_id) if hint is not None else rx.fragment(),
        _field_error(own),
        spacing="1",
        width="100%",
    )


def _form_error() -> rx.Component:
    """Errors about the whole attempt (throttled, took too long) sit above the form."""
    return rx.cond(LoginState.error_field == "", error_callout(LoginState.error, id=ERROR_ID))


def _next_field() -> rx.Component:
    return rx.el.input(type="hidden", name="next", value=LoginState.next_path)


def _clinic() -> rx.Component:
    """The clinic's logo and name (/admin/settings), so a patient knows whose portal this is."""
    return rx.hstack(
        rx.cond(LoginState.has_logo, rx.image(src="/api/clinic/logo", alt="", max_height="48px", max_width="160px",
                                              id="login-logo")),
        rx.text(LoginState.clinic_name, size="4", weight="medium", id="login-clinic"),
        spacing="3", align="center")


def _password_step() -> rx.Component:
    return rx.el.form(
        rx.vstack(
            _clinic(),
            rx.heading("Sign in", size="7", as_="h1"),
            notice_callout(LoginState.notice, id="login-notice"),
            _form_error(),
            _field("Email", "email", type="email", auto_complete="username", required=True, auto_focus=True,
                   max_length=320),
            _field("Password", "password", type="password", auto_complete="current-password", required=True,
                   max_length=128),
            _next_field(),
            rx.button("Sign in", type="submit", size="3", width="100%", min_height=TAP),
            rx.cond(LoginState.sso_label,
                    rx.button(rx.el.a(LoginState.sso_label, href=LoginState.sso_href, id="login-sso"), as_child=True,
                              variant="outline", size="3", width="100%", min_height=TAP)),
            rx.hstack(
                rx.link("Forgot your password?", href="/forgot-password", id="login-forgot"),
                rx.link("New patient? Register", href="/register"),
                justify="between", width="100%", wrap="wrap", spacing="3",
            ),
            spacing="4",
            width="100%",
        ),
        action="/api/auth/login",
        method="post",
        on_submit=None,
        id="login-form",
    )


def _code_field() -> rx.Component:
    """One field for either kind of code; its label, hint and keyboard follow the choice."""
    return rx.cond(
        LoginState.recovery,
        _field("Recovery code", "code", field_id="login-code", hint_id="login-code-hint",
               hint="One of the recovery codes you saved when you set up two-step sign-in, "
                    "like ABCDE-23456. Each one works once.",
               auto_complete="off", auto_capitalize="characters", spell_check=False, required=True,
               max_length=16, auto_focus=True, key="recovery"),
        _field("Authenticator code", "code", field_id="login-code", hint_id="login-code-hint",
               hint="The 6-digit code your authenticator app shows for Patient Portal now.",
               input_mode="numeric", auto_complete="one-time-code", required=True, max_length=16,
               auto_focus=True, key="totp"),
    )


def _code_step() -> rx.Component:
    return rx.vstack(
        rx.el.form(
            rx.vstack(
                rx.heading("Sign in", size="7", as_="h1"),
                rx.text("Two-step sign-in for ", rx.text(LoginState.code_for, as_="span", weight="bold",
                                                         id="login-code-for"), size="3"),
                _form_error(),
                _code_field(),
                _next_field(),
                rx.button("Sign in", type="submit", size="3", width="100%", min_height=TAP),
                rx.cond(
                    LoginState.recovery,
                    rx.button("Use my authenticator app instead", type="button", variant="ghost", size="2",
                              min_height=TAP, on_click=LoginState.use_recovery(False), id="login-use-app"),
                    rx.button("Use a recovery code", type="button", variant="ghost", size="2",
                              min_height=TAP, on_click=LoginState.use_recovery(True), id="login-use-recovery"),
                ),
                spacing="4",
                width="100%",
            ),
            action="/api/auth/login/code",
            method="post",
            on_submit=None,
            id="login-code-form",
        ),
        rx.el.form(
            _next_field(),
            rx.button("Not you? Sign in with another account", type="submit", variant="ghost", size="2",
                      min_height=TAP, id="login-restart"),
            action="/api/auth/login/restart",
            method="post",
            on_submit=None,
        ),
        spacing="2",
        width="100%",
    )


@rx.page(route="/login", title=f"Sign in — {PRODUCT_NAME}", on_load=LoginState.load)
def login() -> rx.Component:
    return public_shell(
        rx.center(
            rx.card(
                rx.cond(LoginState.step == "code", _code_step(), _password_step()),
                width="100%",
                max_width="440px",
                size="3",
            ),
            width="100%",
            padding_y="1.5rem",
        )
    )
