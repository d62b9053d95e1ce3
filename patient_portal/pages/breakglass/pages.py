"""Break-the-glass: the request form (/chart/<id>/emergency-access) and the admins' page of active
grants and review tasks (/admin/emergency-access). Phone first: one column, big targets."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.core.access import Action
from patient_portal.domain.breakglass.dto import REASONS
from patient_portal.pages.patients.chart_sections import missing_view
from patient_portal.state.breakglass import FORM_ID
from patient_portal.state.breakglass import EmergencyAccessState as E
from patient_portal.state.breakglass import EmergencyAdminState as A
from patient_portal.state.session import SessionState

TAP = "44px"
add_nav_item("admin", "Emergency access", "/admin/emergency-access", "key-round", needs=Action.EMERGENCY_ACCESS_MANAGE)


def _error(name: str) -> rx.Component:
    return rx.cond(E.errors[name], rx.text(E.errors[name], size="2", color=rx.color("red", 11), role="alert",
                                           id=f"{FORM_ID}-{name.replace('_', '-')}-error", class_name="field-error"))


def _label(text: str, field_id: str) -> rx.Component:
    return rx.el.label(rx.text(text, weight="medium", size="2"), html_for=field_id)


def _reasons() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(rx.text("Why do you need access now?", weight="medium", size="2")),
        rx.radio_group.root(
            rx.vstack(*[rx.el.label(rx.hstack(rx.radio_group.item(value=code, id=f"reason-{code}"),
                                              rx.text(words, size="3"), align="center", spacing="2",
                                              min_height=TAP),
                                    html_for=f"reason-{code}") for code, words in REASONS.items()],
                      spacing="1"),
            name="reason_code", required=True, id="emergency-reason",
        ),
        _error("reason_code"),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _form() -> rx.Component:
    return rx.vstack(
        page_header("Emergency access", "You are not on this patient's care team."),
        rx.callout(rx.text("Access lasts ", rx.text.strong(E.minutes, " minutes"), ". Everything you open is "
                           "recorded with the purpose “emergency”, an administrator reviews it, and the patient is "
                           "told afterwards."), icon="siren", color_scheme="amber", high_contrast=True, width="100%"),
        rx.card(
            rx.el.form(
                rx.vstack(
                    error_callout(E.error, id="emergency-error"),
                    _reasons(),
                    rx.vstack(_label("In a few words (needed for “Other”)", f"{FORM_ID}-reason-text"),
                              rx.text_area(id=f"{FORM_ID}-reason-text", name="reason_text", rows="3", max_length=500,
                                           width="100%", size="3"),
                              _error("reason_text"), spacing="1", width="100%"),
                    rx.vstack(_label("Your password", f"{FORM_ID}-password"),
                              rx.input(id=f"{FORM_ID}-password", name="password", type="password", size="3",
                                       auto_complete="current-password", max_length=128, required=True, width="100%",
                                       min_height=TAP),
                              rx.text("To confirm it is you, not someone using your session.", size="1",
                                      color=rx.color("gray", 11)),
                              _error("password"), spacing="1", width="100%"),
                    rx.cond(SessionState.mfa_enabled, rx.vstack(
                        _label("Code from your authenticator app", f"{FORM_ID}-code"),
                        rx.input(id=f"{FORM_ID}-code", name="code", input_mode="numeric", auto_complete="one-time-code",
                                 max_length=16, size="3", width="100%", min_height=TAP),
                        _error("code"), spacing="1", width="100%")),
                    rx.flex(
                        rx.button(rx.icon("key-round", size=16), "Open the record in an emergency", type="submit",
                                  size="3", color_scheme="red", high_contrast=True, min_height=TAP,
                                  id="emergency-submit"),
                        rx.link(rx.button("Cancel", variant="soft", size="3", min_height=TAP, type="button"),
                                href=SessionState.home),
                        spacing="3", wrap="wrap",
                    ),
                    spacing="4", width="100%", max_width="520px",
                ),
                on_submit=E.submit, reset_on_submit=False, id=FORM_ID,
            ),
            width="100%",
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]/emergency-access", title=f"Emergency access — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), E.load])
def emergency_access() -> rx.Component:
    return role_shell(
        "account",
        rx.match(E.status, ("ok", _form()), ("denied", not_permitted(SessionState.home)), ("missing", missing_view()),
                 checking()),
        title="Emergency access",
    )


# ---------------------------------------------------------------- admins


def _facts(row: Any) -> rx.Component:
    return rx.vstack(
        rx.link(rx.text(row["patient"], weight="medium"), href=row["href"]),
        rx.text(row["who"], size="2"),
        rx.text("Reason: ", row["reason"], size="2"),
        rx.cond(row["reason_text"] != "", rx.text("“", row["reason_text"], "”", size="2", color=rx.color("gray", 11))),
        rx.text(row["started"], " – ", rx.cond(row["ended"] != "", row["ended"], row["until"]), " · ", row["state"],
                size="2", color=rx.color("gray", 11)),
        spacing="1", width="100%",
    )


def _active(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        _facts(row),
        confirm_dialog(rx.button("End now", color_scheme="red", variant="soft", size="3", min_height=TAP,
                                 aria_label="End emergency access of " + row["who"]),
                       "End this emergency access?", "The clinician loses the record at their next click.",
                       "End access", A.end(row["id"])),
        spacing="2"), width="100%", class_name="active-grant")


def _pending(row: Any) -> rx.Component:
    note_id = "review-note-" + row["id"]
    return rx.card(rx.vstack(
        _facts(row),
        rx.el.label(rx.text("Note (needed to flag)", size="2", weight="medium"), html_for=note_id),
        rx.text_area(id=note_id, value=A.notes.get(row["id"], ""), on_change=lambda v: A.set_note(row["id"], v),
                     rows="2", width="100%"),
        rx.cond(A.errors.contains(row["id"]), rx.text(A.errors[row["id"]], size="2", color=rx.color("red", 11),
                                                      role="alert")),
        rx.flex(
            rx.button("Approve", size="3", min_height=TAP, on_click=A.review(row["id"], "approve"),
                      class_name="review-approve", aria_label="Approve the access of " + row["who"]),
            rx.button("Flag for follow-up", size="3", variant="soft", color_scheme="red", min_height=TAP,
                      on_click=A.review(row["id"], "flag"), class_name="review-flag"),
            spacing="2", wrap="wrap"),
        spacing="2"), width="100%", class_name="review-task")


def _flagged(row: Any) -> rx.Component:
    return rx.card(rx.vstack(_facts(row), rx.text("Flagged by ", row["reviewer"], ": ", row["note"], size="2"),
                             spacing="2"), width="100%", class_name="flagged-grant")


def _section(title: str, rows: Any, render, empty: str, section_id: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="5", as_="h2"),
        rx.cond(rows.length() > 0, rx.vstack(rx.foreach(rows, render), spacing="2", width="100%"),
                rx.text(empty, size="2", color=rx.color("gray", 11))),
        spacing="2", width="100%", id=section_id,
    )


@rx.page(route="/admin/emergency-access", title=f"Emergency access — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), A.load])
def admin_emergency_access() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Emergency access", "Break-the-glass access: what runs now, and every use to review."),
        error_callout(A.error, id="emergency-admin-error"),
        rx.match(
            A.list_status,
            ("ok", rx.vstack(
                _section("Active now", A.active, _active, "Nobody is using emergency access now.", "active-grants"),
                _section("To review", A.pending, _pending, "Nothing to review.", "review-tasks"),
                _section("Flagged", A.flagged, _flagged, "No access is flagged.", "flagged-grants"),
                spacing="5", width="100%")),
            ("failed", empty_state("triangle-alert", "Emergency access could not be loaded", "Reload the page.")),
            checking(),
        ),
        title="Emergency access",
    )
