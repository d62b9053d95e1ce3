"""The profile page's "Phone app and notifications" card (patients): add the portal to the home
screen, and turn push notifications on or off for this device.

The buttons run assets/pwa.js in the browser (service worker, the browser's permission prompt and
PushSubscription live only there); it calls /api/push, where the push service asks ``decide()``.
No State handler is involved, so nothing here is callable by name from another page.
"""

from __future__ import annotations

import reflex as rx

STATUS_ID = "pwa-status"


def _run(call: str) -> rx.vars.FunctionStringVar:
    """A click handler running ``window.portalPwa.<call>()`` in the browser (no event round trip)."""
    return rx.vars.FunctionStringVar.create(f"(() => window.portalPwa && window.portalPwa.{call}())")


def _button(label: str, call: str, button_id: str, **props) -> rx.Component:
    return rx.button(label, id=button_id, on_click=_run(call), size="3", min_height="44px", type="button", **props)


def phone_app_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Phone app and notifications", size="4", as_="h2"),
            rx.text("Add Patient Portal to your phone's home screen to open it like an app. Nothing of your "
                    "record is kept on the phone.", size="3"),
            _button("Add to home screen", "getReady", "pwa-install", variant="soft"),
            rx.text("Notifications tell you when you have a new message or an appointment reminder. They never "
                    "say who wrote or what about — sign in to read it. Signing out turns them off on that device.",
                    size="3"),
            rx.flex(
                _button("Turn on notifications", "enablePush", "push-on"),
                _button("Turn off on this device", "disablePush", "push-off", variant="outline"),
                _button("Turn off on all my devices", "disableAll", "push-off-all", variant="outline",
                        color_scheme="red"),
                gap="0.75rem", wrap="wrap",
            ),
            rx.text("", id=STATUS_ID, role="status", aria_live="polite", size="3", color=rx.color("gray", 12)),
            spacing="3",
            align="start",
            on_mount=_run("describe"),  # "Notifications are on for this device." when they are
        ),
        width="100%",
        margin_top="1rem",
    )
