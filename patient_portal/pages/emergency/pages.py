"""The emergency screens (issue 15 part A). Who may see or change what is decided by the emergency
service; these only draw ``state.emergency``.

``info_card`` — "Emergency information" on the chart and "Your emergency information" on the
patient's record: code status, advance directives with the agent and the signed copy, special
instructions, the printable emergency card; an edit form (doctors also set the code status).
/chart/<id>/emergency — the one chart header, then the protocol in progress: its checklist (tick
each step; the time is kept), the emergency contacts' statuses, a doctor's "Notify the emergency
contacts", and closing with an outcome note; or, with none in progress, the protocols to start.
/admin/protocols — the clinic's protocols: write, change, retire.
/emergency/ack?t=… — the emergency contact's page: one button, "I got the message".
Phone first: one column, labelled inputs, tap targets at least 44 px.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import chart_header
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    download_button,
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, public_shell, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import empty_state
from patient_portal.core.access import Action
from patient_portal.domain.emergency.dto import CODE_STATUSES, DIRECTIVE_KINDS, WHO
from patient_portal.state.emergency import INFO_FORM_ID, NONE, PROTOCOL_FORM_ID
from patient_portal.state.emergency import AckState as K
from patient_portal.state.emergency import EmergencyInfoState as I
from patient_portal.state.emergency import EmergencyRunState as R
from patient_portal.state.emergency import ProtocolEditorState as P
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
ROWS = list[dict[str, Any]]
KINDS = list(DIRECTIVE_KINDS.items())
CODES = [(NONE, "Not recorded")] + list(CODE_STATUSES.items())
WHOS = list(WHO.items())

add_nav_item("admin", "Emergency protocols", "/admin/protocols", "siren", needs=Action.PROTOCOL_WRITE)


def _small(text: Any, on_click: Any = None, **props: Any) -> rx.Component:
    """A small action button; without `on_click` it is a confirm dialog's trigger."""
    if on_click is not None:
        props["on_click"] = on_click
    if "color_scheme" in props:  # Radix's soft red and amber text fall just short of 4.5:1
        props.setdefault("high_contrast", True)
    return rx.button(text, variant="soft", size="2", min_height=TAP, type="button", **props)


# ---------------------------------------------------------------- emergency information


def _directive_row(row: Any, index: Any) -> rx.Component:
    key = "directives." + index.to(str) + "."
    return rx.card(
        rx.vstack(
            field_grid(
                select_field("Kind", "directive-kind-" + index.to(str), KINDS, row["kind"],
                             lambda v: I.set_directive(index, "kind", v), error=I.form_errors[key + "kind"]),
                form_field("Signed on", "directive-date-" + index.to(str), row["date"],
                           lambda v: I.set_directive(index, "date", v), type_="date",
                           error=I.form_errors[key + "date"]),
                select_field("Healthcare agent (an emergency contact)", "directive-agent-" + index.to(str),
                             I.contact_choices, row["agent_contact_id"],
                             lambda v: I.set_directive(index, "agent_contact_id", v),
                             error=I.form_errors[key + "agent_contact_id"]),
                rx.cond(I.document_choices.length() > 1,
                        select_field("Signed copy (from the documents)", "directive-document-" + index.to(str),
                                     I.document_choices, row["document_id"],
                                     lambda v: I.set_directive(index, "document_id", v),
                                     error=I.form_errors[key + "document_id"])),
            ),
            _small("Remove this directive", I.remove_directive(index), color_scheme="red"),
            spacing="3", width="100%",
        ),
        width="100%", variant="surface", class_name="directive-row",
    )


