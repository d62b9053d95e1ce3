"""The review queue for staff and admins: change requests and identity checks."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import primary_button, secondary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state, skeleton_rows
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


def _identity(item) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(item["name"], weight="bold"),
            rx.text("Born ", item["dob_display"], " · signed up with MRN ", item["mrn"], size="2"),
            rx.cond(item.matches.length() > 0,
                    rx.text("Possible existing records — check the photo ID, then link:", size="2"),
                    rx.text("No existing record matches.", size="2")),
            rx.foreach(item.matches, lambda m: rx.flex(
                rx.text(m["name"], " · born ", m["dob_display"], " · MRN ", m["mrn"], " (", m["reasons"], ")",
                        size="2"),
                rx.spacer(),
                secondary_button("Link to this record", on_click=R.link(item["id"], m["id"]), type="button"),
                spacing="2", width="100%", wrap="wrap", align="center",
            )),
            primary_button("Identity checked: keep as a new record", on_click=R.accept_new(item["id"]),
                           type="button"),
            spacing="2", width="100%",
        ),
        width="100%", class_name="identity-check",
    )


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
                        rx.vstack(rx.foreach(R.identity_checks, _identity), width="100%")),
                rx.heading("Change requests", size="5", as_="h2"),
                rx.cond(R.changes.length() == 0,
                        empty_state("clipboard-check", "No change requests", "Requests from patients appear here."),
                        rx.vstack(rx.foreach(R.changes, _change), width="100%")),
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


add_nav_item("staff", "Review queue", "/staff/review", "clipboard-check")
add_nav_item("admin", "Review queue", "/admin/review", "clipboard-check")
