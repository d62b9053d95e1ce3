"""Sign-in security: change the password, set up two-step sign-in (authenticator app) and recovery codes,
see where the account is signed in and sign other devices out."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, notice_callout, success_callout
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.state.account import AccountState
from patient_portal.state.session import SessionState


def _code_form(on_submit, button: str, form_id: str) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.el.label("Code from your authenticator app", html_for=f"{form_id}-code",
                        style={"font_weight": "500"}),
            rx.input(id=f"{form_id}-code", name="code", input_mode="numeric", auto_complete="one-time-code",
                     max_length=8, size="3", required=True),
            rx.button(button, type="submit", size="3", min_height="44px"),
            spacing="2",
            align="start",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        id=form_id,
    )


def _enrolment() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Scan this code", size="4", as_="h2"),
            rx.text("Open your authenticator app (for example Aegis, Google Authenticator or 1Password), "
                    "add an account and scan the code. Then enter the 6-digit code it shows."),
            rx.image(src=AccountState.qr, alt="QR code to add this account to an authenticator app",
                     width="220px", height="220px", id="mfa-qr"),
            rx.text("Can't scan? Enter this key instead:", size="2"),
            rx.code(AccountState.manual_key, size="3", id="mfa-key"),
            _code_form(AccountState.confirm, "Turn on two-step sign-in", "mfa-confirm"),
            spacing="3",
        ),
        width="100%",
    )


def _recovery_codes() -> rx.Component:
    return rx.cond(
        AccountState.recovery_codes.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Your recovery codes", size="4", as_="h2"),
                rx.text("Each code works once, if you lose your phone. They are shown only now: "
                        "print them or store them in a password manager."),
                rx.el.ul(rx.foreach(AccountState.recovery_codes, lambda c: rx.el.li(rx.code(c, size="3"))),
                         id="recovery-codes", style={"columns": "2", "padding_left": "1.25rem"}),
                rx.hstack(
                    rx.button("I have saved them", on_click=AccountState.hide_codes, size="3",
                              min_height="44px"),
                    rx.link(rx.button("Continue", variant="outline", size="3", min_height="44px"),
                            href=SessionState.home),
                    spacing="3", wrap="wrap",
                ),
                spacing="3",
            ),
            width="100%",
        ),
    )


def _status() -> rx.Component:
    return rx.card(
        rx.cond(
            AccountState.mfa_enabled,
            rx.vstack(
                rx.hstack(rx.icon("shield-check", color=rx.color("green", 11)),
                          rx.text("Two-step sign-in is on.", weight="medium", id="mfa-on"), spacing="2"),
                rx.text(AccountState.codes_left.to_string() + " recovery codes left.", size="2"),
                rx.text("Lost your codes? Make new ones (the old ones stop working):", size="2"),
                _code_form(AccountState.renew_codes, "Make new recovery codes", "mfa-renew"),
                spacing="2",
            ),
            rx.vstack(
                rx.text("Two-step sign-in is off. With it on, signing in needs your password and a code "
                        "from an app on your phone.", id="mfa-off"),
                rx.cond(~AccountState.enrolling,
                        rx.button("Set up two-step sign-in", on_click=AccountState.start, size="3",
                                  min_height="44px", id="mfa-start")),
                spacing="3",
            ),
        ),
        width="100%",
    )


def _password_field(label: str, name: str, auto_complete: str, hint: str = "") -> rx.Component:
    field_id = f"pw-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500"}),
        rx.input(id=field_id, name=name, type="password", auto_complete=auto_complete, max_length=128, size="3",
                 required=True, width="100%"),
        rx.text(hint, size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
        spacing="1", width="100%",
    )


def _password() -> rx.Component:
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Password", size="4", as_="h2"),
                error_callout(AccountState.pw_error, id="pw-error"),
                success_callout(AccountState.pw_message, id="pw-done"),
                _password_field("Current password", "current", "current-password"),
                _password_field("New password", "new", "new-password", "At least 12 characters; a phrase is easiest."),
                _password_field("New password again", "again", "new-password"),
                rx.button("Change password", type="submit", size="3", min_height="44px", id="pw-submit"),
                spacing="3", align="start", width="100%", max_width="420px",
            ),
            on_submit=AccountState.change_password,
            reset_on_submit=False,  # a refused change keeps what was typed; success clears it
            id="pw-form",
        ),
        width="100%",
    )


def _device(row) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(rx.text(row["device"], weight="medium"),
                      rx.cond(row["current"], rx.badge("This device", color_scheme="green")), align="center"),
            rx.text(rx.cond(row["ip"] != "", "From " + row["ip"].to(str) + " · ", ""),
                    "last active " + row["last_active"].to(str) + " · signed in " + row["started"].to(str),
                    size="2", color=rx.color("gray", 11)),
            spacing="1",
        ),
        rx.spacer(),
        rx.cond(~row["current"].to(bool),
                rx.button("Sign out", variant="outline", size="2", min_height="44px",
                          aria_label="Sign out " + row["device"].to(str) + ", last active "
                                     + row["last_active"].to(str),
                          on_click=AccountState.sign_out_device(row["id"]))),
        direction=rx.breakpoints(initial="column", sm="row"), gap="2", width="100%",
        padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _devices() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Where you're signed in", size="4", as_="h2"),
            rx.text("Don't recognise one? Sign it out and change your password.", size="2"),
            error_callout(AccountState.dev_error, id="devices-error"),
            success_callout(AccountState.dev_message, id="devices-done"),
            rx.vstack(rx.foreach(AccountState.devices, _device), spacing="0", width="100%", id="devices"),
            rx.cond(AccountState.devices.length() > 1,
                    rx.button("Sign out everywhere else", variant="soft", color_scheme="red", size="3",
                              min_height="44px", on_click=AccountState.sign_out_others, id="devices-end-others")),
            spacing="3", width="100%",
        ),
        width="100%",
    )


@rx.page(route="/account/security", title=f"Sign-in security — {PRODUCT_NAME}",
         on_load=[SessionState.require("account"), AccountState.load])
def security() -> rx.Component:
    return role_shell(
        "account",
        page_header("Sign-in security", "Password, two-step sign-in, recovery codes and where you're signed in"),
        rx.vstack(
            rx.cond(AccountState.required & ~AccountState.mfa_enabled,
                    notice_callout("Your role needs two-step sign-in. Set it up to continue.",
                                   id="mfa-required")),
            error_callout(AccountState.error, id="mfa-error"),
            success_callout(AccountState.message),
            _recovery_codes(),
            _status(),
            rx.cond(AccountState.enrolling, _enrolment()),
            _password(),
            _devices(),
            spacing="4",
            width="100%",
        ),
        title="Sign-in security",
    )