def _info_form() -> rx.Component:
    return rx.vstack(
        rx.heading("Advance directives", size="3", as_="h3"),
        rx.foreach(I.form_directives, _directive_row),
        _small("Add an advance directive", I.add_directive, id="add-directive"),
        error_callout(I.form_errors["directives"]),
        textarea_field("Special instructions (one per line)", "emergency-instructions", I.form_instructions,
                       I.set_instructions, error=I.form_errors["instructions"], rows="4",
                       hint="For example: “Deaf — write or text”, “Pacemaker”, “Keep away from latex”."),
        error_callout(I.form_error, id="emergency-info-error"),
        rx.flex(primary_button("Save", on_click=I.save, type="button", id="emergency-info-save"),
                secondary_button("Cancel", on_click=I.cancel_edit, type="button"), spacing="3", wrap="wrap"),
        spacing="3", width="100%", id=INFO_FORM_ID,
    )


def _code_form() -> rx.Component:
    return rx.vstack(
        select_field("Code status", "code-status", CODES, I.form_code, I.set_code),
        error_callout(I.form_error, id="code-status-error"),
        rx.flex(primary_button("Save code status", on_click=I.save_code, type="button", id="code-status-save"),
                secondary_button("Cancel", on_click=I.cancel_edit, type="button"), spacing="3", wrap="wrap"),
        spacing="3", width="100%", id="code-status-form",
    )


def _facts() -> rx.Component:
    return rx.vstack(
        rx.text(rx.text.span("Code status: ", weight="bold"), rx.cond(I.code_status != "", I.code_status,
                                                                       "not recorded"), id="info-code-status"),
        rx.text("Advance directives (LOINC 42348-3)", weight="bold", size="2"),
        rx.cond(I.directives.length() > 0,
                rx.el.ul(rx.foreach(I.directives, lambda d: rx.el.li(
                    rx.text(rx.text.span(d["label"], weight="medium"), " — ", d["detail"], size="2"))),
                    style={"margin": "0", "padding_left": "1.25rem"}, id="info-directives"),
                rx.text("None on file.", size="2", color=MUTED)),
        rx.text("Special instructions", weight="bold", size="2"),
        rx.cond(I.instructions.length() > 0,
                rx.el.ul(rx.foreach(I.instructions, lambda t: rx.el.li(rx.text(t, size="2"))),
                         style={"margin": "0", "padding_left": "1.25rem"}, id="info-instructions"),
                rx.text("None.", size="2", color=MUTED)),
        rx.flex(
            rx.cond(I.can_edit, _small("Edit directives and instructions", I.start_edit, id="edit-emergency-info")),
            rx.cond(I.can_set_code, _small("Set code status", I.start_code, id="edit-code-status")),
            download_button("Print emergency card", I.card_href, link_id="emergency-card-link", icon="printer"),
            spacing="2", wrap="wrap",
        ),
        spacing="2", width="100%",
    )


