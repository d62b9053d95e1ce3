"""The billing office's pages (staff, admins). What may be seen and done is decided by the billing
service; these only draw the states.

/billing/claims — claims by status, newest first. /billing/denials — denied claims by appeal
deadline with the days left. /billing/remittance — fetch the payers' 835s or upload one, and what
posting could not place. /billing/aging — A/R aging by payer and patient, with a chart.
/billing/claims/<id> — one claim: lines, problems, history, appeals, and the next step.
Phone first: tables turn into cards below 768 px.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted, notice_callout
from patient_portal.components.forms import form_field, primary_button, secondary_button, textarea_field
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.billing import FILTERS, UPLOAD_INPUT
from patient_portal.state.billing import BillingOfficeState as B
from patient_portal.state.billing_claim import APPEAL_FORM
from patient_portal.state.billing_claim import ClaimState as C
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
SECTIONS = (("Claims", "/billing/claims", "file-stack"), ("Denials", "/billing/denials", "file-warning"),
            ("Remittance", "/billing/remittance", "banknote"), ("A/R aging", "/billing/aging", "chart-column"))

for _role in ("staff", "admin"):
    add_nav_item(_role, "Billing", "/billing/claims", "receipt", needs=Action.BILLING_WORKLIST)


def office_nav(current: str) -> rx.Component:
    """The billing office's own sections, under the page title (setup only for admins)."""
    links = [rx.link(rx.button(rx.icon(icon, size=16), label, size="2", min_height=TAP,
                               variant="solid" if href == current else "soft"),
                     href=href, aria_current="page" if href == current else None) for label, href, icon in SECTIONS]
    links.append(rx.cond(SessionState.role == "admin", rx.link(
        rx.button(rx.icon("settings", size=16), "Setup", size="2", min_height=TAP,
                  variant="solid" if current == "/billing/setup" else "soft"), href="/billing/setup")))
    return rx.el.nav(rx.flex(*links, spacing="2", wrap="wrap"), aria_label="Billing sections", width="100%")


def status_badge(row: Any) -> rx.Component:
    return rx.badge(row["status_text"], color_scheme=row["color"], high_contrast=True, size="2",
                    class_name="claim-status")


def office_page(route: str, title: str, on_load: Any, body: Any, subtitle: str) -> None:
    """Register one office page: the guard, the state's loader, the shell and the section links."""

    def render() -> rx.Component:
        return role_shell(
            "account",
            rx.match(B.status,
                     ("ok", rx.vstack(page_header(title, subtitle), office_nav(route), error_callout(B.error),
                                      body(), spacing="4", width="100%")),
                     ("denied", not_permitted(SessionState.home)), checking()),
            title=title,
        )

    render.__name__ = "billing_" + route.rsplit("/", 1)[-1]  # one page component name per route
    rx.page(route=route, title=f"{title} — {PRODUCT_NAME}", on_load=[SessionState.require("any"), on_load])(render)


# ---------------------------------------------------------------- claims


def _claim_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(rx.link(row["number"], href=row["href"], class_name="claim-link")),
            rx.table.cell(row["patient"]), rx.table.cell(row["payer"]), rx.table.cell(status_badge(row)),
            rx.table.cell(row["total"]), rx.table.cell(row["billed"])]


def _claim_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.link(row["number"], href=row["href"], weight="medium", min_height=TAP, display="flex",
                          align_items="center"), status_badge(row), wrap="wrap", spacing="2", align="center"),
        rx.text(row["patient"], " · ", row["payer"], size="2"),
        rx.text(row["total"], " · sent ", row["billed"], size="2", color=MUTED),
        spacing="1", width="100%"), width="100%")


def claims_table(rows: Any, empty_title: str, empty_text: Any, table_id: str = "claims-table") -> rx.Component:
    return rx.cond(
        rows.length() > 0,
        data_table(["Claim", "Patient", "Payer", "Status", "Total", "Sent"], rows, _claim_cells, card=_claim_card,
                   caption="Claims", table_id=table_id),
        empty_state("file-stack", empty_title, empty_text),
    )


