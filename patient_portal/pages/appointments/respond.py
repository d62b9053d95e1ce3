"""/appointments/respond?t=… — the page a reminder's or an offer's link opens, without signing in:
it says what the link will do (confirm, cancel, take the offered time) with the time and the doctor,
does it when the person presses the button (once), and says plainly what happened or why the link
cannot be used any more."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import primary_button
from patient_portal.components.layout import PRODUCT_NAME, public_shell
from patient_portal.domain.appointments.notify import LINK_PATH
from patient_portal.state.scheduling import AppointmentLinkState as L

MUTED = rx.color("gray", 11)


def _ask() -> rx.Component:
    what = rx.match(L.purpose, ("confirm", "Confirm your appointment"), ("cancel", "Cancel your appointment"),
                    ("accept", "An earlier time for you"), "Your appointment")
    button = rx.match(L.purpose, ("confirm", "Yes, I am coming"), ("cancel", "Cancel the appointment"),
                      ("accept", "Take this time"), "Continue")
    return rx.vstack(
        rx.heading(what, size="7", as_="h1"),
        rx.text(L.when, " with ", L.doctor, " at ", L.clinic, ".", size="4", id="link-appointment"),
        rx.cond(L.purpose == "cancel", rx.text("The time is offered to other patients. To come another day, book "
                                               "again in the portal or call us.", color=MUTED)),
        rx.cond(L.purpose == "accept", rx.text("If you take it, your later appointment for the same visit is "
                                               "cancelled.", color=MUTED)),
        primary_button(button, on_click=L.respond, type="button", loading=L.working, id="link-respond",
                       color_scheme=rx.cond(L.purpose == "cancel", "red", "accent"), high_contrast=True),
        spacing="4", width="100%",
    )


def _card() -> rx.Component:
    return rx.cond(
        L.done,
        rx.vstack(rx.heading("Done", size="7", as_="h1"),
                  rx.callout(L.done, icon="circle-check", color_scheme="green", high_contrast=True, role="status",
                             id="link-done", width="100%"),
                  rx.text(L.when, " with ", L.doctor, color=MUTED),
                  rx.link("Sign in to see your appointments", href="/login"),
                  spacing="4", width="100%"),
        rx.cond(L.usable, _ask(), rx.vstack(rx.heading("Your appointment", size="7", as_="h1"),
                                            error_callout(L.link_message, id="link-error"),
                                            rx.link("Sign in to see your appointments", href="/login"),
                                            spacing="4", width="100%")),
    )


@rx.page(route=LINK_PATH, title=f"Your appointment — {PRODUCT_NAME}", on_load=L.load)
def appointment_link() -> rx.Component:
    return public_shell(
        rx.center(rx.card(rx.cond(L.link_checked, _card(), rx.text("Checking the link…", color=MUTED)), width="100%",
                          max_width="480px", size="3"), width="100%", padding_y="6"),
    )
