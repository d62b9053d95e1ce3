"""Care teams from the admin side: every assignment of a doctor to a patient (filter by doctor),
and taking one off behind a confirm. Assigning stays on the users page and the chart."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, pagination
from patient_portal.core.access import Action
from patient_portal.state.admin_care_teams import ALL_DOCTORS
from patient_portal.state.admin_care_teams import AdminCareTeamsState as S
from patient_portal.state.session import SessionState

TAP = "44px"
add_nav_item("admin", "Care teams", "/admin/care-teams", "heart-handshake", needs=Action.CARE_TEAM_MANAGE)


def _remove(row) -> rx.Component:
    return confirm_dialog(
        rx.button("Remove", size="2", variant="outline", color_scheme="red", high_contrast=True, min_height=TAP,
                  aria_label="Remove " + row.doctor_name + " from " + row.patient_name + "'s care team"),
        "Take " + row.doctor_name + " off " + row.patient_name + "'s care team?",
        "They can no longer open this chart (unless they ask for emergency access).",
        "Remove", S.remove(row.patient_id, row.doctor_id),
    )


def _patient(row) -> rx.Component:
    return rx.vstack(rx.text(row.patient_name, weight="medium"), rx.text("MRN ", row.mrn, size="1"), spacing="0")


def _doctor(row) -> rx.Component:
    return rx.vstack(rx.text(row.doctor_name), rx.text(row.doctor_email, size="1"), spacing="0")


def _cells(row) -> list[rx.Component]:
    return [rx.table.cell(_patient(row)), rx.table.cell(_doctor(row)), rx.table.cell(row.since),
            rx.table.cell(_remove(row))]


def _card(row) -> rx.Component:
    return rx.card(rx.vstack(_patient(row), _doctor(row), rx.text("Since ", row.since, size="2"), _remove(row),
                             spacing="2", width="100%"), width="100%")


@rx.page(route="/admin/care-teams", title=f"Care teams — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_care_teams() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Care teams", S.total.to_string() + " assignments"),
        rx.vstack(
            error_callout(S.error, id="care-teams-error"),
            success_callout(S.message, id="care-teams-message"),
            rx.vstack(
                rx.el.label("Doctor", html_for="care-teams-doctor", style={"font_weight": "500"}),
                rx.select.root(
                    rx.select.trigger(id="care-teams-doctor", min_width="16rem", min_height=TAP),
                    rx.select.content(rx.select.item("All doctors", value=ALL_DOCTORS),
                                      rx.foreach(S.doctors, lambda d: rx.select.item(d.display_name, value=d.user_id))),
                    value=S.doctor, on_change=S.filter_doctor, size="3"),
                spacing="1",
            ),
            data_table(["Patient", "Doctor", "Since", ""], S.rows, _cells, card=_card, caption="Care-team assignments",
                       table_id="care-teams-table"),
            rx.cond(S.rows.length() == 0,
                    rx.text("No assignments — assign a doctor from the users page or a patient's chart.")),
            pagination(S.page, S.pages, S.prev_page, S.next_page),
            spacing="4", width="100%",
        ),
        title="Care teams",
    )
