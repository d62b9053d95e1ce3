"""Routes of the registration wizard for staff and admins (same body)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.layout import PRODUCT_NAME, role_shell
from patient_portal.pages.patients.wizard import wizard_body
from patient_portal.state.registration import RegistrationState
from patient_portal.state.session import SessionState


@rx.page(route="/staff/register", title=f"Register a patient — {PRODUCT_NAME}",
         on_load=[SessionState.require("staff"), RegistrationState.load])
def staff_register() -> rx.Component:
    return role_shell("staff", wizard_body(), title="Register a patient")


@rx.page(route="/admin/register", title=f"Register a patient — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), RegistrationState.load])
def admin_register() -> rx.Component:
    return role_shell("admin", wizard_body(), title="Register a patient")