def claims_body() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.el.label(rx.text("Show", as_="span", size="2", weight="medium"), html_for="claim-filter"),
            rx.select.root(rx.select.trigger(id="claim-filter", min_height=TAP),
                           rx.select.content(*[rx.select.item(w, value=v) for v, w in FILTERS]),
                           value=B.claim_filter, on_change=B.set_claim_filter, size="3"),
            spacing="1",
        ),
        claims_table(B.claims, "No claims here",
                     "Claims are built on a patient's Billing page (from the chart) once their charges are entered."),
        spacing="3", width="100%",
    )


office_page("/billing/claims", "Claims", B.load_claims, claims_body,
            "Every claim with its status; open one to see its history and what to do next.")


# ---------------------------------------------------------------- denials


def _denial_deadline(row: Any) -> rx.Component:
    return rx.vstack(
        rx.text(row["deadline"], size="2"),
        rx.badge(row["days_left"], color_scheme=rx.cond(row["urgent"], "red", "amber"), high_contrast=True,
                 class_name="days-left"),
        spacing="1")


def _denial_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(rx.link(row["number"], href=row["href"], class_name="claim-link")),
            rx.table.cell(row["patient"]), rx.table.cell(row["payer"]), rx.table.cell(row["reasons"]),
            rx.table.cell(row["amount"]), rx.table.cell(_denial_deadline(row))]


def _denial_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.link(row["number"], href=row["href"], weight="medium", min_height=TAP, display="flex", align_items="center"),
        rx.text(row["patient"], " · ", row["payer"], size="2"),
        rx.text(row["reasons"], " · ", row["amount"], size="2"),
        _denial_deadline(row), spacing="1", width="100%"), width="100%", class_name="denial-card")


def denials_body() -> rx.Component:
    return rx.cond(
        B.denials.length() > 0,
        data_table(["Claim", "Patient", "Payer", "Reason", "Denied", "Appeal by"], B.denials, _denial_cells,
                   card=_denial_card, caption="Denied claims by appeal deadline", table_id="denials-table"),
        empty_state("circle-check", "No denials waiting",
                    "When a payer denies a line, the claim appears here with its appeal deadline."),
    )


office_page("/billing/denials", "Denials", B.load_denials, denials_body,
            "Denied claims, the soonest appeal deadline first. Open one to write the appeal.")


# ---------------------------------------------------------------- remittance


def _work_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["what"]), rx.table.cell(row["number"]), rx.table.cell(row["amount"]),
            rx.table.cell(row["when"]), rx.table.cell(_resolve(row))]


def _resolve(row: Any) -> rx.Component:
    return confirm_dialog(
        rx.button("Mark dealt with", variant="soft", size="2", min_height=TAP, type="button",
                  aria_label="Mark dealt with: " + row["number"].to(str)),
        "Mark this item dealt with?", "It leaves the worklist. Do this once the payment is placed or returned.",
        "Mark dealt with", B.resolve(row["id"]), color_scheme="indigo")


def _work_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(rx.text(row["what"], weight="medium"), rx.text(row["number"], " · ", row["amount"], size="2"),
                             rx.text(row["when"], size="1", color=MUTED), _resolve(row), spacing="1", width="100%"),
                   width="100%")


