"""/admin/retention: the retention policy — what the portal deletes once it is past its time, how
long each kind is kept, and how many are due now — with a dry run on every visit and "Clean up now"
behind a confirm. The job worker applies the same rules hourly; `portal cleanup` from a shell."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.forms import primary_button
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table
from patient_portal.core.access import Action
from patient_portal.state.retention import RetentionState as R
from patient_portal.state.session import SessionState

add_nav_item("admin", "Retention", "/admin/retention", "archive-x", needs=Action.SYSTEM_CONFIGURE)
MUTED = rx.color("gray", 11)


def _cells(row) -> list[rx.Component]:
    return [rx.text(row["label"]), rx.text(row["kept"]), rx.text(row["count"], class_name="retention-due")]


def _card(row) -> rx.Component:
    return rx.card(rx.vstack(rx.text(row["label"], weight="bold"), rx.text("Kept ", row["kept"], size="2"),
                             rx.text("Due now: ", row["count"], size="2"), spacing="1"), width="100%")


def _body() -> rx.Component:
    return rx.vstack(
        error_callout(R.error, id="retention-error"),
        success_callout(R.removed, id="retention-removed"),
        rx.text("The portal removes these once they are past their time. Records of care, documents, "
                "appointments, bills and the audit trail are never removed here.", size="2", color=MUTED),
        data_table(["What", "Kept", "Due now"], R.rules, _cells, card=_card, caption="Retention rules",
                   table_id="retention-rules"),
        rx.text("Removed documents past their retention period waiting for an admin's purge: ",
                rx.el.strong(R.documents_to_purge, id="retention-documents"), size="2"),
        confirm_dialog(primary_button("Clean up now", type="button", id="retention-run",
                                      disabled=R.due_total == 0),
                       "Remove what is past its time?",
                       R.due_total.to_string() + " item(s) will be deleted for good. The audit log records "
                                                 "how many of each kind.",
                       "Clean up", R.clean_up, confirm_id="retention-confirm"),
        rx.cond(R.due_total == 0, rx.text("Nothing is due now. The job worker also checks every hour.", size="2",
                                          color=MUTED, id="retention-nothing")),
        spacing="4", width="100%", max_width="52rem")


@rx.page(route="/admin/retention", title=f"Retention — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), R.load])
def admin_retention() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Retention", "What the portal deletes once it is no longer needed, and when"),
        rx.match(R.retention_status, ("denied", not_permitted("/")), ("loading", checking()), _body()),
        title="Retention",
    )
