"""A data table with pagination, empty state and loading skeleton; cards instead of a table on phones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

TAP = "44px"


def skeleton_rows(count: int = 3) -> rx.Component:
    return rx.vstack(*[rx.skeleton(rx.box(height="40px", width="100%"), loading=True) for _ in range(count)],
                     width="100%", spacing="2", aria_busy="true", role="status", aria_label="Loading")


def empty_state(icon: str, title: Any, text: Any = "", action: rx.Component | None = None) -> rx.Component:
    """What to show when a list has nothing: what happened and what to do next."""
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("gray", 10)),
            rx.text(title, weight="medium", size="3"),
            rx.text(text, size="2", color=rx.color("gray", 11)),
            action if action is not None else rx.fragment(),
            align="center",
            spacing="2",
            padding_y="4",
        ),
        width="100%",
    )


def pagination(page: Any, pages: Any, on_prev: Any, on_next: Any) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", on_click=on_prev,
                  disabled=page <= 1, min_height=TAP, aria_label="Previous page"),
        rx.text("Page ", page, " of ", pages, size="2", aria_live="polite"),
        rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", on_click=on_next,
                  disabled=page >= pages, min_height=TAP, aria_label="Next page"),
        justify="between",
        align="center",
        width="100%",
    )


def data_table(columns: list[str], rows: Any, cells: Callable[[Any], list[rx.Component]], *,
               card: Callable[[Any], rx.Component], caption: str = "", table_id: str = "data-table"
               ) -> rx.Component:
    """`cells(row)` renders a table row's cells (tablet and up); `card(row)` renders it on phones."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in columns])),
            rx.table.body(rx.foreach(rows, lambda row: rx.table.row(*cells(row)))),
            variant="surface",
            width="100%",
            aria_label=caption,
            id=table_id,
            display=rx.breakpoints(initial="none", md="table"),
        ),
        rx.vstack(rx.foreach(rows, card), spacing="2", width="100%",
                  display=rx.breakpoints(initial="flex", md="none")),
        width="100%",
    )