def remittance_body() -> rx.Component:
    return rx.vstack(
        rx.card(rx.vstack(
            rx.heading("Post remittances (835)", size="4", as_="h2"),
            rx.text("Fetch what the payers sent through the clearinghouse, or upload an 835 file a payer sent you. "
                    "A file posted twice posts nothing twice.", size="2", color=MUTED),
            rx.flex(
                primary_button("Fetch from payers", on_click=B.fetch_remittances, type="button", id="fetch-835"),
                spacing="3", wrap="wrap"),
            rx.el.label("835 file", html_for=UPLOAD_INPUT, style={"font_weight": "500"}),
            rx.el.input(id=UPLOAD_INPUT, type="file", accept=".835,.txt,.edi,.x12,text/plain",
                        style={"min_height": TAP, "max_width": "100%"}),
            secondary_button("Upload and post", on_click=B.start_upload, type="button", id="upload-835"),
            error_callout(B.upload_error, id="upload-error"),
            notice_callout(B.posting, id="posting-result"),
            spacing="3", width="100%"), width="100%"),
        rx.heading("Worklist", size="4", as_="h2"),
        rx.cond(
            B.work_items.length() > 0,
            data_table(["What", "Claim number", "Amount", "When", ""], B.work_items, _work_cells, card=_work_card,
                       caption="Remittance worklist", table_id="work-table"),
            empty_state("circle-check", "Nothing to place",
                        "Payments that match no claim, or do not add up, appear here for you to sort out."),
        ),
        spacing="3", width="100%",
    )


office_page("/billing/remittance", "Remittance", B.load_remittance, remittance_body,
            "Payers' payments posted to claims, and what needs a person.")


# ---------------------------------------------------------------- A/R aging


def _aging_cells(linked: bool):
    def cells(row: Any) -> list[rx.Component]:
        name = rx.link(row["name"], href=row["href"]) if linked else rx.text(row["name"])
        return [rx.table.cell(name), rx.table.cell(row["b0"]), rx.table.cell(row["b1"]), rx.table.cell(row["b2"]),
                rx.table.cell(row["b3"]), rx.table.cell(rx.text(row["total"], weight="medium"))]
    return cells


def _aging_card(linked: bool):
    def card(row: Any) -> rx.Component:
        name = rx.link(row["name"], href=row["href"], weight="medium") if linked else rx.text(row["name"], weight="medium")
        return rx.card(rx.vstack(
            rx.hstack(name, rx.spacer(), rx.text(row["total"], weight="medium"), width="100%"),
            rx.text("0–30 ", row["b0"], " · 31–60 ", row["b1"], " · 61–90 ", row["b2"], " · 90+ ", row["b3"], size="2",
                    color=MUTED),
            spacing="1", width="100%"), width="100%")
    return card


COLUMNS = ["0–30 days", "31–60 days", "61–90 days", "Over 90 days", "Total"]


def aging_body() -> rx.Component:
    return rx.vstack(
        rx.card(rx.vstack(
            rx.hstack(rx.heading("Owed to the clinic", size="4", as_="h2"), rx.spacer(),
                      rx.text(B.total_text, size="5", weight="bold", id="aging-total"), width="100%", align="center"),
            rx.text("As of ", B.as_of, ", aged from the day each charge was posted.", size="2", color=MUTED),
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="bucket", tick={"fontSize": 12}),
                rx.recharts.y_axis(width=60, tick={"fontSize": 12}),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(data_key="dollars", name="Dollars", fill="var(--accent-9)", is_animation_active=False),
                data=B.totals, width="100%", height=220,
            ),
            rx.flex(rx.foreach(B.totals, lambda t: rx.text(t["bucket"], ": ", t["text"], size="2")),
                    spacing="4", wrap="wrap", id="aging-buckets"),
            spacing="3", width="100%"), width="100%"),
        rx.heading("By payer", size="4", as_="h2"),
        rx.cond(B.by_payer.length() > 0,
                data_table(["Payer", *COLUMNS], B.by_payer, _aging_cells(False), card=_aging_card(False),
                           caption="Owed by payers", table_id="aging-payers"),
                empty_state("circle-check", "Nothing waiting for payers", "Unpaid claims appear here by age.")),
        rx.heading("By patient", size="4", as_="h2"),
        rx.cond(B.by_patient.length() > 0,
                data_table(["Patient", *COLUMNS], B.by_patient, _aging_cells(True), card=_aging_card(True),
                           caption="Owed by patients", table_id="aging-patients"),
                empty_state("circle-check", "No patient owes anything", "Patients' balances appear here by age.")),
        spacing="3", width="100%",
    )


office_page("/billing/aging", "A/R aging", B.load_aging, aging_body,
            "What payers and patients owe, by how long it has been owed.")


