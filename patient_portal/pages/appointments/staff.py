"""/staff/appointments — the front desk's appointments: book for a patient (find them; "first
available" for a visit type or a doctor and dates; book with a reason; move, cancel with a reason,
put them on the waitlist; a flag when their self-booking is paused), each doctor's day and week
(check in, no-show, approve, cancel), and the portal bookings waiting for approval. And the card of
notices (what patients booked, moved or cancelled online) on the staff dashboard."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    choice_field,
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.core.access import Action
from patient_portal.pages.appointments.common import (
    MUTED,
    TAP,
    cancel_button,
    paused_flag,
    reason_picker,
    schedule_controls,
    schedule_rows,
    status_badge,
    time_choices,
)
from patient_portal.state.schedule import BOOK_FORM_ID
from patient_portal.state.schedule import NoticesState as N
from patient_portal.state.schedule import ScheduleState as S
from patient_portal.state.schedule import StaffBookingState as B
from patient_portal.state.session import SessionState

add_nav_item("staff", "Appointments", "/staff/appointments", "calendar", needs=Action.APPOINTMENT_READ)


# ---------------------------------------------------------------- the patient


def _result(row: Any) -> rx.Component:
    return rx.flex(
        rx.vstack(rx.text(row["name"], weight="medium"),
                  rx.text("Born ", row["dob"], " (", row["age"], ") · MRN ", row["mrn"], size="2", color=MUTED),
                  spacing="0"),
        rx.spacer(),
        rx.button("Choose", size="3", min_height=TAP, type="button", on_click=B.choose_patient(row["id"]),
                  aria_label="Choose " + row["name"].to(str), class_name="choose-patient"),
        spacing="2", align="center", width="100%", padding_y="0.25rem",
    )


def _find_patient() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.flex(
                rx.box(form_field("Find the patient", "booking-patient-search", B.query, B.set_query, name="query",
                                  hint="Name, date of birth, MRN, phone or email."), flex="1", width="100%"),
                primary_button("Find", type="submit", id="booking-patient-find"),
                spacing="2", align=rx.breakpoints(initial="stretch", sm="center"),
                direction=rx.breakpoints(initial="column", sm="row"), width="100%",
            ),
            on_submit=B.search, reset_on_submit=False, width="100%",
        ),
        rx.cond(B.search_message, rx.text(B.search_message, size="2", color=MUTED, role="status")),
        rx.vstack(rx.foreach(B.results, _result), spacing="1", width="100%", id="booking-patient-results"),
        spacing="2", width="100%",
    )


def _their_appointment(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row["when"], "–", row["end"], weight="bold"), status_badge(row), spacing="2", wrap="wrap",
                      align="center"),
            rx.text(row["visit_type"], " with ", row["doctor"], size="2"),
            rx.flex(
                rx.cond(row["can_reschedule"], rx.button("Move", variant="soft", size="3", min_height=TAP,
                                                         type="button", on_click=B.start_move(row["id"]),
                                                         aria_label="Move the appointment on " + row["when"].to(str))),
                rx.cond(row["can_cancel"] & (row["status"] == "booked"),
                        rx.button("Waitlist for earlier", variant="soft", size="3", min_height=TAP, type="button",
                                  on_click=B.wait_for_earlier(row["id"]))),
                rx.cond(row["can_cancel"], cancel_button(row, B.cancel(row["id"]), reason_picker=reason_picker(B),
                                                         description="The patient is told, and the time is offered "
                                                                     "to the waitlist.")),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="patient-appointment",
    )


def _chosen_patient() -> rx.Component:
    p = B.patient
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.text(p["name"], weight="bold", size="4", id="booking-patient"),
                      rx.text("Born ", p["dob"], " (", p["age"], ") · MRN ", p["mrn"], size="2", color=MUTED),
                      spacing="0"),
            rx.spacer(),
            secondary_button("Change patient", on_click=B.change_patient, type="button"),
            spacing="2", width="100%", wrap="wrap", align="center",
        ),
        rx.cond(B.paused, rx.badge(rx.icon("flag", size=12), "Self-booking paused (no-shows): book by phone",
                                   color_scheme="red", high_contrast=True, size="2", id="patient-paused")),
        rx.text(B.attendance, size="2", color=MUTED),
        rx.cond(B.appointments.length() > 0,
                rx.vstack(rx.foreach(B.appointments, _their_appointment), spacing="2", width="100%"),
                rx.text("No upcoming appointments.", size="2", color=MUTED)),
        rx.foreach(B.waitlist, lambda w: rx.text("Waitlist: ", w["text"], size="2", color=MUTED)),
        spacing="2", width="100%",
    )


# ---------------------------------------------------------------- finding a time and booking


def _find_time() -> rx.Component:
    return rx.vstack(
        rx.heading(rx.cond(B.moving, "Move to another time", "Find a time"), size="4", as_="h3"),
        rx.cond(B.moving, rx.callout(rx.hstack(rx.text("Moving: ", B.moving_words),
                                               rx.button("Stop", variant="soft", size="2", on_click=B.stop_move,
                                                         type="button"), spacing="2", align="center", wrap="wrap"),
                                     icon="calendar-clock", width="100%")),
        field_grid(
            choice_field("Visit type", "booking-visit-type", B.visit_types, B.visit_type_id, B.set_visit_type,
                         required=True, disabled=B.moving != ""),
            choice_field("Doctor", "booking-doctor", B.doctors, B.doctor_id, B.set_doctor,
                         first=("any", "Any doctor (first available)")),
            form_field("From", "booking-from", B.date_from, B.set_date_from, type_="date", hint="Empty: from now."),
            form_field("Until", "booking-until", B.date_to, B.set_date_to, type_="date", error=B.form_errors["date_to"]),
        ),
        secondary_button("Find free times", on_click=B.find_times, type="button", id="booking-find"),
        rx.cond(B.slots_message, rx.text(B.slots_message, size="2", color=MUTED, role="status")),
        rx.cond(B.slots.length() > 0, time_choices(B.slots, B.chosen, B.choose, key="key", label="label",
                                                   error=B.form_errors["start"], field_id="booking-slots")),
        rx.cond(B.chosen & ~B.moving, textarea_field("Reason for the visit", "booking-reason", B.reason, B.set_reason,
                                                     rows="2")),
        error_callout(B.form_error, id="booking-error"),
        rx.cond(B.chosen, primary_button(rx.cond(B.moving, "Move here", "Book"), on_click=B.book, type="button",
                                         id="booking-book")),
        spacing="3", width="100%", id=BOOK_FORM_ID,
    )


def _book_tab() -> rx.Component:
    return rx.vstack(
        rx.card(rx.vstack(rx.heading("Patient", size="4", as_="h3"),
                          rx.cond(B.patient.contains("id"), _chosen_patient(), _find_patient()),
                          error_callout(B.error, id="booking-patient-error"), spacing="3", width="100%"),
                width="100%"),
        rx.card(_find_time(), width="100%"),
        spacing="4", width="100%",
    )


def _schedule_tab() -> rx.Component:
    return rx.vstack(
        schedule_controls(S, pick_doctor=True),
        rx.cond(S.heading, rx.heading(S.doctor_name, ": ", S.heading, size="4", as_="h3")),
        error_callout(S.message, id="schedule-error"),
        schedule_rows(S, staff=True, empty_text="Nobody booked."),
        spacing="3", width="100%",
    )


def _approvals_tab() -> rx.Component:
    def one(row: Any) -> rx.Component:
        return rx.card(rx.flex(
            rx.vstack(rx.text(row["when"], " · ", row["patient"], weight="medium"),
                      rx.text(row["visit_type"], " with ", row["doctor"], size="2", color=MUTED),
                      rx.cond(row["reason"], rx.text("Reason: ", row["reason"], size="2")), paused_flag(row),
                      spacing="1"),
            rx.spacer(),
            rx.button("Approve", size="3", min_height=TAP, type="button", on_click=S.approve(row["id"]),
                      aria_label="Approve the booking of " + row["patient"].to(str), class_name="approve"),
            spacing="2", width="100%", wrap="wrap", align="center"), width="100%")

    return rx.cond(S.pending.length() > 0, rx.vstack(rx.foreach(S.pending, one), spacing="2", width="100%"),
                   empty_state("circle-check", "Nothing waits for approval",
                               "When the clinic's rules ask for approval, portal bookings appear here."))


def _view() -> rx.Component:
    return rx.vstack(
        page_header("Appointments", "Book for a patient, see each doctor's day, check patients in."),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Book", value="book", min_height=TAP),
                rx.tabs.trigger("Day and week", value="schedule", min_height=TAP, id="tab-schedule"),
                rx.tabs.trigger(rx.hstack(rx.text("Approvals"), rx.cond(S.pending.length() > 0,
                                                                        rx.badge(S.pending.length(), color_scheme="amber",
                                                                                 high_contrast=True)), spacing="2"),
                                value="approvals", min_height=TAP),
            ),
            rx.tabs.content(rx.box(_book_tab(), padding_top="1rem"), value="book"),
            rx.tabs.content(rx.box(_schedule_tab(), padding_top="1rem"), value="schedule"),
            rx.tabs.content(rx.box(_approvals_tab(), padding_top="1rem"), value="approvals"),
            default_value="book", width="100%",
        ),
        spacing="3", width="100%",
    )


@rx.page(route="/staff/appointments", title=f"Appointments — {PRODUCT_NAME}",
         on_load=[SessionState.require("staff"), B.load, S.load_clinic])
def staff_appointments() -> rx.Component:
    return role_shell(
        "staff",
        rx.match(B.booking_status, ("ok", _view()), ("denied", not_permitted(SessionState.home)), checking()),
        title="Appointments",
    )


# ---------------------------------------------------------------- the staff dashboard's card


def _notice(row: Any) -> rx.Component:
    return rx.hstack(
        rx.cond(row["read"], rx.icon("circle", size=12, color=MUTED, aria_label="Read"),
                rx.icon("circle-dot", size=12, color=rx.color("accent", 11), aria_label="New")),
        rx.vstack(rx.text(row["patient"], " ", row["what"], " ", row["when"], size="2", weight="medium"),
                  rx.text(row["doctor"], " · ", row["at"], size="1", color=MUTED), spacing="0"),
        spacing="2", align="start", class_name="appointment-notice",
    )


def notices_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("bell", size=24, color=rx.color("accent", 11)),
                      rx.heading("Online bookings", size="4", as_="h2"),
                      rx.cond(N.unread > 0, rx.badge(N.unread, " new", color_scheme="amber", high_contrast=True)),
                      spacing="3", align="center"),
            rx.match(
                N.notices_status,
                ("ok", rx.cond(N.notices.length() > 0,
                               rx.vstack(rx.foreach(N.notices, _notice), spacing="2", width="100%"),
                               rx.text("Nothing yet: bookings, changes and cancellations patients make online appear "
                                       "here.", size="2", color=MUTED))),
                ("failed", rx.text("The notices could not be loaded. Reload the page.", size="2",
                                   color=rx.color("red", 11))),
                rx.text("Loading…", size="2", color=MUTED),
            ),
            rx.flex(
                rx.cond(N.unread > 0, rx.button("Mark all as read", variant="soft", size="2", min_height=TAP,
                                                type="button", on_click=N.mark_read)),
                rx.link("Open appointments", href="/staff/appointments", min_height=TAP, display="flex",
                        align_items="center"),
                spacing="3", align="center", wrap="wrap",
            ),
            error_callout(N.notices_error),
            spacing="2", width="100%",
        ),
        width="100%", id="appointment-notices",
    )
