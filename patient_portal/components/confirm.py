"""A confirm dialog for actions people cannot simply take back: it says what will happen, and the
action runs only when they press the confirming button (Escape or Cancel changes nothing)."""

from __future__ import annotations

from typing import Any

import reflex as rx

TAP = "44px"


def confirm_dialog(trigger: rx.Component, title: Any, description: Any, confirm_label: Any, on_confirm: Any, *,
                   color_scheme: str = "red", confirm_id: str = "", body: rx.Component | None = None) -> rx.Component:
    """`trigger` opens the dialog; `on_confirm` runs from its confirm button (id `confirm_id`, if given).

    `title` and `description` say plainly what will happen ("Remove Dr Lee from the care team?" /
    "They can no longer open this chart."). Radix's alert dialog traps focus and returns it to the
    trigger when it closes. `body`: more to read or choose before confirming (a reason to pick).
    """
    confirm_props: dict[str, Any] = {"id": confirm_id} if confirm_id else {}
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.box(body, margin_top="1rem") if body is not None else rx.fragment(),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", min_height=TAP,
                                                 type="button")),
                # high contrast: Radix's solid red (white on #e5484d, 3.9:1) fails WCAG AA
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme=color_scheme, high_contrast=True,
                                                 min_height=TAP, type="button", on_click=on_confirm,
                                                 **confirm_props)),
                spacing="3", justify="end", wrap="wrap", margin_top="1rem",
            ),
            max_width="32rem",
        ),
    )
