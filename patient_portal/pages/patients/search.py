"""Patient search for staff, doctors and admins: one box plus an optional date of birth."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.badges import status_badge
from patient_portal.components.feedback import error_callout, notice_callout
from patient_portal.components.forms import form_field, primary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state, pagination, skeleton_rows
from patient_portal.pages.doctor.my_patients import my_patients_list
from patient_portal.state.patients import PatientSearchState as S
from patient_portal.state.session import SessionState
from patient_portal.state.worklist import MyPatientsState

HINT = "Name (“Garcia” or “Garcia, Maria”), date of birth, MRN, phone or email."


def _open(row) -> rx.Component:
    return rx.link("Open chart", href="/chart/" + row["id"], aria_label="Open chart of " + row["name"])


def _cells(row) -> list[rx.Component]:
    return [
        rx.table.row_header_cell(rx.link(row["name"], href="/chart/" + row["id"])),
        rx.table.cell(row["dob_display"], " (", row["age"], ")"),
        rx.table.cell(row["sex"], text_transform="capitalize"),
        rx.table.cell(rx.code(row["mrn"])),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(_open(row)),
    ]


def _card(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.link(rx.text(row["name"], weight="bold", size="3"), href="/chart/" + row["id"]),
            rx.text("Born ", row["dob_display"], " (", row["age"], ") · MRN ", row["mrn"], size="2"),
            status_badge(row["status"]),
            spacing="1",
        ),
        width="100%",
    )


def _results() -> rx.Component:
    return rx.cond(
        S.loading,
        skeleton_rows(),
        rx.match(
            S.outcome,
            ("results", rx.vstack(
                notice_callout(S.message, id="search-too-many"),
                rx.text(S.total, " found", size="2", color=rx.color("gray", 11), aria_live="polite"),
                data_table(["Name", "Date of birth (age)", "Sex", "MRN", "Status", ""], S.rows, _cells, card=_card,
                           caption="Patients found", table_id="search-results"),
                rx.cond(S.pages > 1, pagination(S.page, S.pages, S.prev_page, S.next_page)),
                width="100%", spacing="3",
            )),
            ("none", empty_state("search-x", "No patients found", S.message)),
            ("invalid", error_callout(S.message, id="search-invalid")),
            empty_state("search", "Search for a patient", HINT),
        ),
    )


def search_body(register_href: str = "", *, heading: bool = True) -> rx.Component:
    """The search box and its results; `heading` False: a section under another page's title."""
    action = rx.link(primary_button("Register a patient"), href=register_href) if register_href else None
    return rx.vstack(
        page_header("Patients", "Find a patient by name, date of birth, MRN, phone or email.", action) if heading
        else rx.heading("Find a patient", size="5", as_="h2"),
        rx.form(
            rx.flex(
                rx.box(form_field("Search", "patient-query", S.query, S.set_query, hint=HINT, type_="search", name="query",
                                  auto_focus=heading, auto_complete="off"), flex="3", width="100%"),
                rx.box(form_field("Date of birth (optional)", "patient-dob", S.dob, S.set_dob, type_="date", name="dob"),
                       flex="1", width="100%"),
                rx.box(primary_button("Search", type="submit", id="search-submit", width="100%"),
                       padding_top=rx.breakpoints(initial="0", sm="24px")),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                align=rx.breakpoints(initial="stretch", sm="start"),
                width="100%",
            ),
            on_submit=S.search,
            role="search",
            width="100%",
        ),
        _results(),
        spacing="4",
        width="100%",
    )


def _title(role: str) -> str:
    return f"Patients — {PRODUCT_NAME}"


@rx.page(route="/staff/patients", title=_title("staff"), on_load=[SessionState.require("staff"), S.reset_search])
def staff_patients() -> rx.Component:
    return role_shell("staff", search_body("/staff/register"), title="Patients")


@rx.page(route="/doctor/patients", title=f"My patients — {PRODUCT_NAME}",
         on_load=[SessionState.require("doctor"), S.reset_search, MyPatientsState.load])
def doctor_patients() -> rx.Component:
    """My patients: the care-team list first (issue 12), the search below it."""
    return role_shell("doctor", rx.vstack(
        page_header("My patients", "The patients on your care team, and what waits for you."),
        my_patients_list(),
        rx.divider(),
        search_body(heading=False),
        spacing="4", width="100%",
    ), title="My patients")


@rx.page(route="/admin/patients", title=_title("admin"), on_load=[SessionState.require("admin"), S.reset_search])
def admin_patients() -> rx.Component:
    return role_shell("admin", search_body("/admin/register"), title="Patients")


add_nav_item("admin", "Patients", "/admin/patients", "users")
