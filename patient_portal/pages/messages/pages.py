"""The secure-message screens. Who may read, write or route what is decided by the messages service;
these only draw ``MessagesState`` and ``ThreadState``.

/patient/messages — the patient's conversations (newest first, new answers counted) and "New
message" to a doctor of their care team, the front desk or billing, with files (PDF, photos).
/doctor/messages — the doctor's inbox (waiting first, overdue marked) and "While I am away", the
colleague who answers for them. /staff/messages — the triage pool: the front desk's and billing's
threads, or every overdue one. /messages/<id> — one conversation with read receipts, the reply form
and, for the front desk, "Hand to". Phone first: one column of cards, labelled inputs, 44 px taps.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

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
from patient_portal.components.tables import empty_state, pagination
from patient_portal.core.access import Action
from patient_portal.state.messages import FILES_DONE, FILES_INPUT, FILES_LIST, POOL_VIEWS
from patient_portal.state.messages import MessagesState as M
from patient_portal.state.messages import ThreadState as T
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
SCRIPT = "portal_documents.js"  # the documents upload script sends a message's files

add_nav_item("patient", "Messages", "/patient/messages", "mail")
add_nav_item("doctor", "Messages", "/doctor/messages", "mail", needs=Action.MESSAGE_READ)
add_nav_item("staff", "Messages", "/staff/messages", "mail", needs=Action.MESSAGE_READ)
add_nav_item("admin", "Messages", "/staff/messages", "mail", needs=Action.MESSAGE_READ)


def overdue_badge() -> rx.Component:
    return rx.badge(rx.icon("clock-alert", size=12), "Overdue", color_scheme="red", high_contrast=True, size="2",
                    class_name="msg-overdue")


def _row(row: Any) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(row["subject"], weight=rx.cond(row["unread_text"] != "", "bold", "medium"), size="3",
                            class_name="msg-subject"),
                    rx.spacer(),
                    rx.cond(row["unread_text"] != "", rx.badge(row["unread_text"], color_scheme="blue", high_contrast=True,
                                                        size="2", class_name="msg-unread")),
                    rx.cond(row["overdue"], overdue_badge()),
                    align="center", width="100%", wrap="wrap", spacing="2",
                ),
                rx.cond(row["patient"] != "", rx.text(row["patient"], " · MRN ", row["mrn"], size="2",
                                                      class_name="msg-patient")),
                rx.text("With ", row["with"], " · last message ", row["last"], size="2", color=MUTED),
                rx.cond(row["waiting"] != "", rx.text(row["waiting"], size="2", color=MUTED)),
                spacing="1", width="100%",
            ),
            width="100%",
        ),
        href=row["href"], underline="none", color="inherit", width="100%", class_name="msg-thread",
    )


def thread_list(empty_title: str, empty_text: str) -> rx.Component:
    return rx.cond(
        M.rows.length() > 0,
        rx.vstack(
            rx.foreach(M.rows, _row),
            rx.cond(M.pages > 1, pagination(M.page, M.pages, M.prev_page, M.next_page)),
            spacing="2", width="100%", id="msg-list",
        ),
        rx.box(empty_state("mail", empty_title, empty_text), id="msg-empty", width="100%"),
    )


def _file_input(label: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, weight="medium", size="2"), html_for=FILES_INPUT),
        rx.el.input(type="file", id=FILES_INPUT, multiple=True, accept=".pdf,.png,.jpg,.jpeg,.heic,.tif,.tiff",
                    style={"min_height": TAP, "max_width": "100%"}),
        rx.text("PDF or photos, sent after your message is saved.", size="1", color=MUTED),
        rx.el.ul(id=FILES_LIST, aria_live="polite", style={"padding": "0", "margin": "0", "width": "100%"}),
        spacing="1", width="100%", align="start",
    )


def _done_button(state: Any) -> rx.Component:
    return rx.el.button("Upload finished", id=FILES_DONE, type="button", on_click=state.upload_finished,
                        tab_index=-1, aria_hidden="true", style={"display": "none"})


def compose_form() -> rx.Component:
    f, e = M.form, M.form_errors
    return rx.card(rx.vstack(
        rx.heading("New message", size="4", as_="h2"),
        select_field("To", "msg-to", M.recipients, f["to"], lambda v: M.set_field("to", v), error=e["to"],
                     required=True, placeholder="Choose who to write to"),
        form_field("Subject", "msg-subject", f["subject"], lambda v: M.set_field("subject", v), error=e["subject"],
                   required=True),
        textarea_field("Message", "msg-body", f["body"], lambda v: M.set_field("body", v), error=e["body"],
                       required=True, rows="6",
                       hint="For an emergency call 911. Messages are read in clinic hours."),
        _file_input("Attach files (optional)"),
        rx.hstack(
            primary_button("Send", on_click=M.send, type="button", id="msg-send", loading=M.uploading),
            secondary_button("Cancel", on_click=M.cancel_compose, type="button"),
            spacing="3", wrap="wrap",
        ),
        _done_button(M),
        spacing="3", width="100%",
    ), width="100%", id="msg-compose")


def patient_view() -> rx.Component:
    return rx.vstack(
        page_header("Messages", f"Write to your care team. The clinic answers within {M.response_text}.",
                    rx.cond(M.can_write & ~M.composing,
                            primary_button("New message", on_click=M.start_compose, id="msg-new"))),
        rx.cond(M.error != "", error_callout(M.error)),
        rx.cond(M.composing, compose_form()),
        thread_list("No messages yet", "Questions for your doctor, the front desk or billing? "
                                       "Choose “New message” to write to them."),
        spacing="4", width="100%",
    )


def delegate_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("While I am away", size="4", as_="h2"),
        select_field("A colleague answers my messages", "msg-delegate", M.delegate_choices, M.delegate,
                     M.set_delegate),
        rx.cond(M.covering != "", rx.text("You answer the messages of: ", M.covering, size="2", color=MUTED)),
        spacing="2", width="100%",
    ), width="100%", id="msg-delegation")


def inbox_view() -> rx.Component:
    return rx.vstack(
        page_header("Messages", f"Your patients' messages, waiting ones first. Expected answer within "
                                f"{M.response_text}."),
        rx.cond(M.error != "", error_callout(M.error)),
        delegate_card(),
        thread_list("No messages waiting", "When a patient of your care team writes to you, it appears here."),
        spacing="4", width="100%",
    )


def pool_view() -> rx.Component:
    return rx.vstack(
        page_header("Message pool", f"Answer or hand each thread to the right person. Expected answer within "
                                    f"{M.response_text}; overdue threads are marked."),
        rx.cond(M.error != "", error_callout(M.error)),
        rx.box(select_field("Show", "msg-pool-view", POOL_VIEWS, M.pool_view, M.set_pool_view), max_width="320px",
               width="100%"),
        thread_list("Nothing in the pool", "Messages for the front desk and billing appear here."),
        spacing="4", width="100%",
    )


def _page(view: rx.Component) -> rx.Component:
    return role_shell("account", rx.script(src=rx.asset(SCRIPT)), rx.match(
        M.status, ("ok", view), ("denied", not_permitted(SessionState.home)),
        ("missing", rx.callout("That was not found.", icon="info")), checking()), title="Messages")


@rx.page(route="/patient/messages", title=f"Messages — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), M.load_patient])
def patient_messages() -> rx.Component:
    return _page(patient_view())


@rx.page(route="/doctor/messages", title=f"Messages — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), M.load_inbox])
def doctor_messages() -> rx.Component:
    return _page(inbox_view())


@rx.page(route="/staff/messages", title=f"Message pool — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), M.load_pool])
def staff_messages() -> rx.Component:
    return _page(pool_view())


# ---------------------------------------------------------------- one thread


def _message(m: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(m["author"], weight="bold", size="2"), rx.text(m["at"], size="2", color=MUTED),
                      spacing="2", wrap="wrap", align="center"),
            rx.text(m["body"], size="3", white_space="pre-wrap", class_name="msg-body"),
            rx.foreach(m["files"].to(list[dict[str, str]]), lambda f: rx.button(
                rx.icon("paperclip", size=16), f["name"], variant="soft", size="2", min_height=TAP,
                on_click=T.open_file(f["id"]), class_name="msg-file", type="button")),
            rx.cond(m["receipt"] != "", rx.text(m["receipt"], size="1", color=MUTED, class_name="msg-receipt")),
            spacing="2", width="100%",
        ),
        width="100%", class_name="msg-item",
        background=rx.cond(m["mine"], rx.color("accent", 2), rx.color("gray", 1)),
    )


def reply_form() -> rx.Component:
    return rx.card(rx.vstack(
        textarea_field("Your answer", "msg-reply", T.body, T.set_body, error=T.body_error, rows="5"),
        rx.cond(T.can_attach, _file_input("Attach files (optional)")),
        primary_button("Send", on_click=T.send_reply, type="button", id="msg-reply-send", loading=T.uploading),
        _done_button(T),
        spacing="3", width="100%",
    ), width="100%", id="msg-reply-form")


def route_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Hand to", size="4", as_="h2"),
        select_field("Who should answer", "msg-route", T.routes, T.route_to, T.set_route_to,
                     hint="A doctor of the patient's care team, the front desk or billing."),
        secondary_button("Hand over", on_click=T.route, type="button", id="msg-route-send"),
        spacing="2", width="100%",
    ), width="100%", id="msg-routing")


def thread_view() -> rx.Component:
    t = T.thread
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("All messages"), align="center", spacing="1"),
                href=T.back_href, min_height=TAP, display="flex", align_items="center"),
        page_header(t["subject"].to(str), rx.text.span(
            rx.cond(t["patient"].to(str) != "", rx.text.span(t["patient"].to(str), " · ")), "With ",
            t["with"].to(str), id="msg-with")),
        rx.cond(t["waiting"].to(str) != "",
                rx.hstack(rx.text(t["waiting"].to(str), size="2", color=MUTED),
                          rx.cond(t["overdue"].to(bool), overdue_badge()), spacing="2", align="center", wrap="wrap")),
        rx.cond(T.error != "", error_callout(T.error)),
        rx.vstack(rx.foreach(t["messages"].to(list[dict[str, Any]]), _message), spacing="2", width="100%",
                  id="msg-thread"),
        rx.cond(T.can_reply, reply_form()),
        rx.cond(T.can_route, route_form()),
        spacing="4", width="100%",
    )


@rx.page(route="/messages/[tid]", title=f"Message — {PRODUCT_NAME}", on_load=[SessionState.require("any"), T.load])
def message_thread() -> rx.Component:
    return role_shell("account", rx.script(src=rx.asset(SCRIPT)), rx.match(
        T.status, ("ok", thread_view()), ("denied", not_permitted(SessionState.home)),
        ("missing", rx.callout("That conversation was not found.", icon="info", id="msg-missing")), checking()),
        title="Message")
