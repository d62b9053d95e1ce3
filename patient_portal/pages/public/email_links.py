"""Emailed-link pages: /forgot-password asks for a link, /reset-password?t=… chooses the new password,
/verify-email?t=… confirms a new account's address."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, notice_callout
from patient_portal.components.forms import TAP, primary_button
from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.state.password_reset import PasswordResetState as R
from patient_portal.state.verify_email import VerifyEmailState as V


def _input(label: str, name: str, type_: str, hint: str = "", **props) -> rx.Component:
    field_id = f"reset-{name}"
    return rx.vstack(
        rx.el.label(rx.text(label, weight="medium", size="2"), html_for=field_id),
        rx.input(id=field_id, name=name, type=type_, size="3", width="100%", min_height=TAP, **props),
        rx.text(hint, size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
        spacing="1", width="100%",
    )


def _card(*children: rx.Component) -> rx.Component:
    return public_shell(
        rx.center(rx.card(rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width="440px",
                          size="3"), width="100%", padding_y="6"),
    )


@rx.page(route="/forgot-password", title=f"Forgotten password — {PRODUCT_NAME}", on_load=R.load_request)
def forgot_password() -> rx.Component:
    return _card(
        rx.heading("Forgotten password", size="7", as_="h1"),
        rx.cond(
            R.sent,
            notice_callout(R.sent, id="reset-sent"),
            rx.form(
                rx.vstack(
                    rx.text("Enter the email address you sign in with. We will email you a link to choose a "
                            "new password.", color=rx.color("gray", 11)),
                    _input("Email", "email", "email", auto_complete="username", required=True, auto_focus=True),
                    primary_button("Email me a link", type="submit", loading=R.saving, width="100%",
                                   id="reset-request"),
                    spacing="4", width="100%",
                ),
                on_submit=R.request, width="100%",
            ),
        ),
        rx.link("Back to sign in", href="/login"),
    )


def _choose_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            error_callout(R.error, id="reset-error"),
            _input("New password", "password", "password", hint="At least 12 characters; a phrase is easiest.",
                   auto_complete="new-password", required=True, max_length=128, auto_focus=True),
            _input("New password again", "password_again", "password", auto_complete="new-password",
                   required=True, max_length=128),
            primary_button("Save the new password", type="submit", loading=R.saving, width="100%",
                           id="reset-save"),
            spacing="4", width="100%",
        ),
        on_submit=R.choose, reset_on_submit=False, width="100%",
    )


def _worked(message: str, element_id: str) -> rx.Component:
    """The link did its job: say so, and offer to sign in."""
    return rx.vstack(
        rx.callout(message, icon="circle-check", color_scheme="green", role="status", id=element_id, width="100%"),
        rx.link(primary_button("Sign in"), href="/login"),
        spacing="4", width="100%",
    )


def _link_failed(message, element_id: str, again: str, href: str) -> rx.Component:
    """The link cannot be used: say why, and where to get a new one."""
    return rx.vstack(error_callout(message, id=element_id), rx.link(again, href=href), spacing="4", width="100%")


def _checking(ready, failed: rx.Component) -> rx.Component:
    return rx.cond(ready, failed, rx.text("Checking the link…", color=rx.color("gray", 11)))


@rx.page(route="/reset-password", title=f"Choose a new password — {PRODUCT_NAME}", on_load=R.load_reset)
def reset_password() -> rx.Component:
    return _card(
        rx.heading("Choose a new password", size="7", as_="h1"),
        rx.cond(
            R.done,
            _worked("Your password was changed and every other sign-in of this account was ended. Sign in with "
                    "the new password.", "reset-done"),
            rx.cond(
                R.link_ok,
                _choose_form(),
                _checking(R.checked, _link_failed(
                    rx.cond(R.error, R.error, "This link has expired or was already used. Ask for a new one below."),
                    "reset-error", "Email me a new link", "/forgot-password")),
            ),
        ),
    )


@rx.page(route="/verify-email", title=f"Confirm your email — {PRODUCT_NAME}", on_load=V.load)
def verify_email() -> rx.Component:
    return _card(
        rx.heading("Confirm your email", size="7", as_="h1"),
        rx.cond(
            V.confirmed,
            _worked("Your email address is confirmed. Your record stays pending an identity check until you show "
                    "a photo ID at the front desk; until then you see only what you entered.", "verify-done"),
            _checking(V.checked, _link_failed(
                "This link has expired or is not valid. Register again with the same address to get a new one.",
                "verify-error", "Register again", "/register")),
        ),
    )
