"""/chart/<id>/timeline: every clinical event of the patient, newest first, under the one chart
header; a filter by kind and 25 a page. What is shown is decided by the timeline service; this only
draws ``TimelineState``."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.emergency import chart_refused, withheld_notice
from patient_portal.components.feedback import checking, error_callout
from patient_portal.components.layout import PRODUCT_NAME, role_shell
from patient_portal.components.tables import empty_state, pagination
from patient_portal.state.session import SessionState
from patient_portal.state.timeline import TimelineState as T

TAP = "44px"
MUTED = rx.color("gray", 11)
ICONS = {"conditions": "clipboard-list", "allergies": "triangle-alert", "medications": "pill",
         "immunizations": "syringe", "visits": "notebook-pen", "vitals": "activity", "results": "flask-conical",
         "documents": "file-text"}


def _icon(kind: Any) -> rx.Component:
    return rx.match(kind, *[(k, rx.icon(name, size=18, aria_hidden="true")) for k, name in ICONS.items()],
                    rx.icon("circle", size=18, aria_hidden="true"))


def _event(item: Any) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.flex(
                rx.box(_icon(item["kind"]), color=rx.color("accent", 11), padding_top="2px"),
                rx.vstack(
                    rx.hstack(rx.text(item["when"], size="2", color=MUTED, class_name="timeline-when"),
                              rx.badge(item["kind_label"], variant="soft", size="1"), spacing="2", wrap="wrap",
                              align="center"),
                    rx.link(rx.text(item["title"], weight="medium", size="3"), href=item["link"],
                            class_name="timeline-title", min_height=TAP, display="flex", align_items="center"),
                    rx.cond(item["detail"], rx.text(item["detail"], size="2", color=MUTED)),
                    spacing="1", min_width="0",
                ),
                spacing="3", align="start",
            ),
            width="100%",
        ),
        class_name="timeline-item", data_kind=item["kind"], style={"list_style": "none"},
    )


def _filter() -> rx.Component:
    return rx.flex(
        rx.el.label("Show", html_for="timeline-kind", style={"font_weight": "500"}),
        rx.select.root(
            rx.select.trigger(id="timeline-kind", min_height=TAP, aria_label="Show which events"),
            rx.select.content(rx.foreach(T.choices, lambda c: rx.select.item(c[1], value=rx.cond(c[0], c[0], "all")))),
            value=rx.cond(T.kind, T.kind, "all"), on_change=T.set_kind,
        ),
        spacing="2", align="center",
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        withheld_notice(T.withheld, id="timeline-withheld"),
        rx.flex(
            rx.heading("Timeline", size="6", as_="h2"),
            rx.spacer(),
            _filter(),
            back_to_chart(T.patient_ref, display="flex", align_items="center"),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        error_callout(T.error, id="timeline-error"),
        rx.text(T.total, " events", size="2", color=MUTED, aria_live="polite"),
        rx.cond(
            T.items.length() > 0,
            rx.vstack(
                rx.el.ol(rx.foreach(T.items, _event), id="timeline",
                         style={"padding": "0", "margin": "0", "display": "flex", "flex_direction": "column",
                                "gap": "0.5rem", "width": "100%"}),
                rx.cond(T.pages > 1, pagination(T.page, T.pages, T.prev_page, T.next_page)),
                width="100%", spacing="3",
            ),
            empty_state("history", "Nothing on the timeline yet",
                        "Conditions, medications, visits, vitals and documents appear here as they are recorded."),
        ),
        spacing="4", width="100%",
    )


@rx.page(route="/chart/[pid]/timeline", title=f"Timeline — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), T.load])
def chart_timeline() -> rx.Component:
    return role_shell(
        "account",
        rx.match(T.status, ("ok", chart_view()), ("denied", chart_refused(T.patient_ref)),
                 ("missing", rx.callout("That patient record was not found.", icon="info", width="100%")),
                 checking()),
        title="Timeline",
    )
