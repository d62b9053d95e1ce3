"""The care-plan screens. Who may see or change what is decided by the care-plans service; these only
draw ``CarePlanState`` and ``OwnCarePlanState``.

/chart/<id>/careplan — the one chart header, then each plan (active first) with its goals (target,
due date, progress from the latest reading, progress updates) and its activities; care-team doctors
start a plan, add and edit goals and activities, write progress updates, mark goals achieved and
complete or cancel a plan (behind a confirm); admins read.
``own_plan_card`` — "Your care plan" on the patient's health record, in plain words, with tick boxes
for their tasks; ``tasks_card`` — "Tasks to do" on their home. Phone first: one column of cards,
every input labelled, tap targets at least 44 px.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.chart_header import back_to_chart, chart_header
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.emergency import chart_refused
from patient_portal.components.feedback import checking, error_callout, success_callout
from patient_portal.components.forms import (
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, role_shell
from patient_portal.components.tables import empty_state
from patient_portal.state.careplans import COMPARATOR_WORDS, FORM_ID
from patient_portal.state.careplans import CarePlanState as S
from patient_portal.state.careplans import OwnCarePlanState as O
from patient_portal.state.session import SessionState

TAP = "44px"
MUTED = rx.color("gray", 11)
ROWS = list[dict[str, Any]]


def plan_badge(status: Any) -> rx.Component:
    return rx.match(status,
                    ("active", rx.badge("Active", color_scheme="green", high_contrast=True, size="2")),
                    ("completed", rx.badge("Completed", color_scheme="blue", high_contrast=True, size="2")),
                    rx.badge("Cancelled", color_scheme="gray", high_contrast=True, size="2"))


def goal_badge(goal: Any) -> rx.Component:
    return rx.match(goal["status"],
                    ("achieved", rx.badge(rx.icon("circle-check", size=12), goal["status_label"], color_scheme="green",
                                          high_contrast=True, size="2", class_name="goal-status")),
                    ("not_achieved", rx.badge(goal["status_label"], color_scheme="gray", high_contrast=True, size="2",
                                              class_name="goal-status")),
                    rx.badge(goal["status_label"], color_scheme="blue", high_contrast=True, size="2",
                             class_name="goal-status"))


def progress_line(goal: Any) -> rx.Component:
    """The latest reading against the target: green on target, amber not yet, grey no reading."""
    return rx.cond(
        goal["progress"] != "",
        rx.hstack(
            rx.match(goal["tone"],
                     ("on", rx.icon("circle-check", size=16, color=rx.color("green", 11), flex_shrink="0")),
                     ("off", rx.icon("trending-up", size=16, color=rx.color("amber", 11), flex_shrink="0")),
                     rx.icon("circle-help", size=16, color=MUTED, flex_shrink="0")),
            rx.text(goal["progress"], size="2"),
            spacing="2", align="center", class_name="goal-progress",
        ),
    )


def _notes(goal: Any, lead: str) -> rx.Component:
    notes = goal["notes"].to(list[dict[str, str]])
    return rx.cond(notes.length() > 0, rx.vstack(
        rx.foreach(notes, lambda n: rx.box(
            rx.text(lead, n["author"], " · ", n["at"], size="1", color=MUTED),
            rx.text(n["text"], size="2", white_space="pre-wrap"),
            border_left=f"3px solid {rx.color('accent', 6)}", padding_left="0.75rem", width="100%",
            class_name="goal-note")),
        spacing="2", width="100%"))


# ---------------------------------------------------------------- the doctor's forms


def _field(label: str, name: str, field_id: str, *, hint: str = "", required: bool = False, **props: Any
           ) -> rx.Component:
    return form_field(label, field_id, S.form[name], lambda v: S.set_form(name, v), error=S.form_errors[name],
                      hint=hint, required=required, **props)


def _form_shell(title: Any, *fields: rx.Component, button: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h3"),
            *fields,
            rx.cond(S.conflict.length() > 0, rx.callout(
                "Changed since you opened it: " + S.conflict.join(", "), icon="git-compare", color_scheme="amber",
                width="100%", id="careplan-conflict")),
            error_callout(S.form_error, id="careplan-form-error"),
            rx.flex(
                primary_button(button, on_click=S.save, type="button", id="careplan-save"),
                secondary_button("Cancel", on_click=S.close_editor, type="button"),
                spacing="3", wrap="wrap",
            ),
            spacing="4", width="100%",
        ),
        width="100%", id=FORM_ID, variant="surface",
    )


def plan_form() -> rx.Component:
    return _form_shell(
        rx.cond(S.editor == "plan_new", "New care plan", "Edit the care plan"),
        field_grid(
            _field("Title", "title", "careplan-title", required=True, hint="For example: “Blood pressure plan”"),
            select_field("For a problem on the list", "careplan-problem", S.problems, S.form["condition_id"],
                         lambda v: S.set_form("condition_id", v), error=S.form_errors["condition_id"]),
        ),
        button=rx.cond(S.editor == "plan_new", "Start plan", "Save plan"),
    )


def goal_form() -> rx.Component:
    measured = S.form["measure"] != "none"
    return _form_shell(
        rx.cond(S.editor == "goal_new", "New goal", "Edit the goal"),
        field_grid(
            select_field("Measure", "careplan-measure", S.measures, S.form["measure"],
                         lambda v: S.set_form("measure", v), error=S.form_errors["measure"]),
            rx.cond(measured, select_field("Target is", "careplan-comparator", list(COMPARATOR_WORDS),
                                           S.form["comparator"], lambda v: S.set_form("comparator", v),
                                           error=S.form_errors["comparator"])),
        ),
        rx.cond(measured, field_grid(
            _field(S.target_label, "target", "careplan-target", required=True, input_mode="decimal"),
            rx.cond(S.form["comparator"] == "between",
                    _field(S.target_high_label, "target_high", "careplan-target-high", required=True,
                           input_mode="decimal")),
        )),
        field_grid(
            _field("Reach it by", "due", "careplan-due", type_="date", required=True),
            _field(rx.cond(measured, "In words (optional)", "The goal"), "description", "careplan-description",
                   hint="For example: “before breakfast”, or a goal without a measure: “Stop smoking”"),
        ),
        button=rx.cond(S.editor == "goal_new", "Add goal", "Save goal"),
    )


def activity_form() -> rx.Component:
    return _form_shell(
        rx.cond(S.editor == "activity_new", "New activity or instruction", "Edit the activity"),
        _field("What to do", "text", "careplan-activity-text", required=True,
               hint="For example: “Walk 30 minutes a day”, “Check your blood pressure at home twice a week”"),
        rx.box(rx.checkbox("The patient ticks this off (it shows in their Tasks to do)", checked=S.task,
                           on_change=S.set_task, id="careplan-task", size="3"),
               min_height=TAP, display="flex", align_items="center"),
        button=rx.cond(S.editor == "activity_new", "Add activity", "Save activity"),
    )


def note_form() -> rx.Component:
    return _form_shell(
        "Progress update",
        textarea_field("Update", "careplan-note-text", S.form["text"], lambda v: S.set_form("text", v),
                       error=S.form_errors["text"], rows="3", required=True,
                       hint="The patient reads this with the goal."),
        button="Add update",
    )


def _editing(editor: str, plan: Any, item: Any = None) -> Any:
    on_plan = (S.editor == editor) & (S.editor_plan == plan["id"])
    return on_plan & (S.editor_item == item["id"]) if item is not None else on_plan


# ---------------------------------------------------------------- the doctor's plans


def _small(text: str, on_click: Any = None, **props: Any) -> rx.Component:
    """A small action button; without `on_click` it is a confirm dialog's trigger (no event of its own)."""
    if on_click is not None:
        props["on_click"] = on_click
    return rx.button(text, variant="soft", size="2", min_height=TAP, type="button", **props)


