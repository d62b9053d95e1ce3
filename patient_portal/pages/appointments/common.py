"""Pieces every appointment screen draws: the status badge, a grid of free times to choose from, an
appointment's line, and a doctor's day or week (day headings, then who is coming, what for, and
whether they have checked in) with the actions this person may take."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.tables import empty_state

TAP = "44px"
MUTED = rx.color("gray", 11)


def status_badge(row: Any) -> rx.Component:
    words = row["status_words"]
    return rx.match(
        row["status"],
        ("booked", rx.badge(words, color_scheme="blue", high_contrast=True, size="2")),
        ("pending", rx.badge(words, color_scheme="amber", high_contrast=True, size="2")),
        ("proposed", rx.badge(words, color_scheme="violet", high_contrast=True, size="2")),
        ("arrived", rx.badge(rx.icon("circle-check", size=12), words, color_scheme="green", high_contrast=True,
                             size="2")),
        ("fulfilled", rx.badge(words, color_scheme="green", high_contrast=True, size="2")),
        ("noshow", rx.badge(words, color_scheme="red", high_contrast=True, size="2")),
        rx.badge(words, color_scheme="gray", high_contrast=True, size="2"),
    )


def paused_flag(row: Any) -> rx.Component:
    return rx.cond(row["paused"], rx.badge(rx.icon("flag", size=12), "Self-booking paused (no-shows)",
                                           color_scheme="red", high_contrast=True, size="2", class_name="paused-flag"))


def time_choices(times: Any, chosen: Any, on_choose: Any, *, key: str = "start", label: str = "time",
                 error: Any = "", field_id: str = "booking-times") -> rx.Component:
    """Free times as buttons (pressed: the chosen one); `label` names what each button shows."""
    def one(t: Any) -> rx.Component:
        picked = chosen == t[key]
        return rx.button(t[label], variant=rx.cond(picked, "solid", "outline"), size="3", min_height=TAP,
                         type="button", on_click=on_choose(t[key]), aria_pressed=rx.cond(picked, "true", "false"),
                         class_name="time-choice", white_space="normal", height="auto")

    return rx.vstack(
        rx.grid(rx.foreach(times, one), columns=rx.breakpoints(initial="3", sm="4", md="6"), spacing="2", width="100%",
                id=field_id, role="group", aria_label="Free times"),
        rx.cond(error, rx.text(error, size="2", color=rx.color("red", 11), id=field_id + "-error",
                               class_name="field-error")),
        spacing="1", width="100%",
    )


def cancel_button(row: Any, on_confirm: Any, *, label: str = "Cancel", reason_picker: rx.Component | None = None,
                  description: Any = "") -> rx.Component:
    """Cancel behind a confirm that says what happens (and, for staff, asks why)."""
    title = "Cancel the appointment on " + row["when"].to(str) + "?"
    return confirm_dialog(
        rx.button(rx.icon("calendar-x", size=16), label, variant="soft", color_scheme="red", size="3", min_height=TAP,
                  type="button", class_name="cancel-appointment",
                  aria_label="Cancel the appointment on " + row["when"].to(str)),
        title, description, "Cancel the appointment", on_confirm, confirm_id="confirm-cancel", body=reason_picker)


# ---------------------------------------------------------------- a doctor's day or week


def join_button(row: Any, who: Any) -> rx.Component:
    """The Join button of a video visit open now (its row's `can_join`): a plain link to the call's page,
    drawn as a button. A full page load, not the app's in-page navigation: the camera and microphone are
    allowed only to documents loaded from /video/ (their Permissions-Policy header), and a document keeps
    the policy it was loaded with."""
    return rx.cond(row["can_join"], rx.button(
        rx.link(rx.icon("video", size=16), "Join video visit", href=row["join"].to(str), reload_document=True,
                underline="none", color="inherit", aria_label="Join the video visit with " + who.to(str)),
        as_child=True, size="3", min_height=TAP, class_name="join-video"))


def _schedule_item(row: Any, state: Any, staff: bool) -> rx.Component:
    actions = rx.flex(
        join_button(row, row["patient"]),
        rx.cond(row["can_check_in"], rx.button(rx.icon("log-in", size=16), "Check in", size="3", min_height=TAP,
                                               type="button", on_click=state.check_in(row["id"]),
                                               class_name="check-in",
                                               aria_label="Check in " + row["patient"].to(str))),
        rx.cond(row["can_approve"], rx.button("Approve", size="3", min_height=TAP, type="button",
                                              on_click=state.approve(row["id"]), class_name="approve",
                                              aria_label="Approve the booking of " + row["patient"].to(str))),
        rx.cond(row["can_mark_no_show"], confirm_dialog(
            rx.button(rx.icon("user-x", size=16), "No-show", variant="soft", color_scheme="red", size="3",
                      min_height=TAP, type="button", class_name="no-show",
                      aria_label="Mark " + row["patient"].to(str) + " as a no-show"),
            "Mark " + row["patient"].to(str) + " as a no-show?",
            "It counts towards the clinic's no-show rule; after too many, their online booking pauses.",
            "Mark as no-show", state.no_show(row["id"]), confirm_id="confirm-no-show")),
        rx.cond(row["can_cancel"], cancel_button(row, state.cancel(row["id"]), reason_picker=reason_picker(state),
                                                 description="The patient is told, and the time is offered to the "
                                                             "waitlist.")) if staff else rx.fragment(),
        spacing="2", wrap="wrap",
    )
    return rx.card(
        rx.flex(
            rx.vstack(rx.text(row["time"], "–", row["end"], weight="bold", size="4"),
                      rx.text(row["visit_type"], size="2", color=MUTED), spacing="0", min_width="7rem"),
            rx.vstack(
                rx.hstack(rx.link(row["patient"], href=row["chart"], weight="medium", size="3",
                                  class_name="schedule-patient"),
                          status_badge(row), rx.cond(row["checked_in"], rx.text(row["checked_in"], size="2")),
                          paused_flag(row), spacing="2", align="center", wrap="wrap"),
                rx.cond(row["reason"], rx.text("Reason: ", row["reason"], size="2")),
                actions,
                spacing="2", width="100%",
            ),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="3", width="100%",
        ),
        width="100%", class_name="schedule-item",
    )


def reason_picker(state: Any) -> rx.Component:
    from patient_portal.state.schedule import CANCEL_OPTIONS

    return rx.vstack(
        rx.el.label(rx.text("Why is it cancelled?", size="2", weight="medium"), html_for="cancel-reason"),
        rx.select.root(rx.select.trigger(id="cancel-reason", width="100%", min_height=TAP),
                       rx.select.content(*[rx.select.item(words, value=code) for code, words in CANCEL_OPTIONS]),
                       value=state.cancel_reason, on_change=state.set_cancel_reason, size="3"),
        spacing="1", width="100%",
    )


def schedule_rows(state: Any, *, staff: bool, empty_text: str) -> rx.Component:
    def row(r: Any) -> rx.Component:
        return rx.match(
            r["kind"],
            ("day", rx.heading(r["day"], size="4", as_="h3", padding_top="0.5rem", class_name="schedule-day")),
            ("empty", rx.text(empty_text, size="2", color=MUTED, class_name="schedule-empty")),
            _schedule_item(r, state, staff),
        )

    return rx.cond(state.rows.length() > 0, rx.vstack(rx.foreach(state.rows, row), spacing="2", width="100%",
                                                       id="schedule"),
                   empty_state("calendar", "Nothing to show", "Choose a doctor and a day."))


def schedule_controls(state: Any, *, pick_doctor: bool) -> rx.Component:
    """The doctor (staff), day or week, and moving through the days."""
    from patient_portal.components.forms import choice_field, form_field

    def toggle(value: str, words: str) -> rx.Component:
        on = state.days == value
        return rx.button(words, variant=rx.cond(on, "solid", "soft"), size="3", min_height=TAP, type="button",
                         on_click=state.set_days(value), aria_pressed=rx.cond(on, "true", "false"),
                         id=f"show-{'day' if value == '1' else 'week'}")

    return rx.flex(
        choice_field("Doctor", "schedule-doctor", state.doctors, state.doctor_id, state.set_doctor)
        if pick_doctor else rx.fragment(),
        form_field("Day", "schedule-day", state.day, state.set_day, type_="date"),
        rx.hstack(toggle("1", "Day"), toggle("7", "Week"), spacing="1", role="group", aria_label="Show"),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), variant="soft", size="3", min_height=TAP, min_width=TAP,
                      type="button", on_click=state.previous, aria_label="Earlier"),
            rx.button("Today", variant="soft", size="3", min_height=TAP, type="button", on_click=state.today),
            rx.button(rx.icon("chevron-right", size=16), variant="soft", size="3", min_height=TAP, min_width=TAP,
                      type="button", on_click=state.following, aria_label="Later"),
            spacing="1",
        ),
        direction=rx.breakpoints(initial="column", md="row"), spacing="3", align=rx.breakpoints(initial="stretch",
                                                                                              md="end"),
        width="100%", wrap="wrap",
    )
