"""The front desk's home: find, register and look after patients; what patients booked online."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, card_grid, link_card, page_header, role_shell
from patient_portal.pages.appointments.staff import notices_card
from patient_portal.state.schedule import NoticesState
from patient_portal.state.session import SessionState


@rx.page(route="/staff", title=f"Staff — {PRODUCT_NAME}", on_load=[SessionState.require("staff"), NoticesState.load])
def staff_dashboard() -> rx.Component:
    return role_shell(
        "staff",
        page_header("Welcome, " + SessionState.display_name, "Front desk"),
        card_grid(
            link_card("users", "Patients", "Find a patient, update details and insurance.", "/staff/patients"),
            link_card("user-plus", "Register a patient", "Add a new patient to the clinic.", "/staff/register"),
            link_card("mail", "Message pool", "Patients' messages to the front desk and billing; hand them on.",
                      "/staff/messages"),
            link_card("calendar", "Appointments", "Book, move and cancel; each doctor's day; check patients in.",
                      "/staff/appointments"),
            notices_card(),
        ),
        title="Staff dashboard",
    )
