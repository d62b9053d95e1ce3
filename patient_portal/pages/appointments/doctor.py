"""/doctor/schedule — "My day": who is coming, what for, and whether they have checked in; the week
at a press. The reason for the visit shows for the doctor's care-team patients (the service)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.pages.appointments.common import schedule_controls, schedule_rows
from patient_portal.state.schedule import ScheduleState as S
from patient_portal.state.session import SessionState

add_nav_item("doctor", "My day", "/doctor/schedule", "calendar", needs=Action.SCHEDULE_OWN_READ)


def _view() -> rx.Component:
    return rx.vstack(
        page_header("My day", S.heading),
        schedule_controls(S, pick_doctor=False),
        error_callout(S.message, id="schedule-error"),
        schedule_rows(S, staff=False, empty_text="No appointments."),
        spacing="4", width="100%",
    )


@rx.page(route="/doctor/schedule", title=f"My day — {PRODUCT_NAME}",
         on_load=[SessionState.require("doctor"), S.load_own])
def doctor_schedule() -> rx.Component:
    return role_shell(
        "doctor",
        rx.match(S.schedule_status, ("ok", _view()), ("denied", not_permitted(SessionState.home)), checking()),
        title="My day",
    )