# ---------------------------------------------------------------- one claim


def _line_cells(row: Any) -> list[rx.Component]:
    return [rx.table.cell(row["n"]), rx.table.cell(row["code"]), rx.table.cell(row["units"]),
            rx.table.cell(row["charge"]), rx.table.cell(row["pointers"]),
            rx.table.cell(rx.text(row["status_text"], class_name="line-status-" + row["status"].to(str))),
            rx.table.cell(row["paid"]), rx.table.cell(row["adjusted"]), rx.table.cell(row["patient"]),
            rx.table.cell(row["reasons"])]


def _line_card(row: Any) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.text("Line ", row["n"], ": ", row["code"], weight="medium"), rx.spacer(),
                  rx.text(row["status_text"], class_name="line-status-" + row["status"].to(str)), width="100%"),
        rx.text(row["charge"], " billed · paid ", row["paid"], " · patient ", row["patient"], size="2"),
        rx.text(row["reasons"], size="2", color=MUTED), spacing="1", width="100%"), width="100%")


def _event(row: Any) -> rx.Component:
    return rx.el.li(rx.vstack(
        rx.text(row["from"], " → ", row["to"], weight="medium", size="2"),
        rx.text(row["when"], " · ", row["who"], size="1", color=MUTED),
        rx.cond(row["detail"], rx.text(row["detail"], size="1", color=MUTED)),
        spacing="0"), style={"margin_bottom": "0.5rem"})


def _appeal(row: Any) -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(rx.text("Appeal level ", row["level"], weight="medium"),
                  rx.text(row["status"], size="2", class_name="appeal-status"),
                  rx.text("Due by ", row["deadline"], size="1", color=MUTED), spacing="1"),
        rx.spacer(),
        rx.link(rx.button(rx.icon("file-down", size=16), "Appeal letter (PDF)", variant="soft", size="2",
                          min_height=TAP, type="button"), href=row["letter"], is_external=True,
                class_name="appeal-letter-link"),
        spacing="3", wrap="wrap", align="center", width="100%"), width="100%")


def _claim_actions() -> rx.Component:
    return rx.flex(
        rx.cond(C.can_validate, secondary_button("Check again", on_click=C.validate, type="button", id="validate-claim")),
        rx.cond(C.can_submit, primary_button("Submit to payer", on_click=C.submit, type="button", id="submit-claim")),
        rx.cond(C.can_secondary, primary_button("Create secondary claim", on_click=C.create_secondary, type="button",
                                                id="create-secondary-claim")),
        rx.cond(C.can_close, confirm_dialog(
            rx.button("Write off and close", variant="soft", color_scheme="red", high_contrast=True, size="3", min_height=TAP, type="button",
                      id="close-claim"),
            "Write off and close this claim?",
            "Whatever the payer has not paid is written off: nobody will be billed for it. This cannot be undone.",
            "Write off and close", C.close, confirm_id="confirm-close")),
        spacing="3", wrap="wrap")


def _appeal_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Appeal the denial", size="4", as_="h2"),
        rx.text("Due by ", C.claim["deadline"], " (", C.claim["days_left"], "). Say why the payer should pay: the "
                "letter carries the claim, the denied lines and their reasons, and your note.", size="2", color=MUTED),
        textarea_field("Why the payer should pay", "appeal-note", C.note, C.set_note, error=C.note_error, required=True,
                       hint="For example: the prior authorization number, or what the records show."),
        rx.flex(
            secondary_button("Save appeal", on_click=C.save_appeal, type="button", id="save-appeal"),
            rx.cond(C.draft_appeal != "", rx.link(
                rx.button(rx.icon("file-down", size=16), "Download letter (PDF)", variant="soft", size="3",
                          min_height=TAP, type="button"),
                href="/api/billing/appeals/" + C.draft_appeal + "/letter.pdf", is_external=True, id="appeal-letter")),
            rx.cond(C.draft_appeal != "", confirm_dialog(
                primary_button("Send appeal", type="button", id="send-appeal"),
                "Send this appeal to the payer?",
                "The payer reconsiders the denied lines; their answer arrives as a remittance.",
                "Send appeal", C.submit_appeal, color_scheme="indigo", confirm_id="confirm-send-appeal")),
            spacing="3", wrap="wrap"),
        spacing="3", width="100%"), id=APPEAL_FORM, width="100%")


