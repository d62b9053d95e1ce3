"""/admin/emails: the wording of each notification email the portal sends (appointments, messages,
renewals, account emails, emergency access). An admin picks an email, rewords its subject and text
with its placeholders, sees it filled with examples, saves, or goes back to the standard wording.
A saved wording is used by the next email of its kind in every app process (core.mail_wording)."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    form_field,
    primary_button,
    secondary_button,
    select_field,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.state.email_wording import EmailWordingState as W
from patient_portal.state.session import SessionState

add_nav_item("admin", "Email wording", "/admin/emails", "mail", needs=Action.SYSTEM_CONFIGURE)
MUTED = rx.color("gray", 11)


def _placeholder(f) -> rx.Component:
    return rx.el.li(rx.code(f["name"]), " — for example “", f["example"].to(str), "”",
                    rx.cond(f["required"], rx.text.strong(" (must stay)")), class_name="wording-field")


def _editor() -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading(W.current["label"].to(str), size="5", as_="h2"),
                  rx.cond(W.current["reworded"], rx.badge("Reworded", color_scheme="blue", size="2"),
                          rx.badge("Standard wording", color_scheme="gray", size="2")),
                  spacing="3", align="center", wrap="wrap"),
        form_field("Subject", "wording-subject", W.subject, W.set_subject, error=W.errors["subject"], required=True),
        textarea_field("Text", "wording-text", W.text, W.set_text, error=W.errors["text"], required=True, rows="10",
                       hint="Plain words. Emails never carry clinical details: only times, names of the clinic "
                            "and the doctor, and links."),
        rx.text("You can use these placeholders; each is filled in when the email is sent:", size="2"),
        rx.el.ul(rx.foreach(W.current["fields"].to(list[dict[str, str]]), _placeholder), id="wording-fields",
                 style={"margin": 0, "padding_left": "1.25rem", "font_size": "0.875rem"}),
        rx.flex(
            primary_button("Save wording", on_click=W.save, type="button", id="wording-save"),
            rx.cond(W.current["reworded"], confirm_dialog(
                secondary_button("Back to the standard wording", type="button", id="wording-standard"),
                "Go back to the standard wording?", "Your wording of this email is dropped; the next emails of "
                "this kind use the portal's standard wording.", "Use the standard wording", W.use_standard,
                confirm_id="wording-standard-confirm")),
            spacing="3", wrap="wrap"),
        spacing="3", width="100%"), width="100%", id="wording-editor")


def _preview() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Preview, with example values", size="4", as_="h2"),
        rx.text(rx.text.strong("Subject: "), W.preview_subject, size="2", id="wording-preview-subject"),
        rx.text(W.preview_text, size="2", white_space="pre-wrap", id="wording-preview-text",
                style={"overflow_wrap": "anywhere"}),
        rx.text("Your clinic's closing words (Settings) follow the text.", size="1", color=MUTED),
        spacing="2", width="100%"), width="100%", id="wording-preview")


def _page() -> rx.Component:
    return rx.vstack(
        error_callout(W.error, id="wording-error"),
        select_field("Email", "wording-choose", W.choices, W.chosen, W.choose,
                     hint="Each kind of email the portal sends; “reworded” ones use your wording."),
        _editor(), _preview(),
        spacing="4", width="100%", max_width="52rem")


@rx.page(route="/admin/emails", title=f"Email wording — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), W.load])
def admin_emails() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Email wording", "What each email the portal sends says: appointments, messages, renewals, "
                                     "account and emergency-access emails."),
        rx.match(W.wording_status, ("denied", not_permitted("/")), ("loading", checking()), _page()),
        title="Email wording",
    )
