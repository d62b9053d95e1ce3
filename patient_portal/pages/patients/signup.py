"""Public self-registration: /register. An account plus the basics of a record, pending an identity check."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import TAP, field_grid, primary_button
from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.pages.patients.fields import SEX
from patient_portal.state.signup import SignupState as S


def _input(label: str, name: str, type_: str = "text", hint: str = "", **props) -> rx.Component:
    field_id = f"signup-{name}"
    return rx.vstack(
        rx.el.label(rx.text(label, weight="medium", size="2"), html_for=field_id),
        rx.input(id=field_id, name=name, type=type_, size="3", width="100%", min_height=TAP,
                 on_blur=lambda v: S.blur_field(name, v), aria_describedby=field_id + "-error", **props),
        rx.text(hint, size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
        rx.cond(S.errors[name], rx.text(S.errors[name], size="2", color=rx.color("red", 11), id=field_id + "-error")),
        spacing="1", width="100%",
    )


def _sex() -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text("Sex", weight="medium", size="2"), html_for="signup-sex"),
        rx.select.root(rx.select.trigger(id="signup-sex", placeholder="Choose…", width="100%", min_height=TAP),
                       rx.select.content(*[rx.select.item(t, value=v) for v, t in SEX]), name="sex", size="3"),
        rx.cond(S.errors["sex"], rx.text(S.errors["sex"], size="2", color=rx.color("red", 11))),
        spacing="1", width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Create your patient account", size="7", as_="h1"),
            rx.text("The clinic checks your identity at your first visit; until then you see only what you "
                    "enter here.", color=rx.color("gray", 11)),
            error_callout(S.error, id="signup-error"),
            field_grid(
                _input("Given name", "given_name", auto_complete="given-name", required=True),
                _input("Family name", "family_name", auto_complete="family-name", required=True),
                _input("Date of birth", "date_of_birth", "date", required=True),
                _sex(),
                _input("Mobile phone", "phone_mobile", "tel", auto_complete="tel"),
                _input("Email", "email", "email", auto_complete="email", required=True),
            ),
            _input("Password", "password", "password", hint="At least 12 characters; a phrase is easiest.",
                   auto_complete="new-password", required=True),
            primary_button("Create account", type="submit", loading=S.saving, width="100%", id="signup-submit"),
            rx.link("Already have an account? Sign in", href="/login"),
            spacing="4", width="100%",
        ),
        on_submit=S.submit,
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.heading("Check your email", size="7", as_="h1"),
        rx.callout(rx.text("We have sent a message to ", rx.text.strong(S.sent_to), ". Open the link in it within "
                           "24 hours to confirm your address and finish creating your account."),
                   icon="mail", color_scheme="blue", role="status", id="signup-sent"),
        rx.text("Nothing arrived? Look in the spam folder, or register again with the same address to get "
                "a new link.", color=rx.color("gray", 11)),
        rx.link("Back to sign in", href="/login"),
        spacing="4",
    )


@rx.page(route="/register", title=f"Create your account — {PRODUCT_NAME}", on_load=S.reset_form)
def signup() -> rx.Component:
    return public_shell(
        rx.center(rx.card(rx.cond(S.done, _done(), _form()), width="100%", max_width="640px", size="3"),
                  width="100%", padding_y="6"),
    )