def _correct_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Correct and resubmit", size="4", as_="h2"),
        rx.text("A rejected claim goes back to draft to be fixed; a denied one is replaced by a corrected claim "
                "(frequency 7).", size="2", color=MUTED),
        form_field("Prior authorization number (if the payer asked for one)", "claim-prior-auth", C.prior_auth,
                   C.set_prior_auth),
        secondary_button("Correct the claim", on_click=C.correct, type="button", id="correct-claim"),
        spacing="3", width="100%"), width="100%")


def claim_view() -> rx.Component:
    return rx.vstack(
        page_header("Claim " + C.claim["number"].to(str), C.claim["subtitle"],
                    rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Patient's billing", align="center"),
                            href=C.claim["patient_href"], min_height=TAP, display="flex", align_items="center",
                            id="claim-patient-link")),
        office_nav("/billing/claims"),
        rx.flex(
            rx.badge(C.claim["status_text"], color_scheme=C.claim["color"], high_contrast=True, size="3",
                     id="claim-status"),
            rx.text("Total ", C.claim["total"], weight="medium"),
            rx.text("Payer's number: ", C.claim["payer_number"], size="2", color=MUTED),
            rx.text("Diagnoses: ", C.claim["diagnoses"], size="2", color=MUTED),
            spacing="4", wrap="wrap", align="center"),
        rx.cond(C.cob.contains("href"), rx.text(
            C.cob["text"], " ", rx.link(C.cob["number"], href=C.cob["href"], id="claim-cob-link"),
            size="2", id="claim-cob")),
        error_callout(C.error, id="claim-error"),
        rx.cond(C.secondary_note != "", rx.callout(C.secondary_note, icon="info", width="100%",
                                                   id="claim-no-secondary")),
        rx.cond(C.problems.length() > 0, rx.callout(
            rx.vstack(rx.text("Fix these before the claim can be sent:", weight="medium"),
                      rx.el.ul(rx.foreach(C.problems, lambda p: rx.el.li(p))), spacing="1"),
            icon="triangle-alert", color_scheme="amber", high_contrast=True, width="100%", id="claim-problems")),
        _claim_actions(),
        rx.card(rx.vstack(
            rx.heading("Lines", size="4", as_="h2"),
            data_table(["#", "Code", "Units", "Charge", "Diagnoses", "Status", "Paid", "Adjusted", "Patient", "Reason"],
                       C.lines, _line_cells, card=_line_card, caption="Claim lines", table_id="claim-lines"),
            spacing="3", width="100%"), width="100%"),
        rx.cond(C.can_appeal, _appeal_form()),
        rx.cond(C.appeals.length() > 0, rx.vstack(rx.heading("Appeals", size="4", as_="h2"),
                                                  rx.foreach(C.appeals, _appeal), spacing="2", width="100%",
                                                  id="claim-appeals")),
        rx.cond(C.can_correct, _correct_form()),
        rx.card(rx.vstack(
            rx.heading("History", size="4", as_="h2"),
            rx.el.ol(rx.foreach(C.events, _event), style={"padding_left": "1.25rem", "margin": "0"},
                     id="claim-history"),
            spacing="2", width="100%"), width="100%"),
        spacing="4", width="100%",
    )


@rx.page(route="/billing/claims/[claim_id]", title=f"Claim — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), C.load])
def claim_page() -> rx.Component:
    return role_shell(
        "account",
        rx.match(C.status, ("ok", claim_view()), ("denied", not_permitted(SessionState.home)),
                 ("missing", rx.callout("That claim was not found.", icon="info", width="100%")), checking()),
        title="Claim",
    )
