"""Permission sets: what each named set of a role lets its holders do (ticked from the fixed list the
role offers, never beyond it), how many accounts hold it; make or edit one."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.forms import form_field
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.state.admin_permissions import AdminPermissionsState as S
from patient_portal.state.session import SessionState

TAP = "44px"
add_nav_item("admin", "Permission sets", "/admin/permissions", "shield", needs=Action.USER_MANAGE)


def _set_card(row) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading(row.name, size="3", as_="h3"), rx.badge(row.role, high_contrast=True), rx.spacer(),
                  rx.button("Edit", size="2", variant="outline", min_height=TAP, aria_label="Edit " + row.name,
                            on_click=S.edit(row.id)), width="100%", align="center"),
        rx.cond(row.description != "", rx.text(row.description, size="2")),
        rx.el.ul(rx.foreach(row.labels, lambda label: rx.el.li(label)), style={"padding_left": "1.25rem"}),
        rx.text(row.holders.to_string() + " account(s) hold this set", size="1"),
        spacing="2", width="100%",
    ), width="100%")


def _option(option) -> rx.Component:
    return rx.el.label(
        rx.hstack(rx.checkbox(checked=S.chosen.contains(option["key"]), on_change=lambda on: S.toggle(option["key"], on),
                              size="3"),
                  rx.text(option["label"]), spacing="2", align="center", min_height=TAP),
    )


def _form() -> rx.Component:
    errors = S.form_errors
    return rx.card(rx.vstack(
        rx.heading(rx.cond(S.editing_id == "", "New permission set", "Edit permission set"), size="4", as_="h2"),
        form_field("Name", "set-name", S.name, S.set_name,
                   error=rx.cond(errors.contains("name"), errors["name"], ""), required=True),
        rx.cond(S.editing_id == "",
                rx.vstack(rx.el.label("Role", html_for="set-role", style={"font_weight": "500"}),
                          rx.select.root(rx.select.trigger(id="set-role", min_height=TAP),
                                         rx.select.content(*[rx.select.item(r.capitalize(), value=r)
                                                             for r in ("staff", "doctor", "admin")]),
                                         value=S.role, on_change=S.set_role, size="3"), spacing="1"),
                rx.text("Role: ", S.role, size="2")),
        form_field("Description", "set-description", S.description, S.set_description),
        rx.el.fieldset(
            rx.el.legend("What holders may do (besides finding patients and their own account)"),
            rx.vstack(rx.foreach(S.options, _option), spacing="1"),
            id="set-capabilities",
        ),
        rx.cond(errors.contains("capabilities"), rx.text(errors["capabilities"], color=rx.color("red", 11), size="2")),
        rx.hstack(rx.button("Save set", size="3", min_height=TAP, on_click=S.save, id="set-save"),
                  rx.button("Cancel", size="3", variant="soft", color_scheme="gray", min_height=TAP, on_click=S.cancel),
                  spacing="3"),
        spacing="3", width="100%",
    ), width="100%", id="set-form")


@rx.page(route="/admin/permissions", title=f"Permission sets — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_permissions() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Permission sets", "Narrow a role: a set never gives more than the role allows. "
                                       "Accounts without a set have their role's full permissions."),
        rx.vstack(
            error_callout(S.error, id="permissions-error"),
            success_callout(S.message, id="permissions-message"),
            rx.cond(S.editing, _form(),
                    rx.button("New permission set", size="3", min_height=TAP, on_click=S.new_set, id="set-new")),
            rx.cond(S.sets.length() == 0, rx.text("No permission sets yet — make the first one.")),
            rx.grid(rx.foreach(S.sets, _set_card), columns=rx.breakpoints(initial="1", md="2"), spacing="3",
                    width="100%", id="permission-sets"),
            spacing="4", width="100%",
        ),
        title="Permission sets",
    )
