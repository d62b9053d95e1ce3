"""Acknowledge before continuing: the policy and training documents the account's role must
acknowledge, one after the other; the page guard sends every other page here until none is left."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import error_callout, notice_callout
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.state.session import SessionState
from patient_portal.state.training import TrainingState as S


def _document(doc) -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading(doc.title, size="4", as_="h2"),
        rx.text("Published ", doc.published, size="2"),
        rx.text(doc.body, white_space="pre-wrap", class_name="training-body"),
        rx.button("I have read and understood this", size="3", min_height="44px", on_click=S.acknowledge(doc.id),
                  id="training-acknowledge"),
        spacing="3", width="100%",
    ), width="100%")


@rx.page(route="/account/training", title=f"Before you continue — {PRODUCT_NAME}",
         on_load=[SessionState.require("account"), S.load])
def account_training() -> rx.Component:
    return role_shell(
        "account",
        page_header("Before you continue", "Your clinic asks you to read and acknowledge these"),
        rx.vstack(
            error_callout(S.error, id="training-ack-error"),
            rx.cond(S.loaded & (S.documents.length() == 0),
                    notice_callout("Nothing to acknowledge — you're all set.", id="training-none")),
            rx.cond(S.documents.length() > 0, _document(S.documents[0])),
            spacing="4", width="100%",
        ),
        title="Before you continue",
    )
