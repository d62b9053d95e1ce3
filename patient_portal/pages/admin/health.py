"""/admin/health: the system's health for administrators — the checks of `portal doctor`, the job
queue, backups, keys, error references of the last day, sessions now and sign-ins per day."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted, success_callout
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.components.tables import data_table, empty_state
from patient_portal.core.access import Action
from patient_portal.state.operations import SystemHealthState as S
from patient_portal.state.session import SessionState

TAP = "44px"
add_nav_item("admin", "System health", "/admin/health", "activity", needs=Action.SYSTEM_HEALTH_READ)


def _status(value) -> rx.Component:
    return rx.match(
        value,
        ("ok", rx.badge("OK", color_scheme="green", high_contrast=True)),
        ("warn", rx.badge("Check", color_scheme="amber", high_contrast=True)),
        rx.badge("Failing", color_scheme="red", high_contrast=True),
    )


def _check(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row.name, weight="bold"), _status(row.status), spacing="2", align="center",
                      wrap="wrap"),
            rx.text(row.detail, size="2", word_break="break-word"),
            rx.cond((row.status != "ok") & (row.fix != ""),
                    rx.text("What to do: ", row.fix, size="2", color=rx.color("gray", 11), word_break="break-word")),
            spacing="1",
        ),
        width="100%",
    )


def _figure(label: str, value, element_id: str, warn=None) -> rx.Component:
    text = rx.text(value, size="6", weight="bold", id=element_id)
    return rx.card(
        rx.vstack(rx.text(label, size="2", color=rx.color("gray", 11)),
                  rx.cond(warn, rx.text(value, size="6", weight="bold", color=rx.color("red", 11), id=element_id),
                          text) if warn is not None else text,
                  spacing="1"),
        width="100%",
    )


def _sign_ins() -> rx.Component:
    return rx.card(
        rx.heading("Sign-ins per day", size="4", as_="h2"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="count", fill=rx.color("indigo", 9), name="Sign-ins"),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.graphing_tooltip(),
            data=S.sign_in_chart,
            width="100%",
            height=220,
        ),
        data_table(["Day", "Sign-ins"], S.sign_ins, lambda d: [rx.table.cell(d.day), rx.table.cell(d.count)],
                   card=lambda d: rx.hstack(rx.text(d.day), rx.spacer(), rx.text(d.count, weight="bold"), width="100%"),
                   caption="Sign-ins per day", table_id="health-sign-ins"),
        width="100%",
    )


def _errors() -> rx.Component:
    return rx.card(
        rx.heading("Error references, last 24 hours", size="4", as_="h2"),
        rx.cond(
            S.errors.length() > 0,
            data_table(["Reference", "When"], S.errors,
                       lambda e: [rx.table.cell(rx.code(e.reference)), rx.table.cell(e.at)],
                       card=lambda e: rx.hstack(rx.code(e.reference), rx.text(e.at, size="2"), wrap="wrap"),
                       caption="Error references", table_id="health-errors"),
            empty_state("circle-check", "No unexpected errors in the last 24 hours",
                        "When someone quotes a reference, it appears here."),
        ),
        width="100%",
    )


def _slowest() -> rx.Component:
    return rx.card(
        rx.heading("Slowest events and routes", size="4", as_="h2"),
        rx.text("Mean time per call since the app started, slowest first.", size="2", color=rx.color("gray", 11)),
        rx.cond(
            S.slowest.length() > 0,
            data_table(["What", "Kind", "Mean", "Calls"], S.slowest,
                       lambda c: [rx.table.cell(rx.code(c.name)), rx.table.cell(c.kind), rx.table.cell(c.mean_ms),
                                  rx.table.cell(c.count)],
                       card=lambda c: rx.vstack(rx.code(c.name), rx.text(c.kind, " · ", c.mean_ms, " · ", c.count,
                                                                          " calls", size="2"), spacing="1"),
                       caption="Slowest events and routes", table_id="health-slowest"),
            empty_state("timer", "Nothing timed yet", "Events and routes appear here once people use the portal."),
        ),
        width="100%",
    )


def _report() -> rx.Component:
    return rx.vstack(
        rx.cond(S.failing > 0,
                error_callout(S.failing.to_string() + " check(s) failing — see what to do below.", id="health-failing"),
                success_callout("Every check passed.", id="health-all-ok")),
        rx.grid(
            _figure("Jobs waiting", S.jobs_queued, "health-jobs-queued"),
            _figure("Jobs failed", S.jobs_failed, "health-jobs-failed", warn=S.jobs_failed > 0),
            _figure("Signed in now", S.sessions_active, "health-sessions"),
            _figure("Last backup", S.last_backup, "health-backup", warn=S.backup_overdue),
            _figure("Last backup check", S.backup_check, "health-backup-check", warn=S.backup_check_failed),
            _figure("Key age", S.key_age, "health-key-age"),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Checks", size="4", as_="h2"),
        rx.grid(rx.foreach(S.checks, _check), columns=rx.breakpoints(initial="1", md="2"), spacing="3",
                width="100%", id="health-checks"),
        _errors(),
        _slowest(),
        _sign_ins(),
        spacing="4",
        width="100%",
    )


@rx.page(route="/admin/health", title=f"System health — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), S.load])
def admin_health() -> rx.Component:
    return role_shell(
        "admin",
        page_header("System health", "The same checks as `portal doctor`, and how the clinic's system is doing",
                    rx.button("Check again", on_click=S.refresh, size="3", min_height=TAP, variant="outline",
                              id="health-refresh")),
        rx.match(
            S.status,
            ("denied", not_permitted("/")),
            ("loading", checking()),
            rx.vstack(error_callout(S.error, id="health-error"), _report(), spacing="4", width="100%"),
        ),
        title="System health",
    )
