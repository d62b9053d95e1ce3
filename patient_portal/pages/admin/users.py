"""Accounts: list (paginated, search by email), create, deactivate, unlock, reset MFA, email a password
link, care teams."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.forms import labelled_control
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.tables import data_table, pagination
from patient_portal.state.admin_users import AdminUsersState
from patient_portal.state.session import SessionState

TAP = "44px"


def _labelled(label: str, control: rx.Component, field: str, control_id: str) -> rx.Component:
    errors = AdminUsersState.form_errors
    return labelled_control(label, control, control_id, rx.cond(errors.contains(field), errors[field], ""))


def _create_form() -> rx.Component:
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Create an account", size="4", as_="h2"),
                rx.grid(
                    _labelled("Name", rx.input(name="display_name", id="new-name", required=True, size="3", width="100%"),
                              "display_name", "new-name"),
                    _labelled("Email", rx.input(name="email", id="new-email", type="email", required=True,
                                                size="3", width="100%"), "email", "new-email"),
                    _labelled("Role", rx.select.root(
                        rx.select.trigger(id="new-role", width="100%", min_height=TAP),
                        rx.select.content(*[rx.select.item(r.capitalize(), value=r)
                                            for r in ("staff", "doctor", "admin", "patient")]),
                        name="role", default_value="staff", size="3"), "role", "new-role"),
                    _labelled("First password (12+ characters)",
                              rx.input(name="password", id="new-password", type="password", size="3", width="100%",
                                       required=True, auto_complete="new-password"), "password", "new-password"),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Create account", type="submit", size="3", min_height=TAP),
                spacing="3",
            ),
            on_submit=AdminUsersState.create,
            reset_on_submit=False,
            id="create-user-form",
        ),
        width="100%",
    )


def _assign_form() -> rx.Component:
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Assign a doctor to a patient", size="4", as_="h2"),
                rx.grid(
                    _labelled("Patient's account email",
                              rx.input(name="patient_email", id="assign-patient", type="email", size="3",
                                       required=True, width="100%"), "patient_email", "assign-patient"),
                    _labelled("Doctor", rx.select.root(
                        rx.select.trigger(id="assign-doctor", placeholder="Choose a doctor…", width="100%",
                                          min_height=TAP),
                        rx.select.content(rx.foreach(
                            AdminUsersState.doctors,
                            lambda d: rx.select.item(d.display_name + " (" + d.email + ")", value=d.user_id))),
                        name="doctor_id", size="3"), "doctor_id", "assign-doctor"),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Assign", type="submit", size="3", min_height=TAP),
                spacing="3",
            ),
            on_submit=AdminUsersState.assign_doctor,
            id="assign-doctor-form",
        ),
        width="100%",
    )


def _confirm_deactivate(user) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Deactivate", color_scheme="red", variant="outline", size="2",
                                          high_contrast=True, min_height=TAP)),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Deactivate " + user.email + "?"),
            rx.alert_dialog.description("They are signed out everywhere and cannot sign in until an "
                                        "administrator reactivates the account."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", min_height=TAP)),
                rx.alert_dialog.action(rx.button("Deactivate", color_scheme="red", high_contrast=True, min_height=TAP,
                                                 on_click=AdminUsersState.deactivate(user.id))),
                spacing="3", justify="end", margin_top="0.75rem",
            ),
        ),
    )


def _statuses(user) -> rx.Component:
    return rx.hstack(
        rx.cond(user.active, rx.badge("Active", color_scheme="green", high_contrast=True),
                rx.badge("Deactivated", color_scheme="gray", high_contrast=True)),
        rx.cond(user.locked, rx.badge("Locked", color_scheme="red", high_contrast=True)),
        rx.cond(user.mfa_enabled, rx.badge("MFA", color_scheme="blue", high_contrast=True)),
        rx.cond(~user.email_confirmed, rx.badge("Email not confirmed", color_scheme="amber", high_contrast=True)),
        spacing="1", wrap="wrap",
    )


def _actions(user) -> rx.Component:
    return rx.hstack(
        rx.cond(user.locked, rx.button("Unlock", size="2", min_height=TAP,
                                       on_click=AdminUsersState.unlock(user.id))),
        rx.cond(user.mfa_enabled, rx.button("Reset MFA", size="2", variant="outline", min_height=TAP,
                                            on_click=AdminUsersState.reset_mfa(user.id))),
        rx.cond(user.active, rx.button("Email a password link", size="2", variant="outline",
                                       min_height=TAP, aria_label="Email a password link to " + user.email,
                                       on_click=AdminUsersState.send_password_link(user.id))),
        rx.cond(user.active, _confirm_deactivate(user),
                rx.button("Reactivate", size="2", variant="outline", min_height=TAP,
                          on_click=AdminUsersState.activate(user.id))),
        spacing="2", wrap="wrap",
    )


def _person(user) -> rx.Component:
    return rx.vstack(rx.text(user.display_name, weight="medium"), rx.text(user.email, size="1"), spacing="0")


def _cells(user) -> list[rx.Component]:
    return [rx.table.cell(_person(user)), rx.table.cell(rx.badge(user.role, high_contrast=True)),
            rx.table.cell(_statuses(user)), rx.table.cell(user.last_sign_in), rx.table.cell(_actions(user))]


def _card(user) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(_person(user), rx.spacer(), rx.badge(user.role, high_contrast=True), width="100%"),
        _statuses(user),
        rx.text("Last sign-in: ", user.last_sign_in, size="2", color=rx.color("gray", 11)),
        _actions(user),
        spacing="2", width="100%",
    ), width="100%")


def _user_table() -> rx.Component:
    return rx.vstack(
        rx.el.form(
            rx.hstack(
                rx.input(name="query", placeholder="Search by email", aria_label="Search by email", size="3",
                         default_value=AdminUsersState.query),
                rx.button("Search", type="submit", size="3", variant="outline", min_height=TAP),
                spacing="2",
            ),
            on_submit=AdminUsersState.search,
        ),
        data_table(["Person", "Role", "Status", "Last sign-in", "Actions"], AdminUsersState.users, _cells,
                   card=_card, caption="Accounts", table_id="users-table"),
        rx.cond(AdminUsersState.users.length() == 0, rx.text("No accounts match this search.")),
        pagination(AdminUsersState.page, AdminUsersState.pages, AdminUsersState.prev_page,
                   AdminUsersState.next_page),
        spacing="3",
        width="100%",
    )


@rx.page(route="/admin/users", title=f"Users — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), AdminUsersState.load])
def admin_users() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Users", AdminUsersState.total.to_string() + " accounts"),
        rx.vstack(
            error_callout(AdminUsersState.error, id="admin-users-error"),
            success_callout(AdminUsersState.message, id="admin-users-message"),
            _user_table(),
            _create_form(),
            _assign_form(),
            spacing="4",
            width="100%",
        ),
        title="Users",
    )
