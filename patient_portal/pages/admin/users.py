"""Accounts: list (paginated, search by email) with last activity and permission set, create,
deactivate, unlock, reset MFA, email a password link, care teams; one account's manage card: change
its role (confirm dialog with the admin's password), its permission set, where it is signed in."""

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
        rx.button("Manage", size="2", variant="soft", min_height=TAP, aria_label="Manage " + user.email,
                  on_click=AdminUsersState.manage(user.id)),
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


def _role(user) -> rx.Component:
    return rx.vstack(rx.badge(user.role, high_contrast=True),
                     rx.cond(user.permission_set != "", rx.text(user.permission_set, size="1")), spacing="1")


def _activity(user) -> rx.Component:
    return rx.vstack(rx.text("Signed in: ", user.last_sign_in, size="2"),
                     rx.text("Active: ", user.last_active, size="2"),
                     rx.text(user.open_sessions.to_string() + " open session(s)", size="1"), spacing="0")


def _cells(user) -> list[rx.Component]:
    return [rx.table.cell(_person(user)), rx.table.cell(_role(user)),
            rx.table.cell(_statuses(user)), rx.table.cell(_activity(user)), rx.table.cell(_actions(user))]


def _card(user) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(_person(user), rx.spacer(), _role(user), width="100%"),
        _statuses(user),
        _activity(user),
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
        data_table(["Person", "Role", "Status", "Activity", "Actions"], AdminUsersState.users, _cells,
                   card=_card, caption="Accounts", table_id="users-table"),
        rx.cond(AdminUsersState.users.length() == 0, rx.text("No accounts match this search.")),
        pagination(AdminUsersState.page, AdminUsersState.pages, AdminUsersState.prev_page,
                   AdminUsersState.next_page),
        spacing="3",
        width="100%",
    )


def _role_dialog() -> rx.Component:
    """Change role: the new role, the admin's password (and code), said plainly what happens."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Change role…", size="3", variant="outline", min_height=TAP,
                                          id="change-role-open")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Change the role of " + AdminUsersState.selected_email + "?"),
            rx.alert_dialog.description(
                "They are signed out everywhere at once and use the new role from their next sign-in; "
                "their permission set is removed. Enter your password to confirm.", size="2"),
            rx.el.form(
                rx.vstack(
                    error_callout(AdminUsersState.role_error, id="change-role-error"),
                    labelled_control("New role", rx.select.root(
                        rx.select.trigger(id="change-role-role", width="100%", min_height=TAP),
                        rx.select.content(*[rx.select.item(r.capitalize(), value=r) for r in ("staff", "doctor", "admin")]),
                        name="role", size="3"), "change-role-role"),
                    labelled_control("Your password", rx.input(name="password", id="change-role-password",
                                                               type="password", size="3", width="100%",
                                                               auto_complete="current-password", required=True),
                                     "change-role-password"),
                    labelled_control("Authenticator code (if you use two-step sign-in)",
                                     rx.input(name="code", id="change-role-code", size="3", width="100%",
                                              input_mode="numeric", auto_complete="one-time-code"),
                                     "change-role-code"),
                    rx.flex(
                        rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                         min_height=TAP, type="button")),
                        rx.button("Change role", type="submit", color_scheme="red", high_contrast=True,
                                  min_height=TAP, id="change-role-confirm"),
                        spacing="3", justify="end", wrap="wrap",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=AdminUsersState.change_role,
                reset_on_submit=True,
                id="change-role-form",
            ),
            max_width="32rem",
        ),
        open=AdminUsersState.role_dialog,
        on_open_change=AdminUsersState.open_role_dialog,
    )


def _session_row(row) -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.text(row.device, weight="medium"), rx.text(row.ip, size="1"), spacing="0"),
        rx.spacer(),
        rx.vstack(rx.text("Since ", row.started, size="2"), rx.text("Active ", row.last_active, size="2"),
                  spacing="0", align="end"),
        width="100%", padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _manage_card() -> rx.Component:
    return rx.cond(
        AdminUsersState.selected_id != "",
        rx.card(rx.vstack(
            rx.hstack(
                rx.heading("Manage " + AdminUsersState.selected_email, size="4", as_="h2"),
                rx.spacer(),
                rx.button("Close", variant="soft", color_scheme="gray", size="2", min_height=TAP,
                          on_click=AdminUsersState.close_manage),
                width="100%", wrap="wrap",
            ),
            error_callout(AdminUsersState.manage_error, id="manage-error"),
            rx.hstack(rx.text("Role: "), rx.badge(AdminUsersState.selected_role, high_contrast=True, id="manage-role"),
                      rx.cond(AdminUsersState.selected_role != "patient", _role_dialog()),
                      spacing="3", align="center", wrap="wrap"),
            rx.cond(
                AdminUsersState.selected_role != "patient",
                rx.hstack(
                    labelled_control("Permission set", rx.select.root(
                        rx.select.trigger(id="manage-set", min_width="16rem", min_height=TAP),
                        rx.select.content(rx.foreach(AdminUsersState.set_choices,
                                                     lambda c: rx.select.item(c["name"], value=c["id"]))),
                        value=AdminUsersState.selected_set, on_change=AdminUsersState.set_selected_set, size="3"),
                        "manage-set"),
                    rx.button("Save permission set", size="3", min_height=TAP, on_click=AdminUsersState.save_set,
                              id="manage-set-save"),
                    spacing="3", align="end", wrap="wrap",
                ),
            ),
            rx.heading("Where they're signed in", size="3", as_="h3"),
            rx.text("Last active: ", AdminUsersState.last_active, size="2"),
            rx.cond(AdminUsersState.signed_in.length() == 0,
                    rx.text("Not signed in anywhere now.", size="2"),
                    rx.vstack(rx.foreach(AdminUsersState.signed_in, _session_row), spacing="0", width="100%",
                              id="manage-sessions")),
            rx.cond(AdminUsersState.signed_in.length() > 0,
                    rx.button("Sign out everywhere", variant="soft", color_scheme="red", size="3", min_height=TAP,
                              on_click=AdminUsersState.end_sessions, id="manage-end-sessions")),
            spacing="3", width="100%",
        ), width="100%", id="manage-card"),
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
            _manage_card(),
            _user_table(),
            _create_form(),
            _assign_form(),
            spacing="4",
            width="100%",
        ),
        title="Users",
    )
