"""/admin/merge: merge a duplicate patient record into the record kept, and undo a merge. Pick both
records by search (name, date of birth, MRN), compare them side by side with what will move,
confirm; the result offers "Undo merge", and past merges can be undone too (domain.patients.merge).
``?keep=<id>&duplicate=<id>`` opens the page with a pair chosen (a duplicates report links here)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import TAP, field_grid, form_field, primary_button, secondary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.state.merge import MergeState as M
from patient_portal.state.session import SessionState

add_nav_item("admin", "Merge records", "/admin/merge", "merge", needs=Action.PATIENT_MERGE)
MUTED = rx.color("gray", 11)


def _search() -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading("Find the records", size="5", as_="h2"),
        field_grid(form_field("Name, MRN, phone or email", "merge-query", M.query, M.set_query),
                   form_field("Date of birth", "merge-dob", M.dob, M.set_dob, type_="date")),
        primary_button("Search", type="submit", id="merge-search"),
        rx.cond(M.search_message != "", rx.text(M.search_message, size="2", color=MUTED)),
        rx.foreach(M.results, lambda p: rx.flex(
            rx.vstack(rx.text(p["name"], weight="bold"),
                      rx.text(p["dob_display"], " · MRN ", p["mrn"], size="2", color=MUTED), spacing="0"),
            rx.spacer(),
            rx.hstack(secondary_button("Keep this", on_click=M.choose("keep", p["id"]), type="button"),
                      secondary_button("Duplicate", on_click=M.choose("duplicate", p["id"]), type="button"),
                      spacing="2", wrap="wrap"),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
            class_name="merge-result")),
        spacing="3", width="100%"), on_submit=M.search, reset_on_submit=False), width="100%")


def _side(title: str, facts, counts, side_id: str) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(title, size="2", color=MUTED),
        rx.heading(facts["name"], size="5", as_="h3"),
        rx.text("Born ", facts["dob_display"], " · MRN ", facts["mrn"], size="2"),
        rx.foreach(counts, lambda c: rx.hstack(rx.text(c["what"], size="2"), rx.spacer(),
                                               rx.text(c["count"], size="2"), width="100%")),
        rx.cond(counts.length() == 0, rx.text("Nothing filed yet.", size="2", color=MUTED)),
        spacing="2", width="100%"), width="100%", id=side_id)


def _pair() -> rx.Component:
    return rx.cond(M.keep.contains("name") & M.duplicate.contains("name"), rx.vstack(
        rx.grid(_side("Keep", M.keep, M.keep_counts, "merge-keep"),
                _side("Duplicate (merged into the one kept)", M.duplicate, M.duplicate_counts, "merge-duplicate"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
        rx.hstack(
            confirm_dialog(primary_button("Merge records", type="button", id="merge-open"),
                           "Merge these records?",
                           "Everything filed on the duplicate moves to the record kept; the duplicate leaves "
                           "search and lists. You can undo the merge afterwards.",
                           "Merge", M.merge, confirm_id="merge-confirm", color_scheme="blue"),
            secondary_button("Swap", on_click=M.swap, type="button", id="merge-swap"),
            spacing="3", wrap="wrap"),
        spacing="3", width="100%"))


def _done() -> rx.Component:
    return rx.cond(M.done_id != "", rx.callout(rx.vstack(
        rx.text(M.done_text),
        secondary_button("Undo merge", on_click=M.unmerge(M.done_id), type="button", id="merge-undo"),
        spacing="2"), icon="circle-check", color_scheme="green", role="status", id="merge-done", width="100%"))


def _past(m) -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(rx.text(m["duplicate_name"], " (MRN ", m["duplicate_mrn"], ") into ", m["keep_name"],
                          " (MRN ", m["keep_mrn"], ")", size="2"),
                  rx.text(m["when"], " · ", m["moved"], " entries · ",
                          rx.cond(m["status"] == "merged", "merged", "undone"), size="1", color=MUTED),
                  spacing="1"),
        rx.spacer(),
        rx.cond(m["status"] == "merged", confirm_dialog(
            rx.button("Unmerge", variant="soft", min_height=TAP, type="button"),
            "Undo this merge?", "The entries that moved go back to the duplicate, which returns to search. "
            "Entries added to the record kept since the merge stay with it.", "Unmerge", M.unmerge(m["id"]))),
        direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%"), width="100%",
        class_name="merge-past")


def _page() -> rx.Component:
    return rx.vstack(
        error_callout(M.error, id="merge-error"),
        _done(), _search(), _pair(),
        rx.heading("Past merges", size="5", as_="h2"),
        rx.cond(M.merges.length() == 0, rx.text("No merges yet.", size="2", color=MUTED)),
        rx.foreach(M.merges, _past),
        spacing="4", width="100%", max_width="56rem")


@rx.page(route="/admin/merge", title=f"Merge records — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), M.load])
def admin_merge() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Merge records", "Fold a duplicate patient record into the one you keep. A merge can be undone."),
        rx.match(M.merge_status, ("denied", not_permitted("/")), ("loading", checking()), _page()),
        title="Merge records",
    )