def _goal(plan: Any, goal: Any) -> rx.Component:
    writable = plan["can_write"].to(bool)
    return rx.box(
        rx.vstack(
            rx.flex(rx.text(goal["words"], weight="medium", size="3"), goal_badge(goal), spacing="2", wrap="wrap",
                    align="center"),
            rx.text(goal["due"], size="2", color=MUTED),
            progress_line(goal),
            _notes(goal, ""),
            rx.cond(writable & (S.editor == ""), rx.flex(
                _small("Progress update", S.start_note(plan["id"], goal["id"]), class_name="goal-note-button"),
                _small("Edit", S.edit_goal(plan["id"], goal["id"]), aria_label="Edit the goal " + goal["words"].to(str)),
                rx.cond(goal["status"] != "achieved",
                        _small("Mark achieved", S.set_goal_status(goal["id"], "achieved"), color_scheme="green",
                               class_name="goal-achieved-button")),
                rx.cond(goal["status"] == "in_progress",
                        _small("Not achieved", S.set_goal_status(goal["id"], "not_achieved"), color_scheme="gray"),
                        _small("Back in progress", S.set_goal_status(goal["id"], "in_progress"), color_scheme="gray")),
                spacing="2", wrap="wrap")),
            rx.cond(_editing("goal_edit", plan, goal), goal_form()),
            rx.cond(_editing("note", plan, goal), note_form()),
            spacing="2", width="100%",
        ),
        padding="0.75rem", border=f"1px solid {rx.color('gray', 6)}", border_radius="var(--radius-3)", width="100%",
        class_name="careplan-goal",
    )


