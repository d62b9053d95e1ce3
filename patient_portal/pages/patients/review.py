"""The review queue for staff and admins: change requests and identity checks."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import primary_button, secondary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, pagination, skeleton_rows
from patient_portal.core.access import Action
from patient_portal.state.review import ReviewState as R
from patient_portal.state.session import SessionState


def _change(item) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.link(rx.text(item["patient"], weight="bold"), href="/chart/" + item["patient_id"]),
            rx.text("MRN ", item["mrn"], " · requested ", item["requested"], size="2"),
            rx.foreach(item.changes, lambda c: rx.text(c.field, ": ", c.before, " → ",
                                                     rx.text.span(c.after, weight="bold"), size="2")),
            rx.cond(item["note"], rx.blockquote(item["note"], size="2")),
            rx.hstack(
                primary_button("Approve", on_click=R.approve(item["id"]), type="button"),
                secondary_button("Reject", on_click=R.reject(item["id"]), type="button", color_scheme="red"),
                spacing="3",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="change-request",
    )


def _link_button(item, m) -> rx.Component:
    """Link (no clinical data) or propose a link (clinical data), after saying what will happen."""
    return confirm_dialog(
        secondary_button(rx.cond(m.needs_second_person, "Propose link to this record", "Link to this record"),
                         type="button"),
        rx.cond(m.needs_second_person, "Propose linking this account to " + m.name + "?",
                "Link this account to " + m.name + " (MRN " + m.mrn + ")?"),
        rx.cond(m.needs_second_person,
                "This record holds clinical information. Nothing changes until a second person — another staff "
                "member or an administrator — confirms the link. Then the account sees the whole record, the "
                "sign-up record is closed, and the email address on the record is told.",
                "The account will see this record (details, insurance and documents) and the sign-up record is "
                "closed. The email address on the record is told that an account was linked. Only do this after "
                "checking photo ID."),
        rx.cond(m.needs_second_person, "Propose link", "Link account"),
        R.link(item.id, m.id),
        color_scheme="blue",
    )


def _match(item, m) -> rx.Component:
    return rx.flex(
        rx.text(m.name, " · born ", m.dob_display, " · MRN ", m.mrn, " (", m.reasons, ")", size="2"),
        rx.spacer(),
        rx.cond(m.has_account,
                rx.badge("Already has an online account: cannot be linked", color_scheme="gray", high_contrast=True),
                _link_button(item, m)),
        spacing="2", width="100%", wrap="wrap", align="center", class_name="identity-match",
    )


def _proposal(item) -> rx.Component:
    """A link waiting for a second person: the proposer waits (or withdraws), anyone else decides."""
    decline = confirm_dialog(
        secondary_button(rx.cond(item.proposal_mine, "Withdraw proposal", "Decline"), type="button",
                         color_scheme="red"),
        rx.cond(item.proposal_mine, "Withdraw this proposal?", "Decline this link?"),
        "The account stays on its own sign-up record, which stays in this queue: link it to another record or "
        "keep it as a new one.",
        rx.cond(item.proposal_mine, "Withdraw", "Decline link"),
        R.decline_link(item.proposal_id),
    )
    confirm = confirm_dialog(
        primary_button("Confirm link", type="button"),
        "Link this account to " + item.proposal_target + " (MRN " + item.proposal_mrn + ")?",
        "The account will see the whole record, including health history and clinical documents, and the "
        "sign-up record is closed. The email address on the record is told. Confirm only if you are satisfied "
        "that the person who signed up is this patient.",
        "Confirm link",
        R.confirm_link(item.proposal_id),
        color_scheme="blue",
    )
    return rx.callout.root(
        rx.callout.icon(rx.icon("users")),
        rx.vstack(
            rx.text("Link to ", rx.text.span(item.proposal_target, weight="bold"), " (MRN ", item.proposal_mrn,
                    ") proposed by ", item.proposal_by, ", ", item.proposal_at, ".", size="2"),
            rx.cond(item.proposal_mine,
                    rx.text("The record holds clinical information, so someone else must confirm: another staff "
                            "member or an administrator.", size="2"),
                    rx.text("The record holds clinical information: a second person (you) must confirm.",
                            size="2")),
            rx.flex(rx.cond(item.proposal_mine, rx.fragment(), confirm), decline, spacing="3", wrap="wrap"),
            spacing="2", width="100%",
        ),
        color_scheme="amber", width="100%", class_name="link-proposal",
    )


def _identity(item) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(item.name, weight="bold"),
            rx.text("Born ", item.dob_display, " · signed up with MRN ", item.mrn, size="2"),
            rx.cond(
                item.proposal_id != "",
                _proposal(item),
                rx.vstack(
                    rx.cond(item.matches.length() > 0,
                            rx.text("Possible existing records — check the photo ID, then link:", size="2"),
                            rx.text("No existing record matches.", size="2")),
                    rx.foreach(item.matches, lambda m: _match(item, m)),
                    primary_button("Identity checked: keep as a new record", on_click=R.accept_new(item.id),
                                   type="button"),
                    spacing="2", width="100%",
                ),
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="identity-check",
    )


def _pager(total, page, pages, on_prev, on_next, noun: str) -> rx.Component:
    """How many wait in all and, past one page (25), Previous/Next."""
    return rx.cond(total > 0, rx.vstack(
        rx.text(total, " " + noun + " waiting, oldest first", size="2", color=rx.color("gray", 11)),
        rx.cond(pages > 1, pagination(page, pages, on_prev, on_next)),
        spacing="1", width="100%",
    ))


def review_body() -> rx.Component:
    return rx.vstack(
        page_header("Review queue", "Patients' requests to change legal details, and new sign-ups to verify."),
        error_callout(R.error),
        rx.cond(
            R.loaded,
            rx.vstack(
                rx.heading("Identity checks", size="5", as_="h2"),
                rx.cond(R.identity_checks.length() == 0,
                        empty_state("id-card", "No sign-ups waiting", "New self-registrations appear here."),
                        rx.vstack(rx.foreach(R.identity_checks, _identity), width="100%", id="identity-checks")),
                _pager(R.identity_total, R.identity_page, R.identity_pages, R.identity_prev, R.identity_next,
                       "sign-ups"),
                rx.heading("Change requests", size="5", as_="h2"),
                rx.cond(R.changes.length() == 0,
                        empty_state("clipboard-check", "No change requests", "Requests from patients appear here."),
                        rx.vstack(rx.foreach(R.changes, _change), width="100%", id="change-requests")),
                _pager(R.changes_total, R.changes_page, R.changes_pages, R.changes_prev, R.changes_next,
                       "change requests"),
                spacing="4", width="100%",
            ),
            skeleton_rows(),
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/staff/review", title=f"Review queue — {PRODUCT_NAME}",
         on_load=[SessionState.require("staff"), R.load])
def staff_review() -> rx.Component:
    return role_shell("staff", review_body(), title="Review queue")


@rx.page(route="/admin/review", title=f"Review queue — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), R.load])
def admin_review() -> rx.Component:
    return role_shell("admin", review_body(), title="Review queue")


add_nav_item("staff", "Review queue", "/staff/review", "clipboard-check", needs=Action.IDENTITY_REVIEW)
add_nav_item("admin", "Review queue", "/admin/review", "clipboard-check", needs=Action.IDENTITY_REVIEW)
