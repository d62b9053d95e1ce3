"""My patients: the doctor's care-team list drawn from ``state.worklist.MyPatientsState`` — name,
age, MRN, last visit and flags, sortable by name and last visit, 25 a page; cards on phones. The
/doctor/patients page (pages/patients/search.py) puts it above the search box."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.tables import empty_state, pagination, skeleton_rows
from patient_portal.state.worklist import MyPatientsState as M

TAP = "44px"
MUTED = rx.color("gray", 11)


def _flag(label: Any) -> rx.Component:
    return rx.badge(rx.icon("flag", size=12), label, color_scheme="amber", high_contrast=True, size="2",
                    class_name="worklist-flag", white_space="normal")


def _flags(row: Any) -> rx.Component:
    return rx.flex(rx.foreach(row["flags"].to(list[str]), _flag), spacing="1", wrap="wrap")


def _sort_header(label: str, key: str, desc_key: str) -> rx.Component:
    """A column header that sorts by it; aria-sort says how the list is sorted now."""
    state = rx.cond(M.sort == key, "ascending" if not key.startswith("last") else "descending",
                    rx.cond(M.sort == desc_key, "descending" if not key.startswith("last") else "ascending", "none"))
    arrow = rx.cond(M.sort == key, rx.icon("arrow-down-a-z" if key == "name" else "arrow-down-1-0", size=14),
                    rx.cond(M.sort == desc_key, rx.icon("arrow-up-a-z" if key == "name" else "arrow-up-1-0", size=14),
                            rx.icon("arrow-up-down", size=14)))
    return rx.table.column_header_cell(
        rx.button(label, arrow, variant="ghost", size="2", on_click=M.sort_by(key), id=f"sort-{key}",
                  min_height=TAP, aria_label=f"Sort by {label.lower()}"),
        aria_sort=state,
    )


def _cells(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["name"], href=row["href"], class_name="worklist-name")),
        rx.table.cell(row["age"]),
        rx.table.cell(rx.code(row["mrn"])),
        rx.table.cell(row["last_visit"], class_name="worklist-last-visit"),
        rx.table.cell(row["next_appointment"], class_name="worklist-next-appointment"),
        rx.table.cell(_flags(row)),
        rx.table.cell(rx.link("Timeline", href=row["timeline"], aria_label="Timeline of " + row["name"].to(str))),
        class_name="worklist-row",
    )


def _card(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.link(rx.text(row["name"], weight="bold", size="3"), href=row["href"]),
            rx.text(row["age"], " years · MRN ", row["mrn"], size="2"),
            rx.text("Last visit: ", row["last_visit"], size="2", color=MUTED),
            rx.text("Next appointment: ", row["next_appointment"], size="2", color=MUTED),
            _flags(row),
            rx.link("Timeline", href=row["timeline"], min_height=TAP, display="flex", align_items="center"),
            spacing="1",
        ),
        width="100%",
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                _sort_header("Name", "name", "name_desc"),
                rx.table.column_header_cell("Age"),
                rx.table.column_header_cell("MRN"),
                _sort_header("Last visit", "last_visit", "last_visit_asc"),
                rx.table.column_header_cell("Next appointment"),
                rx.table.column_header_cell("Needs attention"),
                rx.table.column_header_cell(rx.text("Timeline", class_name="sr-only"), aria_label="Timeline"),
            )),
            rx.table.body(rx.foreach(M.rows, _cells)),
            variant="surface", width="100%", aria_label="My patients", id="my-patients",
            display=rx.breakpoints(initial="none", md="table"),
        ),
        rx.vstack(
            rx.hstack(rx.button("Sort by name", variant="soft", on_click=M.sort_by("name"), min_height=TAP),
                      rx.button("Sort by last visit", variant="soft", on_click=M.sort_by("last_visit"),
                                min_height=TAP), spacing="2", wrap="wrap"),
            rx.foreach(M.rows, _card), spacing="2", width="100%", display=rx.breakpoints(initial="flex", md="none")),
        width="100%",
    )


def my_patients_list() -> rx.Component:
    return rx.vstack(
        rx.text(M.total, " patients on your care team", size="2", color=MUTED, aria_live="polite"),
        rx.match(
            M.list_status,
            ("ok", rx.cond(M.total > 0,
                           rx.vstack(_table(), rx.cond(M.pages > 1, pagination(M.page, M.pages, M.prev_page, M.next_page)),
                                     width="100%", spacing="3"),
                           empty_state("users", "No patients on your care team yet",
                                       "When the clinic adds you to a patient's care team, they appear here."))),
            ("failed", rx.callout(M.message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")),
            skeleton_rows(),
        ),
        spacing="3", width="100%",
    )