def _activity(plan: Any, activity: Any) -> rx.Component:
    writable = plan["can_write"].to(bool)
    return rx.flex(
        rx.vstack(
            rx.text(activity["text"], size="3"),
            rx.cond(activity["task"].to(bool), rx.hstack(
                rx.badge("Patient task", color_scheme="blue", high_contrast=True, size="1"),
                rx.cond(activity["done"].to(bool),
                        rx.badge(rx.icon("check", size=12), activity["done_text"], color_scheme="green",
                                 high_contrast=True, size="1"),
                        rx.badge("Not done yet", color_scheme="gray", high_contrast=True, size="1")),
                spacing="2", wrap="wrap")),
            spacing="1", flex="1", min_width="0",
        ),
        rx.cond(writable & (S.editor == ""), rx.hstack(
            _small("Edit", S.edit_activity(plan["id"], activity["id"]), aria_label="Edit " + activity["text"].to(str)),
            confirm_dialog(_small("Remove", color_scheme="red", aria_label="Remove " + activity["text"].to(str)),
                           "Remove this activity?",
                           "It is taken off the plan and the patient no longer sees it.", "Remove",
                           S.remove_activity(activity["id"])),
            spacing="2")),
        direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%",
        align=rx.breakpoints(initial="stretch", sm="center"), class_name="careplan-activity",
        padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _plan(plan: Any) -> rx.Component:
    writable = plan["can_write"].to(bool)
    goals = plan["goals"].to(ROWS)
    activities = plan["activities"].to(ROWS)
    return rx.card(
        rx.vstack(
            rx.flex(rx.heading(plan["title"], size="5", as_="h2"), plan_badge(plan["status"]), spacing="3",
                    align="center", wrap="wrap"),
            rx.cond(plan["problem"] != "", rx.text("For ", plan["problem"], size="2")),
            rx.text(plan["meta"], size="2", color=MUTED),
            rx.cond(writable & (S.editor == ""), rx.flex(
                _small("Edit plan", S.edit_plan(plan["id"])),
                confirm_dialog(_small("Complete plan", color_scheme="green"), "Mark this plan completed?",
                               "A completed plan is kept as it is: its goals and activities can no longer change, "
                               "and the patient's tasks leave their list.", "Complete plan",
                               S.close_plan(plan["id"], "completed"), color_scheme="green"),
                confirm_dialog(_small("Cancel plan", color_scheme="red"), "Cancel this plan?",
                               "A cancelled plan is kept for the record but nothing on it can change, and the patient "
                               "no longer sees it.", "Cancel plan", S.close_plan(plan["id"], "cancelled")),
                spacing="2", wrap="wrap")),
            rx.cond(_editing("plan_edit", plan), plan_form()),
            rx.heading("Goals", size="3", as_="h3"),
            rx.cond(goals.length() > 0,
                    rx.vstack(rx.foreach(goals, lambda g: _goal(plan, g)), spacing="2", width="100%"),
                    rx.text("No goals yet.", size="2", color=MUTED)),
            rx.cond(writable & (S.editor == ""), _small("Add goal", S.start_goal(plan["id"]), class_name="add-goal")),
            rx.cond(_editing("goal_new", plan), goal_form()),
            rx.heading("Activities and instructions", size="3", as_="h3"),
            rx.cond(activities.length() > 0,
                    rx.vstack(rx.foreach(activities, lambda a: _activity(plan, a)), spacing="0", width="100%"),
                    rx.text("No activities yet.", size="2", color=MUTED)),
            rx.cond(writable & (S.editor == ""), _small("Add activity", S.start_activity(plan["id"]),
                                                        class_name="add-activity")),
            rx.cond(_editing("activity_new", plan), activity_form()),
            spacing="3", width="100%",
        ),
        width="100%", class_name="careplan-plan",
    )


def chart_view() -> rx.Component:
    return rx.vstack(
        chart_header(),
        rx.flex(
            rx.heading("Care plan", size="6", as_="h2"),
            rx.spacer(),
            back_to_chart(S.patient_ref, display="flex", align_items="center"),
            rx.cond(S.can_write & (S.editor == ""),
                    primary_button("New care plan", on_click=S.start_plan, type="button", id="new-careplan")),
            width="100%", align="center", spacing="3", wrap="wrap",
        ),
        success_callout(S.message, id="careplan-message"),
        error_callout(S.error, id="careplan-error"),
        rx.cond(S.editor == "plan_new", plan_form()),
        rx.cond(S.plans.length() > 0,
                rx.vstack(rx.foreach(S.plans, _plan), spacing="4", width="100%", id="careplan-list"),
                empty_state("clipboard-list", "No care plan yet",
                            rx.cond(S.can_write, "Start one with New care plan: set goals and the activities that get "
                                                 "there.", "When a doctor starts a care plan it appears here."))),
        spacing="4", width="100%",
    )


def _missing(text: str) -> rx.Component:
    return rx.callout(text, icon="info", width="100%", id="careplan-missing")


@rx.page(route="/chart/[pid]/careplan", title=f"Care plan — {PRODUCT_NAME}",
         on_load=[SessionState.require("any"), S.load_chart])
def chart_careplan() -> rx.Component:
    return role_shell(
        "account",
        rx.match(S.status, ("ok", chart_view()), ("denied", chart_refused(S.patient_ref)),
                 ("missing", _missing("That patient record was not found.")), checking()),
        title="Care plan",
    )


# ---------------------------------------------------------------- the patient


def task_box(task: Any, plan_title: Any = None) -> rx.Component:
    """One task with its tick box (a label the whole row wide, 44 px tall)."""
    return rx.box(
        rx.checkbox(task["text"], checked=task["done"].to(bool) if plan_title is None else False,
                    on_change=lambda checked: O.tick(task["id"], checked), size="3", class_name="task-box"),
        rx.cond(task["done_text"].to(str) != "", rx.text(task["done_text"], size="1", color=MUTED))
        if plan_title is None else rx.text("From ", plan_title, size="1", color=MUTED),
        min_height=TAP, display="flex", flex_direction="column", justify_content="center", width="100%",
        class_name="careplan-task",
    )


def _own_goal(goal: Any) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.flex(rx.text(goal["words"], weight="medium", size="3"), goal_badge(goal), spacing="2", wrap="wrap",
                    align="center"),
            rx.text(goal["due"], size="2", color=MUTED),
            progress_line(goal),
            _notes(goal, "From "),
            spacing="2", width="100%",
        ),
        padding="0.75rem", border=f"1px solid {rx.color('gray', 6)}", border_radius="var(--radius-3)", width="100%",
        class_name="careplan-goal",
    )