def info_card(title: str = "Emergency information") -> rx.Component:
    """The patient's emergency information (read by ``EmergencyInfoState.load`` or ``load_own``)."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.match(
                I.info_status,
                ("ok", rx.match(I.editing, ("info", _info_form()), ("code", _code_form()), _facts())),
                ("loading", rx.text("Loading…", size="2", color=MUTED)),
                rx.text("The emergency information could not be shown.", size="2", color=MUTED),
            ),
            spacing="3", width="100%",
        ),
        width="100%", id="emergency-info",
    )


# ---------------------------------------------------------------- the chart's Emergency page


def _step(step: Any) -> rx.Component:
    return rx.box(
        rx.checkbox(step["text"].to(str) + " (" + step["who"].to(str) + ")",
                    checked=step["done"].to(bool), on_change=lambda checked: R.tick(step["id"], checked),
                    disabled=~R.active["can_act"].to(bool), size="3", class_name="emergency-step-box"),
        rx.cond(step["when"].to(str) != "", rx.text(step["when"], size="1", color=MUTED, padding_left="1.75rem")),
        min_height=TAP, display="flex", flex_direction="column", justify_content="center", width="100%",
        class_name="emergency-step",
    )


def _notice(n: Any) -> rx.Component:
    return rx.box(
        rx.flex(rx.text(n["who"], weight="medium"), rx.text(n["how"], size="2", color=MUTED), spacing="2",
                wrap="wrap"),
        rx.badge(n["line"], color_scheme=n["tone"].to(str), high_contrast=True, size="2", white_space="normal",
                 class_name="notice-status"),
        padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        class_name="emergency-notice",
    )


def _notices(run: Any) -> rx.Component:
    notices = run["notices"].to(ROWS)
    return rx.vstack(
        rx.flex(rx.heading("Emergency contacts", size="3", as_="h3"), rx.spacer(),
                rx.text("Checked ", R.checked_at, size="1", color=MUTED),
                _small(rx.hstack(rx.icon("refresh-cw", size=14), "Refresh", align="center"), R.refresh,
                       id="emergency-refresh"),
                width="100%", align="center", spacing="2", wrap="wrap"),
        rx.cond(run["notify"] != "", rx.text(run["notify"], size="2", id="notify-status")),
        rx.cond(notices.length() > 0, rx.vstack(rx.foreach(notices, _notice), spacing="0", width="100%",
                                                id="emergency-notices"),
                rx.text("The emergency contacts have not been notified.", size="2", color=MUTED)),
        rx.cond(run["can_notify"].to(bool),
                confirm_dialog(_small("Notify the emergency contacts", color_scheme="amber", id="notify-contacts"),
                               "Notify the emergency contacts?",
                               "They are messaged one after the other, primary first, and asked to call the clinic. "
                               "The messages say nothing about what happened.", "Notify them", R.notify_contacts,
                               color_scheme="amber", confirm_id="notify-confirm")),
        spacing="2", width="100%",
    )


def _close_form(run: Any) -> rx.Component:
    return rx.vstack(
        textarea_field("Outcome note", "emergency-outcome", R.outcome, R.set_outcome, error=R.outcome_error, rows="3",
                       required=True, hint="How it ended, for the record: “Transferred to Mass General by ambulance”."),
        confirm_dialog(primary_button("Close the emergency", type="button", color_scheme="red",
                                      high_contrast=True, id="emergency-close-open"),
                       "Close this emergency?", "The checklist and the outcome note are kept as they are, and no "
                       "further contact is notified.", "Close it", R.close, confirm_id="emergency-close-confirm"),
        spacing="2", width="100%", id="emergency-close",
    )


def _run_card(run: Any, *, current: bool) -> rx.Component:
    steps = run["steps"].to(ROWS)
    return rx.card(
        rx.vstack(
            rx.flex(rx.heading(run["title"], size="5", as_="h2"),
                    rx.cond(run["active"].to(bool),
                            rx.badge("In progress", color_scheme="red", high_contrast=True, size="2"),
                            rx.badge("Closed", color_scheme="gray", high_contrast=True, size="2")),
                    spacing="3", align="center", wrap="wrap"),
            rx.text(run["started"], " · ", run["done"], size="2", color=MUTED),
            rx.cond(run["closed"] != "", rx.text(run["closed"], size="2", color=MUTED)),
            rx.cond(run["outcome"] != "", rx.text(rx.text.span("Outcome: ", weight="bold"), run["outcome"], size="2",
                                                  white_space="pre-wrap", class_name="emergency-outcome")),
            rx.heading("Checklist", size="3", as_="h3"),
            rx.vstack(rx.foreach(steps, _step), spacing="1", width="100%", id="emergency-steps")
            if current else rx.el.ul(rx.foreach(steps, lambda s: rx.el.li(rx.text(
                s["text"], " — ", rx.cond(s["done"].to(bool), s["when"], "not done"), size="2"))),
                style={"margin": "0", "padding_left": "1.25rem"}),
            _notices(run) if current else rx.fragment(),
            rx.cond(run["can_act"].to(bool), _close_form(run)) if current else rx.fragment(),
            spacing="3", width="100%",
        ),
        width="100%", class_name="emergency-run", **({"id": "emergency-run"} if current else {}),
    )


def _start_form() -> rx.Component:
    steps = R.protocol_steps[R.pick].to(list[str])
    return rx.card(
        rx.vstack(
            rx.heading("Start an emergency protocol", size="4", as_="h2"),
            select_field("Protocol", "emergency-protocol", R.protocols, R.pick, R.choose),
            rx.cond(R.pick != "", rx.el.ol(rx.foreach(steps, lambda s: rx.el.li(rx.text(s, size="2"))),
                                           style={"margin": "0", "padding_left": "1.5rem"})),
            rx.box(rx.checkbox("Notify the emergency contacts (primary first; they are asked to call the clinic)",
                               checked=R.notify_on_start, on_change=R.set_notify, id="emergency-notify", size="3"),
                   min_height=TAP, display="flex", align_items="center"),
            confirm_dialog(primary_button("Start emergency protocol", type="button", color_scheme="red",
                                          high_contrast=True, id="emergency-start-open", disabled=R.pick == ""),
                           "Start this emergency protocol?",
                           "“Emergency in progress” shows on this patient's chart for everyone on duty until it is "
                           "closed.", "Start it", R.start, confirm_id="emergency-start-confirm"),
            spacing="3", width="100%",
        ),
        width="100%", id="emergency-start",
    )


def run_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.flex(
            rx.heading("Emergency", size="6", as_="h2"),
            rx.spacer(),
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Back to the chart", align="center"),
                    href="/chart/" + R.patient_ref, min_height=TAP, display="flex", align_items="center"),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        error_callout(R.error, id="emergency-error"),
        rx.cond(R.active.contains("id"), _run_card(R.active, current=True),
                rx.cond(R.can_start, _start_form(),
                        empty_state("siren", "No emergency in progress",
                                    "Doctors and the front desk start a protocol here when there is an emergency."))),
        rx.cond(R.earlier.length() > 0, rx.vstack(
            rx.heading("Earlier emergencies", size="4", as_="h2"),
            rx.foreach(R.earlier, lambda r: _run_card(r, current=False)),
            spacing="3", width="100%")),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]/emergency", title=f"Emergency — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), R.load_chart])
def chart_emergency() -> rx.Component:
    return role_shell(
        "account",
        rx.match(R.status, ("ok", run_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", rx.callout("That patient record was not found.", icon="info", width="100%")),
                 checking()),
        title="Emergency",
    )


# ---------------------------------------------------------------- the admin's protocol editor


def _step_row(step: Any, index: Any) -> rx.Component:
    key = "steps." + index.to(str) + "."
    return rx.flex(
        rx.box(form_field(rx.text("Step ", (index + 1).to(str)), "protocol-step-" + index.to(str), step["text"],
                          lambda v: P.set_step(index, "text", v), error=P.form_errors[key + "text"]),
               flex="1", min_width="0"),
        rx.box(select_field("Who does it", "protocol-who-" + index.to(str), WHOS, step["who"],
                            lambda v: P.set_step(index, "who", v), error=P.form_errors[key + "who"]),
               width=rx.breakpoints(initial="100%", sm="12rem")),
        rx.hstack(
            _small(rx.icon("arrow-up", size=14), P.move_step(index, -1), aria_label="Move step up"),
            _small(rx.icon("arrow-down", size=14), P.move_step(index, 1), aria_label="Move step down"),
            _small(rx.icon("trash-2", size=14), P.remove_step(index), color_scheme="red", aria_label="Remove step"),
            spacing="1",
        ),
        direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
        align=rx.breakpoints(initial="stretch", sm="end"), class_name="protocol-step",
    )


def _protocol_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(P.editing == "new", "New protocol", "Edit the protocol"), size="4", as_="h2"),
            form_field("Name", "protocol-name", P.form["name"], lambda v: P.set_field("name", v), required=True,
                       error=P.form_errors["name"]),
            form_field("When to use it", "protocol-description", P.form["description"],
                       lambda v: P.set_field("description", v), error=P.form_errors["description"]),
            rx.box(rx.checkbox("Starting it notifies the patient's emergency contacts", checked=P.form_notify,
                               on_change=P.set_form_notify, id="protocol-notify", size="3"),
                   min_height=TAP, display="flex", align_items="center"),
            rx.heading("Steps", size="3", as_="h3"),
            rx.foreach(P.form_steps, _step_row),
            error_callout(P.form_errors["steps"]),
            _small("Add a step", P.add_step, id="protocol-add-step"),
            error_callout(P.form_error, id="protocol-error"),
            rx.flex(primary_button("Save protocol", on_click=P.save, type="button", id="protocol-save"),
                    secondary_button("Cancel", on_click=P.cancel, type="button"), spacing="3", wrap="wrap"),
            spacing="3", width="100%",
        ),
        width="100%", id=PROTOCOL_FORM_ID,
    )


def _protocol_item(p: Any) -> rx.Component:
    steps = p["steps"].to(list[str])
    return rx.card(
        rx.vstack(
            rx.flex(rx.heading(p["name"], size="4", as_="h2"),
                    rx.cond(p["retired"].to(bool), rx.badge("Retired", color_scheme="gray", high_contrast=True)),
                    spacing="3", align="center", wrap="wrap"),
            rx.cond(p["description"] != "", rx.text(p["description"], size="2")),
            rx.text(p["notify"], size="2", color=MUTED),
            rx.el.ol(rx.foreach(steps, lambda s: rx.el.li(rx.text(s, size="2"))),
                     style={"margin": "0", "padding_left": "1.5rem"}),
            rx.cond(P.editing == "", rx.flex(
                _small("Edit", P.edit(p["id"]), aria_label="Edit " + p["name"].to(str)),
                rx.cond(p["retired"].to(bool),
                        _small("Offer it again", P.retire(p["id"], False)),
                        confirm_dialog(_small("Retire", color_scheme="red", aria_label="Retire " + p["name"].to(str)),
                                       "Retire this protocol?", "It is no longer offered when an emergency starts; "
                                       "the emergencies that used it keep their checklist.", "Retire",
                                       P.retire(p["id"], True))),
                spacing="2", wrap="wrap")),
            rx.cond(P.editing == p["id"], _protocol_form()),
            spacing="2", width="100%",
        ),
        width="100%", class_name="protocol-item",
    )


@rx.page(route="/admin/protocols", title=f"Emergency protocols — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), P.load])
def admin_protocols() -> rx.Component:
    return role_shell(
        "admin",
        rx.vstack(
            page_header("Emergency protocols", "The checklists doctors and the front desk start for a patient in an "
                        "emergency.", rx.cond(P.editing == "", primary_button("New protocol", on_click=P.new,
                                                                               type="button", id="protocol-new"))),
            error_callout(P.error, id="protocols-error"),
            rx.cond(P.editing == "new", _protocol_form()),
            rx.match(P.status,
                     ("ok", rx.vstack(rx.foreach(P.items, _protocol_item), spacing="3", width="100%",
                                      id="protocol-list")),
                     ("loading", rx.text("Loading…", color=MUTED)),
                     rx.text("The protocols could not be shown.", color=MUTED)),
            spacing="4", width="100%",
        ),
        title="Emergency protocols",
    )


# ---------------------------------------------------------------- the emergency contact's page


@rx.page(route="/emergency/ack", title=f"Emergency contact — {PRODUCT_NAME}", on_load=K.load)
def acknowledge_page() -> rx.Component:
    return public_shell(
        rx.center(rx.card(rx.vstack(
            rx.heading(rx.cond(K.title != "", K.title, "Emergency contact message"), size="7", as_="h1"),
            rx.cond(
                K.problem != "",
                error_callout(K.problem, id="ack-problem"),
                rx.cond(
                    K.acknowledged,
                    rx.callout(K.done, icon="circle-check", color_scheme="green", role="status", width="100%",
                               id="ack-done"),
                    rx.cond(K.checked, rx.vstack(
                        rx.text(K.lead, size="4"),
                        primary_button(K.button, on_click=K.acknowledge, type="button", width="100%",
                                       id="ack-button"),
                        spacing="4", width="100%"),
                        rx.text("Checking the link…", color=MUTED)),
                ),
            ),
            spacing="4", width="100%"), width="100%", max_width="480px", size="3"), width="100%", padding_y="6"),
    )
