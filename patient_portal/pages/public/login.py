"""Sign in: a native form that posts to /api/auth/login, which answers with the role's home page."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, notice_callout
from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.state.login import LoginState


def _field(label: str, name: str, hint: str = "", **input_props) -> rx.Component:
    field_id = f"login-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500"}),
        rx.input(id=field_id, name=name, size="3", width="100%", **input_props),
        rx.text(hint, size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
        spacing="1",
        width="100%",
    )


@rx.page(route="/login", title=f"Sign in — {PRODUCT_NAME}", on_load=LoginState.load)
def login() -> rx.Component:
    return public_shell(
        rx.center(
            rx.card(
                rx.el.form(
                    rx.vstack(
                        rx.heading("Sign in", size="7", as_="h1"),
                        notice_callout(LoginState.notice, id="login-notice"),
                        error_callout(LoginState.error, id="login-error"),
                        _field("Email", "email", type="email", auto_complete="username", required=True,
                               auto_focus=True),
                        _field("Password", "password", type="password", auto_complete="current-password",
                               required=True, max_length=128),
                        _field("Authenticator code", "code",
                               hint="Only if you have set up two-step sign-in: the 6-digit code, "
                                    "or a recovery code.",
                               input_mode="numeric", auto_complete="one-time-code", max_length=16),
                        rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                        rx.button("Sign in", type="submit", size="3", width="100%", min_height="44px"),
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
                ),
                width="100%",
                max_width="440px",
                size="3",
            ),
            width="100%",
            padding_y="1.5rem",
        )
    )