def _own_plan(plan: Any) -> rx.Component:
    goals, tasks = plan["goals"].to(ROWS), plan["tasks"].to(ROWS)
    instructions = plan["instructions"].to(ROWS)
    return rx.vstack(
        rx.heading(plan["title"], size="4", as_="h3"),
        rx.cond(plan["problem"] != "", rx.text("For your ", plan["problem"].to(str).lower(), size="2", color=MUTED)),
        rx.cond(goals.length() > 0, rx.vstack(
            rx.text("Your goals", weight="bold", size="2"),
            rx.foreach(goals, _own_goal), spacing="2", width="100%")),
        rx.cond(instructions.length() > 0, rx.vstack(
            rx.text("What helps", weight="bold", size="2"),
            rx.el.ul(rx.foreach(instructions, lambda a: rx.el.li(rx.text(a["text"], size="2"))),
                     style={"padding_left": "1.25rem", "margin": "0"}),
            spacing="1", width="100%")),
        rx.cond(tasks.length() > 0, rx.vstack(
            rx.text("Your tasks: tick them off when done", weight="bold", size="2"),
            rx.foreach(tasks, lambda t: task_box(t)), spacing="1", width="100%")),
        spacing="3", width="100%", class_name="own-careplan",
    )


def own_plan_card() -> rx.Component:
    """"Your care plan" on the patient's health record (read by ``OwnCarePlanState.load_own``)."""
    return rx.card(
        rx.vstack(
            rx.heading("Your care plan", size="4", as_="h2"),
            error_callout(O.tick_error, id="tick-error"),
            rx.match(
                O.plans_status,
                ("ok", rx.cond(O.own_plans.length() > 0,
                               rx.vstack(rx.foreach(O.own_plans, _own_plan), spacing="5", width="100%"),
                               rx.text("No care plan yet. When your doctor makes one with you, your goals and tasks "
                                       "appear here.", size="2", color=MUTED))),
                ("loading", rx.text("Loading your care plan…", size="2", color=MUTED)),
                rx.text("Your care plan could not be shown.", size="2", color=MUTED),
            ),
            spacing="3", width="100%",
        ),
        width="100%", id="care-plan",
    )


def tasks_card() -> rx.Component:
    """"Tasks to do" on the patient's home (read by ``OwnCarePlanState.load_tasks``)."""
    return rx.card(
        rx.vstack(
            rx.flex(rx.heading("Tasks to do", size="4", as_="h2"), rx.spacer(),
                    rx.link("Your care plan", href="/patient/record#care-plan", min_height=TAP, display="flex",
                            align_items="center"),
                    width="100%", align="center", wrap="wrap", spacing="2"),
            error_callout(O.tick_error, id="tick-error"),
            rx.cond(O.tasks.length() > 0,
                    rx.vstack(rx.foreach(O.tasks, lambda t: task_box(t, t["plan"])), spacing="1", width="100%"),
                    rx.text(rx.cond(O.tasks_status == "loading", "Loading your tasks…",
                                    "Nothing to do right now. Tasks your doctor gives you in your care plan appear "
                                    "here."), size="2", color=MUTED)),
            spacing="3", width="100%",
        ),
        width="100%", id="tasks-to-do", margin_bottom="1rem",
    )
