"""/patient/appointments — "Your appointments": what is coming up (move, cancel behind a confirm, ask
for an earlier time, take a held offer), the waitlist, past visits, and booking (what the visit is
for → which doctor → a day → a free time, with a reason). Refusals come from the service in plain
words ("Appointments can be booked from 24 hours ahead …"). And the next appointment card of the
patient's home. Phone first: everything stacks; the free times wrap in a grid of large buttons."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import checking, error_callout
from patient_portal.components.forms import (
    choice_field,
    form_field,
    primary_button,
    secondary_button,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.pages.appointments.common import (
    MUTED,
    TAP,
    cancel_button,
    join_button,
    status_badge,
    time_choices,
)
from patient_portal.state.appointments import FORM_ID
from patient_portal.state.appointments import NextAppointmentState as N
from patient_portal.state.appointments import PatientAppointmentsState as P
from patient_portal.state.session import SessionState

add_nav_item("patient", "Appointments", "/patient/appointments", "calendar")


def _booking_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(P.moving, "Move your appointment", "Book an appointment"), size="5", as_="h2"),
            rx.cond(P.moving, rx.text("Now: ", P.moving_words, size="2", color=MUTED),
                    choice_field("What is the visit for?", "book-visit-type", P.visit_types, P.visit_type_id,
                                 P.set_visit_type, required=True, placeholder="Choose the kind of visit")),
            rx.cond(P.visit_type_id & ~P.moving, choice_field(
                "Doctor", "book-doctor", P.doctors, P.doctor_id, P.set_doctor, required=True,
                placeholder="Choose a doctor",
                hint="Your care team's doctors; any doctor for a new-patient visit.")),
            rx.cond(P.doctor_id, rx.vstack(
                form_field("Day", "book-day", P.day, P.set_day, type_="date", required=True),
                rx.cond(P.day_message, rx.callout(P.day_message, icon="info", color_scheme="amber", high_contrast=True,
                                                  width="100%", id="booking-day-message", role="status")),
                rx.cond(P.next_free.contains("start"), rx.button(
                    "Next free time: ", P.next_free["when"], variant="soft", size="3", min_height=TAP, type="button",
                    on_click=P.show_next_free, id="booking-next-free")),
                rx.cond(P.times.length() > 0, rx.vstack(
                    rx.text("Free times (clinic time)", size="2", weight="medium"),
                    time_choices(P.times, P.chosen, P.choose, label="time", error=P.form_errors["start"]),
                    spacing="2", width="100%")),
                spacing="3", width="100%")),
            rx.cond(P.chosen & ~P.moving, textarea_field(
                "Reason for the visit (optional)", "book-reason", P.reason, P.set_reason, error=P.form_errors["reason"],
                hint="A few words for your doctor, e.g. “Blood pressure check”.", rows="2")),
            error_callout(P.form_error, id="booking-error"),
            rx.flex(
                primary_button(rx.cond(P.moving, "Move to this time", "Book this time"), on_click=P.save, type="button",
                               id="booking-save", loading=P.saving, disabled=~P.chosen),
                secondary_button("Close", on_click=P.close_panel, type="button"),
                spacing="3", wrap="wrap",
            ),
            spacing="4", width="100%",
        ),
        id=FORM_ID, width="100%",
    )


def _upcoming(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row["when"], weight="bold", size="4"), status_badge(row), spacing="2", align="center",
                      wrap="wrap"),
            rx.text(row["visit_type"], " with ", row["doctor"], size="3"),
            rx.cond(row["reason"], rx.text("Reason: ", row["reason"], size="2", color=MUTED)),
            rx.cond(row["offered"], rx.callout(
                rx.vstack(rx.text("This earlier time is held for you until ", row["hold_until"], "."),
                          rx.button("Take this time", size="3", min_height=TAP, type="button",
                                    on_click=P.take_offer(row["id"]), class_name="take-offer"),
                          spacing="2"),
                icon="clock", color_scheme="violet", width="100%")),
            rx.flex(
                join_button(row, row["doctor"]),
                rx.cond(row["can_reschedule"], rx.button(rx.icon("calendar-clock", size=16), "Move", variant="soft",
                                                         size="3", min_height=TAP, type="button",
                                                         on_click=P.open_move(row["id"]), class_name="move-appointment",
                                                         aria_label="Move the appointment on " + row["when"].to(str))),
                rx.cond(row["can_wait"], rx.button(rx.icon("bell-ring", size=16), "Tell me if an earlier time frees up",
                                                   variant="soft", size="3", min_height=TAP, type="button",
                                                   on_click=P.wait_for_earlier(row["id"]), class_name="join-waitlist",
                                                   white_space="normal", height="auto")),
                rx.cond(row["can_cancel"], cancel_button(
                    row, P.cancel(row["id"]),
                    description="The time is offered to other patients. Cancelling less than a day before counts "
                                "as a late cancellation.")),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="appointment-card",
    )


def _waiting(row: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(rx.text(row["text"], size="3"), rx.text(row["status"], size="2", color=MUTED), spacing="1"),
            rx.spacer(),
            rx.button("Leave the waitlist", variant="soft", size="3", min_height=TAP, type="button",
                      on_click=P.leave_waitlist(row["id"])),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
        ),
        width="100%", class_name="waitlist-entry",
    )


def _past(row: Any) -> rx.Component:
    return rx.flex(
        rx.text(row["when"], weight="medium", min_width="11rem"),
        rx.text(row["visit_type"], " with ", row["doctor"], size="2"),
        status_badge(row),
        spacing="2", wrap="wrap", align="center", width="100%", padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}", class_name="past-appointment",
    )


def _view() -> rx.Component:
    return rx.vstack(
        page_header("Your appointments", "Book, move or cancel your visits with the clinic.",
                    rx.cond(~P.panel_open & ~P.paused,
                            primary_button("Book an appointment", on_click=P.open_booking, type="button",
                                           id="book-appointment"))),
        rx.cond(P.paused, rx.callout(
            "Online booking is paused because of missed appointments. Please call the clinic to book.",
            icon="phone", color_scheme="amber", high_contrast=True, width="100%", id="booking-paused")),
        rx.text(P.reminders_by, " ", rx.link("Change how we contact you", href="/patient/record", underline="always"),
                size="2", color=MUTED),
        error_callout(P.error, id="appointments-error"),
        rx.cond(P.panel_open, _booking_panel()),
        rx.heading("Coming up", size="5", as_="h2"),
        rx.cond(P.upcoming.length() > 0,
                rx.vstack(rx.foreach(P.upcoming, _upcoming), spacing="3", width="100%", id="upcoming"),
                empty_state("calendar", "No upcoming appointments", "Book one with Book an appointment above.")),
        rx.cond(P.waitlist.length() > 0, rx.vstack(
            rx.heading("Waiting for an earlier time", size="5", as_="h2"),
            rx.foreach(P.waitlist, _waiting), spacing="3", width="100%", id="waitlist")),
        rx.heading("Past appointments", size="5", as_="h2"),
        rx.cond(P.attendance, rx.text(P.attendance, size="2", color=MUTED)),
        rx.cond(P.past.length() > 0, rx.vstack(rx.foreach(P.past, _past), spacing="0", width="100%", id="past"),
                rx.text("Your past visits appear here.", size="2", color=MUTED)),
        spacing="4", width="100%",
    )


@rx.page(route="/patient/appointments", title=f"Your appointments — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), P.load])
def patient_appointments() -> rx.Component:
    return role_shell(
        "patient",
        rx.match(P.status, ("ok", _view()),
                 ("missing", rx.callout("Your account is not linked to a health record yet. Ask the clinic.",
                                        icon="info", width="100%")),
                 checking()),
        title="Your appointments",
    )


def next_appointment_card() -> rx.Component:
    """The patient's home: what is next (or how to book)."""
    a = N.next_appointment
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("calendar", size=24, color=rx.color("accent", 11)),
                      rx.heading("Your next appointment", size="4", as_="h2"), spacing="3", align="center"),
            rx.match(
                N.next_status,
                ("ok", rx.cond(a.contains("id"), rx.vstack(
                    rx.hstack(rx.text(a["when"], weight="bold", size="4"), status_badge(a), spacing="2", wrap="wrap",
                              align="center"),
                    rx.text(a["visit_type"], " with ", a["doctor"], size="3"),
                    rx.link("See or change your appointments", href="/patient/appointments", min_height=TAP,
                            display="flex", align_items="center"),
                    spacing="1", id="next-appointment"),
                    rx.vstack(rx.text("No appointment booked.", size="2", color=MUTED),
                              rx.link("Book an appointment", href="/patient/appointments", min_height=TAP,
                                      display="flex", align_items="center"),
                              spacing="1", id="next-appointment"))),
                ("failed", rx.text("Your appointments could not be loaded. Reload the page.", size="2",
                                   color=rx.color("red", 11))),
                rx.text("Loading…", size="2", color=MUTED),
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )
