"""Privacy and sharing (/patient/privacy, the patient) and a chart's Privacy page (/chart/<id>/privacy:
the front desk, doctors, admins): consents, sensitive records, amendment requests and the accounting
of disclosures — each part drawn only for the roles the state says read it. Phone first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import chart_header
from patient_portal.components.emergency import chart_refused, withheld_notice
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
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.domain.consent.dto import ORDER, TEXTS
from patient_portal.pages.patients.chart_sections import missing_view
from patient_portal.state.chart_header import ChartHeaderState
from patient_portal.state.privacy import BASIS_CHOICES, CATEGORY_CHOICES, CONSENT_STATUSES
from patient_portal.state.privacy import PrivacyState as S
from patient_portal.state.session import SessionState

TAP = "44px"
TITLE = "Privacy and sharing"
add_nav_item("patient", TITLE, "/patient/privacy", "shield")


def _row_error(key: Any) -> rx.Component:
    return rx.cond(S.row_errors.contains(key), rx.text(S.row_errors[key], size="2", color=rx.color("red", 11),
                                                       role="alert"))


def _section(title: str, section_id: str, *children: rx.Component, description: Any = None) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="5", as_="h2"),
                             rx.text(description, size="2", color=rx.color("gray", 11)) if description is not None else rx.fragment(),
                             *children, spacing="3", width="100%"), width="100%", id=section_id)


# ---------------------------------------------------------------- consents


def _consent(item: Any) -> rx.Component:
    purpose = item["purpose"].to(str)
    return rx.box(
        rx.vstack(
            rx.flex(rx.text(item["title"], weight="bold", size="3"), rx.spacer(),
                    rx.badge(item["status"], color_scheme=rx.cond(item["allowed"], "green", "gray"), size="2",
                             high_contrast=True, class_name="consent-status", white_space="normal"),
                    wrap="wrap", spacing="2", width="100%", align="center"),
            rx.text(item["text"], size="2"),
            rx.cond(item["when"] != "", rx.text(item["when"], ", ", item["how"], " — recorded by ", item["by"],
                                                size="1", color=rx.color("gray", 11))),
            rx.cond(S.can["consent_own"], rx.flex(
                rx.cond(item["granted"],
                        rx.button("Withdraw", size="3", variant="soft", color_scheme="red", min_height=TAP,
                                  on_click=S.decide(purpose, "withdrawn", item["version"]), id="consent-" + purpose + "-withdraw"),
                        rx.fragment(
                            rx.button("I agree", size="3", min_height=TAP, on_click=S.decide(purpose, "granted", item["version"]),
                                      id="consent-" + purpose + "-agree"),
                            rx.button("No, thank you", size="3", variant="soft", min_height=TAP,
                                      on_click=S.decide(purpose, "declined", item["version"]),
                                      id="consent-" + purpose + "-decline"))),
                spacing="2", wrap="wrap")),
            _row_error(purpose),
            spacing="2", width="100%",
        ),
        id="consent-" + purpose, class_name="consent", width="100%", padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _paper_form() -> rx.Component:
    return rx.cond(S.can["paper"], rx.vstack(
        rx.heading("Record a paper consent", size="4", as_="h3"),
        rx.cond(S.consent_forms.length() == 0,
                rx.text("Scan the signed form and upload it under Documents (category “Consent form”) first.",
                        size="2", color=rx.color("gray", 11))),
        field_grid(
            select_field("Consent for", "paper-purpose", tuple((p, TEXTS[p].title) for p in ORDER), S.paper["purpose"],
                         lambda v: S.set_paper("purpose", v), error=S.paper_errors.get("purpose", ""), required=True),
            select_field("The patient's answer", "paper-status", CONSENT_STATUSES, S.paper["status"],
                         lambda v: S.set_paper("status", v), error=S.paper_errors.get("status", ""), required=True),
            form_field("Date on the form", "paper-signed-on", S.paper["signed_on"], lambda v: S.set_paper("signed_on", v),
                       type_="date", error=S.paper_errors.get("signed_on", ""), required=True),
            select_field("Scanned form", "paper-document", S.consent_forms, S.paper["document_id"],
                         lambda v: S.set_paper("document_id", v), error=S.paper_errors.get("document_id", ""),
                         required=True),
        ),
        primary_button("Record paper consent", on_click=S.record_paper, id="paper-submit", type="button"),
        spacing="3", width="100%", id="paper-consent"))


def _history(entry: Any) -> rx.Component:
    return rx.text(entry["when"], " — ", entry["title"], ": ", entry["status"], " (", entry["how"], ", by ",
                   entry["by"], ", text version ", entry["version"], ")", size="2", class_name="consent-history")


def consents_section() -> rx.Component:
    return _section(
        "Consents", "consents",
        rx.vstack(rx.foreach(S.consents, _consent), spacing="0", width="100%"),
        _paper_form(),
        rx.cond(S.consent_history.length() > 0, rx.el.details(
            rx.el.summary(rx.text("History of consent decisions", size="2", weight="medium"),
                          style={"min_height": TAP, "cursor": "pointer"}),
            rx.vstack(rx.foreach(S.consent_history, _history), spacing="1"))),
        description=rx.cond(S.own, "What the clinic may do with your information beyond your care. You can change "
                                   "your mind at any time.",
                            "What the patient agreed to. Only the patient changes these on the portal, or on paper "
                            "at the desk."),
    )


# ---------------------------------------------------------------- sensitive records


def _mark(row: Any) -> rx.Component:
    field_id = "sensitivity-" + row["id"]
    return rx.flex(
        rx.vstack(rx.text(row["title"], weight="medium", size="3"),
                  rx.text(row["kind_words"], " · ", row["when"], size="1", color=rx.color("gray", 11)),
                  spacing="0", min_width="0", flex="1"),
        rx.box(
            rx.el.label(rx.text("Sensitive?", size="1"), html_for=field_id, class_name="visually-hidden-label"),
            rx.select.root(
                rx.select.trigger(id=field_id, min_height=TAP, aria_label="Sensitivity of " + row["title"]),
                rx.select.content(*[rx.select.item(words, value=value) for value, words in CATEGORY_CHOICES]),
                value=rx.cond(row["category"] != "", row["category"], "none"),
                on_change=lambda v: S.set_sensitivity(row["kind"], row["id"], v), size="3",
            ),
            min_width="12rem",
        ),
        _row_error(row["id"]),
        wrap="wrap", spacing="3", align="center", width="100%", class_name="sensitive-row",
        padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def sensitive_section() -> rx.Component:
    return rx.cond(S.can["mark"], _section(
        "Sensitive records", "sensitive-records",
        withheld_notice(S.withheld, id="sensitive-withheld"),
        rx.cond(S.marks.length() > 0, rx.vstack(rx.foreach(S.marks, _mark), spacing="0", width="100%"),
                rx.text("No conditions, documents or visit notes yet.", size="2", color=rx.color("gray", 11))),
        description=rx.cond(S.own,
                            "Mark records about mental health, sexual health or substance use as sensitive: then only "
                            "the clinicians who wrote them or are assigned to them see them. Others see that something "
                            "is withheld; only emergency access opens it.",
                            "A sensitive record is seen by its author and the clinicians assigned to it (you, when you "
                            "mark it); others see that something is withheld; only emergency access opens it."),
    ))


# ---------------------------------------------------------------- amendments


def _amendment(a: Any) -> rx.Component:
    key = a["id"].to(str)
    return rx.card(rx.vstack(
        rx.flex(rx.badge(a["status_words"], color_scheme=rx.match(a["status"], ("accepted", "green"), ("denied", "red"),
                                                                   "amber"), size="2", high_contrast=True),
                rx.cond(a["status"] == "pending", rx.text("Answer due ", a["due"], size="2",
                                                          color=rx.cond(a["overdue"], rx.color("red", 11),
                                                                        rx.color("gray", 11)))),
                rx.text("Asked ", a["requested"], size="2", color=rx.color("gray", 11)), spacing="3", wrap="wrap"),
        rx.text(rx.text.strong("What is not right: "), a["part"], size="2"),
        rx.text(rx.text.strong("What it should say: "), a["change"], size="2"),
        rx.cond(a["reason"] != "", rx.text(rx.text.strong("Why: "), a["reason"], size="2")),
        rx.cond(a["response"] != "", rx.text(rx.text.strong(rx.cond(a["status"] == "denied", "Reason for the denial",
                                                                    "What was corrected"), " (", a["decided_by"],
                                                            ", ", a["decided"], "): "), a["response"], size="2",
                                             class_name="amendment-response")),
        rx.cond(a["disagreement"] != "", rx.callout(rx.text(rx.text.strong("Statement of disagreement: "),
                                                            a["disagreement"]), icon="message-square-warning",
                                                    color_scheme="amber", class_name="amendment-disagreement")),
        rx.cond(S.can["answer"] & (a["status"] == "pending"), rx.vstack(
            textarea_field("Your answer (what you corrected, or why you deny it)", "answer-" + key,
                           S.answers.get(key, ""), lambda v: S.set_answer(key, v), rows="3"),
            rx.flex(primary_button("Accept and amend", on_click=S.answer(key, "accept"), type="button",
                                   class_name="amendment-accept"),
                    secondary_button("Deny", on_click=S.answer(key, "deny"), type="button", color_scheme="red",
                                     class_name="amendment-deny"), spacing="2", wrap="wrap"),
            spacing="2", width="100%")),
        rx.cond(S.own & (a["status"] == "denied") & (a["disagreement"] == ""), rx.vstack(
            textarea_field("If you disagree, say why: your statement is filed with your record", "statement-" + key,
                           S.statements.get(key, ""), lambda v: S.set_statement(key, v), rows="3"),
            secondary_button("File my statement of disagreement", on_click=S.disagree(key), type="button",
                             class_name="amendment-disagree"),
            spacing="2", width="100%")),
        _row_error(key),
        spacing="2", width="100%"), width="100%", class_name="amendment")


def _amendment_form() -> rx.Component:
    return rx.cond(S.can["request"], rx.vstack(
        rx.heading("Ask to correct your record", size="4", as_="h3"),
        textarea_field("What is not right?", "amend-part", S.amendment["record_part"],
                       lambda v: S.set_amendment("record_part", v), error=S.amendment_errors.get("record_part", ""),
                       hint="For example: “My allergy list says penicillin; I am allergic to latex.”", required=True,
                       rows="2"),
        textarea_field("What should it say?", "amend-change", S.amendment["requested_change"],
                       lambda v: S.set_amendment("requested_change", v),
                       error=S.amendment_errors.get("requested_change", ""), required=True, rows="2"),
        textarea_field("Why (optional)", "amend-reason", S.amendment["reason"], lambda v: S.set_amendment("reason", v),
                       error=S.amendment_errors.get("reason", ""), rows="2"),
        primary_button("Send the request", on_click=S.request_amendment, type="button", id="amend-submit"),
        spacing="3", width="100%", id="amendment-form"))


def amendments_section() -> rx.Component:
    return rx.cond(S.can["amendments"], _section(
        "Corrections to the record", "amendments",
        _amendment_form(),
        rx.cond(S.amendments.length() > 0, rx.vstack(rx.foreach(S.amendments, _amendment), spacing="2", width="100%"),
                rx.text("No requests to correct the record.", size="2", color=rx.color("gray", 11))),
        description=rx.cond(S.own, "You can ask the clinic to correct your record. It answers within 60 days; if it "
                                   "says no, you can file a statement that stays with your record.",
                            "The patient's requests to amend the record (answer within 60 days), the answers and any "
                            "statement of disagreement, which travels with the record."),
    ))


# ---------------------------------------------------------------- disclosures


def _disclosure(d: Any) -> rx.Component:
    return rx.box(rx.vstack(
        rx.text(d["date"], " — ", rx.text.strong(d["recipient"]), size="3"),
        rx.cond(d["address"] != "", rx.text(d["address"], size="1", color=rx.color("gray", 11))),
        rx.text("What: ", d["what"], size="2"), rx.text("Why: ", d["why"], " (", d["basis"], ")", size="2"),
        spacing="1"), class_name="disclosure", width="100%", padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}")


def _disclosure_form() -> rx.Component:
    f, e = S.disclosure, S.disclosure_errors
    return rx.cond(S.can["disclose"], rx.vstack(
        rx.heading("Record records sent out", size="4", as_="h3"),
        field_grid(
            form_field("Date sent", "disclosure-date", f["disclosed_on"], lambda v: S.set_disclosure("disclosed_on", v),
                       type_="date", error=e.get("disclosed_on", ""), required=True),
            select_field("Allowed because", "disclosure-basis", BASIS_CHOICES, f["basis"],
                         lambda v: S.set_disclosure("basis", v), error=e.get("basis", ""), required=True),
            form_field("Sent to", "disclosure-recipient", f["recipient"], lambda v: S.set_disclosure("recipient", v),
                       error=e.get("recipient", ""), required=True),
            form_field("Their address (optional)", "disclosure-address", f["recipient_address"],
                       lambda v: S.set_disclosure("recipient_address", v), error=e.get("recipient_address", "")),
        ),
        textarea_field("What was sent", "disclosure-what", f["description"], lambda v: S.set_disclosure("description", v),
                       error=e.get("description", ""), required=True, rows="2"),
        textarea_field("Why", "disclosure-why", f["purpose"], lambda v: S.set_disclosure("purpose", v),
                       error=e.get("purpose", ""), required=True, rows="2"),
        primary_button("Record disclosure", on_click=S.record_disclosure, type="button", id="disclosure-submit"),
        spacing="3", width="100%", id="disclosure-form"))


def disclosures_section() -> rx.Component:
    return rx.cond(S.can["disclosures"], _section(
        "Who your information was sent to", "disclosures",
        download_button("Download the accounting (PDF)", "/api/patients/" + S.patient_ref + "/disclosures.pdf",
                        link_id="disclosures-pdf"),
        _disclosure_form(),
        rx.cond(S.disclosures.length() > 0, rx.vstack(rx.foreach(S.disclosures, _disclosure), spacing="0", width="100%"),
                rx.text("Nothing was sent outside treatment, payment and the clinic's operations in the last six years.",
                        size="2", color=rx.color("gray", 11))),
        description="Disclosures outside treatment, payment and the clinic's operations in the last six years: when, "
                    "to whom, what and why.",
    ))


def _body() -> rx.Component:
    return rx.vstack(error_callout(S.error, id="privacy-error"), consents_section(), sensitive_section(),
                     amendments_section(), disclosures_section(), spacing="4", width="100%")


@rx.page(route="/patient/privacy", title=f"{TITLE} — {PRODUCT_NAME}",
         on_load=[SessionState.require("patient"), S.load_own])
def patient_privacy() -> rx.Component:
    return role_shell(
        "patient",
        page_header(TITLE, "Your consents, sensitive records, corrections and who your information was sent to."),
        rx.match(S.status, ("ok", _body()), ("denied", not_permitted(SessionState.home)), ("missing", missing_view()),
                 checking()),
        title=TITLE,
    )


def _chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.hstack(rx.heading("Privacy", size="6", as_="h2"), rx.spacer(),
                  rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Back to the chart", align="center"),
                          href="/chart/" + S.patient_ref, min_height=TAP, display="flex", align_items="center"),
                  width="100%", align="center"),
        _body(),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]/privacy", title=f"Privacy — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), ChartHeaderState.load, S.load_chart])
def chart_privacy() -> rx.Component:
    return role_shell(
        "account",
        rx.match(S.status, ("ok", _chart_view()), ("denied", chart_refused(S.patient_ref)), ("missing", missing_view()),
                 checking()),
        title="Privacy",
    )
