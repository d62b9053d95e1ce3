"""/admin/scheduling — the clinic's scheduling: its rules (how far ahead patients book, limits, the
cancellation window, the no-show rule, reminder times, approval), the visit types, each doctor's
weekly hours and the exceptions (vacation, clinic closed, an extra session), and no-show rates by
doctor and by visit type."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    TAP,
    choice_field,
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.scheduling import WEEKDAYS
from patient_portal.state.scheduling import SchedulingSettingsState as A
from patient_portal.state.session import SessionState

add_nav_item("admin", "Scheduling", "/admin/scheduling", "calendar-cog", needs=Action.SCHEDULING_CONFIGURE)
MUTED = rx.color("gray", 11)
RULE_FIELDS = (
    ("min_notice_hours", "Book online at least (hours ahead)"),
    ("max_days_ahead", "Book online at most (days ahead)"),
    ("max_future_bookings", "Upcoming appointments a patient may hold"),
    ("cancellation_window_hours", "Cancellation window (hours): later counts as late"),
    ("no_show_threshold", "No-shows before online booking pauses"),
    ("waitlist_hold_minutes", "How long a freed time is held for a waitlisted patient (minutes)"),
)


def _section(title: str, *children: rx.Component, section_id: str, text: str = "") -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="5", as_="h2"),
                             rx.text(text, size="2", color=MUTED) if text else rx.fragment(),
                             *children, spacing="3", width="100%"), width="100%", id=section_id)


def _check(label: str, field_id: str, checked: Any, on_change: Any) -> rx.Component:
    return rx.el.label(rx.hstack(rx.checkbox(checked=checked, on_change=on_change, id=field_id, size="3"),
                                 rx.text(label, size="3"), align="center", spacing="2", min_height=TAP),
                       html_for=field_id)


def _rule_setter(name: str) -> Any:
    return lambda value: A.set_rule(name, value)


def _rules() -> rx.Component:
    return _section(
        "The clinic's rules",
        field_grid(*[form_field(label, f"rule-{name.replace('_', '-')}", A.rules[name], _rule_setter(name),
                                error=A.rules_errors[name], input_mode="numeric")
                     for name, label in RULE_FIELDS],
                   form_field("Reminders (hours before the visit)", "rule-reminder-hours", A.rules["reminder_hours"],
                              lambda v: A.set_rule("reminder_hours", v), error=A.rules_errors["reminder_hours"],
                              hint="Up to five, e.g. 72, 24.")),
        _check("Portal bookings wait for staff approval", "rule-approval", A.rules["require_approval"] == "true",
               A.set_approval),
        primary_button("Save the rules", on_click=A.save_rules, type="button", id="rules-save"),
        section_id="scheduling-rules",
        text="Patients meet these when they book online; staff book any free time inside the doctors' hours.",
    )


def _type_form() -> rx.Component:
    f, e = A.type_form, A.type_errors
    return rx.card(rx.vstack(
        rx.heading(rx.cond(A.type_editing, "Change the visit type", "New visit type"), size="4", as_="h3"),
        field_grid(
            form_field("Name", "type-name", f["name"], lambda v: A.set_type_field("name", v), error=e["name"],
                       required=True),
            form_field("Code", "type-code", f["code"], lambda v: A.set_type_field("code", v), error=e["code"],
                       hint="Empty: made from the name."),
            form_field("Length (minutes)", "type-duration", f["duration_minutes"],
                       lambda v: A.set_type_field("duration_minutes", v), error=e["duration_minutes"],
                       input_mode="numeric", required=True),
            form_field("Buffer after it (minutes)", "type-buffer", f["buffer_minutes"],
                       lambda v: A.set_type_field("buffer_minutes", v), error=e["buffer_minutes"], input_mode="numeric"),
            select_field("Who may book it", "type-who", [("anyone", "Patients and staff"), ("staff", "Staff only")],
                         f["who_may_book"], lambda v: A.set_type_field("who_may_book", v), error=e["who_may_book"]),
        ),
        rx.flex(
            _check("Patients may book it online", "type-self", f["self_bookable"] == "true",
                   lambda v: A.set_type_field("self_bookable", v)),
            _check("New-patient visit (with any doctor)", "type-new", f["new_patient"] == "true",
                   lambda v: A.set_type_field("new_patient", v)),
            _check("Telehealth (video)", "type-video", f["telehealth"] == "true",
                   lambda v: A.set_type_field("telehealth", v)),
            _check("Offered", "type-active", f["active"] == "true", lambda v: A.set_type_field("active", v)),
            spacing="4", wrap="wrap",
        ),
        rx.flex(primary_button("Save the visit type", on_click=A.save_type, type="button", id="type-save"),
                secondary_button("Cancel", on_click=A.close_type, type="button"), spacing="3", wrap="wrap"),
        spacing="3", width="100%"), width="100%")


def _type_cells(row: Any) -> list[rx.Component]:
    return [rx.table.row_header_cell(row["name"]), rx.table.cell(row["length"]), rx.table.cell(row["who"]),
            rx.table.cell(row["kind"]), rx.table.cell(row["active"]),
            rx.table.cell(rx.button("Change", variant="soft", size="2", min_height=TAP, type="button",
                                    on_click=A.edit_type(row["id"]), aria_label="Change " + row["name"].to(str)))]


def _type_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(rx.text(row["name"], weight="bold"),
                             rx.text(row["length"], " · ", row["who"], " · ", row["active"], size="2"),
                             rx.cond(row["kind"], rx.text(row["kind"], size="2", color=MUTED)),
                             rx.button("Change", variant="soft", size="2", min_height=TAP, type="button",
                                       on_click=A.edit_type(row["id"]), aria_label="Change " + row["name"].to(str)),
                             spacing="1"), width="100%")


def _types() -> rx.Component:
    return _section(
        "Visit types",
        rx.cond(A.types.length() > 0,
                data_table(["Visit type", "Length", "Booked by", "Kind", "Offered", ""], A.types, _type_cells,
                           card=_type_card, caption="Visit types", table_id="visit-types"),
                empty_state("calendar-plus", "No visit types yet", "Add the first one, e.g. Follow-up, 20 minutes.")),
        rx.cond(A.type_open, _type_form(),
                secondary_button("Add a visit type", on_click=A.new_type, type="button", id="type-new")),
        section_id="visit-types-section",
    )


def _remove(label: Any, what: Any, on_confirm: Any) -> rx.Component:
    return confirm_dialog(rx.button(rx.icon("trash-2", size=16), "Remove", variant="ghost", color_scheme="red", size="2",
                                    min_height=TAP, type="button", aria_label="Remove " + what),
                          label, "Times already booked stay booked; no new ones are offered.", "Remove", on_confirm)


def _block(row: Any) -> rx.Component:
    what = row["weekday"].to(str) + " " + row["hours"].to(str)
    return rx.flex(rx.text(row["weekday"], weight="medium", min_width="7rem"), rx.text(row["hours"], min_width="7rem"),
                   rx.text(row["visit_type"], size="2", color=MUTED), rx.spacer(),
                   _remove("Remove " + what + "?", what, A.remove_block(row["id"])),
                   spacing="2", align="center", wrap="wrap", width="100%", class_name="availability-block")


def _exception(row: Any) -> rx.Component:
    what = row["kind"].to(str) + " " + row["days"].to(str)
    return rx.flex(rx.text(row["days"], weight="medium"), rx.badge(row["kind"], size="2", high_contrast=True),
                   rx.text(row["who"], " · ", row["hours"], size="2"), rx.text(row["label"], size="2", color=MUTED),
                   rx.spacer(), _remove("Remove " + what + "?", what, A.remove_exception(row["id"])),
                   spacing="2", align="center", wrap="wrap", width="100%", class_name="availability-exception")


def _hours() -> rx.Component:
    bf, be = A.block_form, A.block_errors
    xf, xe = A.exception_form, A.exception_errors
    return _section(
        "Doctors' hours",
        choice_field("Doctor", "hours-doctor", A.doctors, A.doctor_id, A.set_doctor),
        rx.heading("Every week", size="4", as_="h3"),
        rx.cond(A.blocks.length() > 0, rx.vstack(rx.foreach(A.blocks, _block), spacing="1", width="100%"),
                rx.text("No weekly hours yet: add the first block below.", size="2", color=MUTED)),
        field_grid(
            select_field("Day", "block-weekday", [(str(i), d) for i, d in enumerate(WEEKDAYS)], bf["weekday"],
                         lambda v: A.set_block("weekday", v), error=be["weekday"]),
            form_field("From", "block-start", bf["start_time"], lambda v: A.set_block("start_time", v), type_="time",
                       error=be["start_time"]),
            form_field("Until", "block-end", bf["end_time"], lambda v: A.set_block("end_time", v), type_="time",
                       error=be["end_time"]),
            choice_field("For", "block-type", A.types, bf["visit_type_id"], lambda v: A.set_block("visit_type_id", v),
                         first=("any", "Any visit type"), error=be["visit_type"]),
            columns="4",
        ),
        secondary_button("Add these hours", on_click=A.add_block, type="button", id="block-add"),
        rx.heading("Exceptions", size="4", as_="h3"),
        rx.cond(A.exceptions.length() > 0, rx.vstack(rx.foreach(A.exceptions, _exception), spacing="1", width="100%"),
                rx.text("No vacations, closed days or extra sessions ahead.", size="2", color=MUTED)),
        field_grid(
            select_field("Kind", "exception-kind", [("closed", "Closed (vacation, holiday)"),
                                                    ("extra", "Extra session")], xf["kind"],
                         lambda v: A.set_exception("kind", v), error=xe["kind"]),
            choice_field("Who", "exception-doctor", A.doctors, xf["doctor_id"], lambda v: A.set_exception("doctor_id", v),
                         first=("clinic", "The whole clinic (closed only)"), error=xe["doctor"]),
            form_field("First day", "exception-start", xf["start_date"], lambda v: A.set_exception("start_date", v),
                       type_="date", error=xe["start_date"], required=True),
            form_field("Last day", "exception-end", xf["end_date"], lambda v: A.set_exception("end_date", v),
                       type_="date", error=xe["end_date"], hint="Empty: one day."),
            form_field("From", "exception-from", xf["start_time"], lambda v: A.set_exception("start_time", v),
                       type_="time", error=xe["start_time"], hint="Empty: all day."),
            form_field("Until", "exception-until", xf["end_time"], lambda v: A.set_exception("end_time", v),
                       type_="time", error=xe["end_time"]),
            form_field("Label", "exception-label", xf["label"], lambda v: A.set_exception("label", v),
                       hint="e.g. Vacation, Public holiday, Saturday clinic."),
            columns="3",
        ),
        secondary_button("Add the exception", on_click=A.add_exception, type="button", id="exception-add"),
        section_id="doctor-hours",
        text="Times are the clinic's local time; they stay put across daylight-saving changes.",
    )


def _rate_table(title: str, rows: Any, table_id: str) -> rx.Component:
    def cells(r: Any) -> list[rx.Component]:
        return [rx.table.row_header_cell(r["label"]), rx.table.cell(r["no_shows"]), rx.table.cell(r["seen"]),
                rx.table.cell(r["rate"])]

    def card(r: Any) -> rx.Component:
        return rx.text(r["label"], ": ", r["rate"], " (", r["no_shows"], " of ", r["seen"], ")", size="2")

    return rx.vstack(rx.heading(title, size="4", as_="h3"),
                     rx.cond(rows.length() > 0, data_table(["", "No-shows", "Due", "Rate"], rows, cells, card=card,
                                                           caption=title, table_id=table_id),
                             rx.text("No appointment has come due yet.", size="2", color=MUTED)),
                     spacing="2", width="100%")


def _rates() -> rx.Component:
    return _section("No-show rates", rx.grid(_rate_table("By doctor", A.rates_by_doctor, "rates-doctor"),
                                             _rate_table("By visit type", A.rates_by_type, "rates-type"),
                                             columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
                    section_id="no-show-rates",
                    text="No-shows among appointments whose time has come (attended or missed).")


@rx.page(route="/admin/scheduling", title=f"Scheduling — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), A.load])
def admin_scheduling() -> rx.Component:
    return role_shell(
        "admin",
        rx.match(A.settings_status,
                 ("ok", rx.vstack(page_header("Scheduling", "Visit types, doctors' hours and the clinic's rules."),
                                  error_callout(A.error, id="scheduling-error"),
                                  _rules(), _types(), _hours(), _rates(), spacing="4", width="100%")),
                 ("denied", not_permitted(SessionState.home)), checking()),
        title="Scheduling",
    )
