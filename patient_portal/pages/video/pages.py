"""The video-visit pages: ``/video`` (one's own video visits, Join while open) and ``/video/[aid]``
(the call).

The call's page is drawn once by Reflex and then driven by ``assets/video.js``: it opens the
signalling websocket (which decides on the server who may join: a refusal shows its reason in
``#video-refused``), the waiting room, the doctor's Admit button, the camera and microphone
switches, the two videos and the chat. Parts the script shows and hides sit in plain ``div``s it
toggles; nothing on the page comes from Reflex state, so a redraw never undoes the script's work.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import checking, not_permitted
from patient_portal.components.layout import PRODUCT_NAME, TAP, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.state.session import SessionState
from patient_portal.state.video import VideoState as V

SCRIPT = "video.js"
MUTED = rx.color("gray", 11)

add_nav_item("patient", "Video visits", "/video", "video")
add_nav_item("doctor", "Video visits", "/video", "video", needs=Action.VIDEO_JOIN)


def _visit(v: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(rx.text(v["when"].to(str), weight="bold"), rx.text("With ", v["with"].to(str), color=MUTED),
                      spacing="1"),
            rx.spacer(),
            rx.cond(v["joinable"].to(bool),
                    # a full page load: a document keeps the camera policy it was loaded with (/video/ only)
                    rx.button(rx.link(rx.icon("video", size=18), "Join video visit", href=v["href"].to(str),
                                      reload_document=True, underline="none", color="inherit"),
                              as_child=True, size="3", min_height=TAP, class_name="video-join"),
                    rx.text(v["opens"].to(str), color=MUTED, size="2")),
            direction=rx.breakpoints(initial="column", sm="row"), align=rx.breakpoints(initial="start", sm="center"),
            spacing="3", width="100%",
        ),
        width="100%", class_name="video-visit",
    )


def list_view() -> rx.Component:
    return rx.vstack(
        page_header("Video visits", "Your video appointments. You can join from 10 minutes before the start."),
        rx.cond(V.visits.length() > 0,
                rx.vstack(rx.foreach(V.visits, _visit), spacing="3", width="100%", id="video-visits"),
                rx.callout("No video visits coming up. When a telehealth appointment is booked, it appears here.",
                           icon="info", id="video-none")),
        spacing="4", width="100%",
    )


@rx.page(route="/video", title=f"Video visits — {PRODUCT_NAME}", on_load=[SessionState.require("any"), V.load])
def video_visits() -> rx.Component:
    return role_shell("account", rx.match(
        V.status, ("ok", list_view()), ("denied", not_permitted(SessionState.home)),
        ("missing", rx.callout("That was not found.", icon="info")), checking()), title="Video visits")


# ---------------------------------------------------------------- the call


def _switch(id_: str, icon: str, label: str) -> rx.Component:
    return rx.button(rx.icon(icon, size=18), rx.el.span(label, class_name="video-switch-label"), id=id_,
                     variant="soft", size="3", min_height=TAP, aria_pressed="true", type="button")


def _chat() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Chat", size="3", as_="h2"),
            rx.el.div(id="video-chat-log", role="log", aria_live="polite",
                      style={"maxHeight": "12rem", "overflowY": "auto", "width": "100%"}),
            rx.el.form(
                rx.hstack(
                    rx.el.label("Message", html_for="video-chat-input", class_name="rt-r-size-2",
                                style={"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden",
                                       "clip": "rect(0 0 0 0)"}),
                    rx.input(id="video-chat-input", placeholder="Write a message", size="3", width="100%",
                             max_length=1000, auto_complete="off"),
                    rx.button("Send", type="submit", size="3", min_height=TAP, id="video-chat-send"),
                    width="100%", spacing="2",
                ),
                id="video-chat-form", on_submit=None, width="100%",
            ),
            rx.text("The chat is not saved: it ends with the call.", size="1", color=MUTED),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def _video(id_: str, label: str, muted: bool) -> rx.Component:
    return rx.el.figure(
        rx.el.video(id=id_, auto_play=True, plays_inline=True, muted=muted, aria_label=label,
                    style={"width": "100%", "background": "black", "borderRadius": "var(--radius-3)",
                           "aspectRatio": "4 / 3"}),
        rx.el.figcaption(label, style={"fontSize": "var(--font-size-1)", "color": "var(--gray-11)"}),
        style={"margin": "0", "flex": "1 1 16rem", "minWidth": "0"},
    )


def call_view() -> rx.Component:
    return rx.vstack(
        rx.script(src=rx.asset(SCRIPT)),
        page_header("Video visit", rx.el.span("Connecting…", id="video-peer")),
        rx.el.div(id="video-root", data_state="starting", style={"width": "100%"}),
        rx.el.div(
            rx.callout(rx.el.span(id="video-refused-text"), icon="shield-alert", color_scheme="red", role="alert"),
            rx.link("Back to your video visits", href="/video", min_height=TAP, display="flex",
                    align_items="center"),
            id="video-refused", style={"display": "none", "width": "100%"},
        ),
        rx.el.div(
            rx.callout(rx.el.span("Starting…", id="video-status"), icon="info", role="status"),
            rx.el.div(
                rx.button(rx.icon("user-check", size=18), "Admit the patient", id="video-admit", size="3",
                          min_height=TAP, type="button"),
                id="video-admit-box", style={"display": "none", "marginTop": "0.75rem"},
            ),
            rx.flex(_video("video-remote", "The other person", False), _video("video-local", "You", True),
                    gap="3", wrap="wrap", width="100%", margin_top="0.75rem"),
            rx.flex(
                _switch("video-camera", "video", "Camera on"),
                _switch("video-mic", "mic", "Microphone on"),
                rx.button(rx.icon("phone-off", size=18), "Leave", id="video-leave", color_scheme="red", variant="soft",
                          high_contrast=True, size="3",
                          min_height=TAP, type="button"),
                gap="2", wrap="wrap", margin_y="0.75rem",
            ),
            _chat(),
            id="video-call", style={"display": "none", "width": "100%"},
        ),
        rx.el.div(
            rx.callout(rx.el.span("You have left the video visit.", id="video-ended-text"), icon="info"),
            rx.link("Back to your video visits", href="/video", min_height=TAP, display="flex", align_items="center"),
            id="video-ended", style={"display": "none", "width": "100%"},
        ),
        spacing="3", width="100%",
    )


@rx.page(route="/video/[aid]", title=f"Video visit — {PRODUCT_NAME}", on_load=SessionState.require("any"))
def video_call() -> rx.Component:
    return role_shell("account", call_view(), title="Video visit")
