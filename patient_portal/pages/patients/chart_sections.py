"""The chart's sections (details, insurance, emergency contacts, clinical history), each with its
edit form. Used by the clinic's chart page and by the patient's own record page.

What they show is already written for people by the state (words, not codes; "4 Jul 1988"). A failed
save's message sits beside its Save button; removing a history entry asks first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.badges import severity_badge
from patient_portal.components.code_picker import code_picker
from patient_portal.components.confirm import confirm_dialog
from patient_portal.components.feedback import error_callout
from patient_portal.components.forms import download_button, field_grid, primary_button, secondary_button
from patient_portal.components.tables import empty_state
from patient_portal.pages.patients.fields import (
    CONDITION_STATUS,
    ROW_SPECS,
    ROW_TITLES,
    SEVERITY,
    Binding,
    action_bar,
    contact_fields,
    field,
    legal_fields,
    preference_fields,
    rows_editor,
)
from patient_portal.state import formatting as fmt
from patient_portal.state.chart import ChartState as C

FORM = Binding(C.form, C.form_errors, "", C.set_form, None, id_prefix="edit")
NEW = Binding(C.new_item, C.new_errors, "", C.set_new, None, id_prefix="new")

PICK = "pick"  # a field typed into the code picker (ICD-10-CM, the formulary)
CATEGORY = fmt.options(fmt.ALLERGY_CATEGORY)
CRITICALITY = fmt.options(fmt.CRITICALITY)
ALLERGY_STATUS = fmt.options(fmt.ALLERGY_STATUS)
VERIFICATION = fmt.options(fmt.VERIFICATION)
MEDICATION_STATUS = fmt.options(fmt.MEDICATION_STATUS)
ORIGIN = fmt.options(fmt.MEDICATION_ORIGIN)
SITE = fmt.options(fmt.IMMUNIZATION_SITE)
ROUTE = fmt.options(fmt.IMMUNIZATION_ROUTE)

#: The chart's add and edit form of each history kind (field, label, input kind, required); the
#: registration wizard keeps its own shorter rows (fields.ROW_SPECS).
HISTORY_FORMS: dict[str, list[tuple]] = {
    "conditions": [("description", "Condition (ICD-10-CM)", PICK, True), ("code", "ICD-10-CM code", "text", False),
                   ("onset", "Onset", "date", False), ("status", "Status", CONDITION_STATUS, False),
                   ("note", "Note", "text", False)],
    "family_history": [("relative", "Relative", "text", True), ("condition", "Condition (ICD-10-CM)", PICK, True),
                       ("code", "ICD-10-CM code", "text", False), ("age_at_onset", "Age at onset", "text", False)],
    "allergies": [("substance", "Substance", PICK, True), ("category", "Category", CATEGORY, False),
                  ("reaction", "Reactions", "text", False), ("severity", "Severity", SEVERITY, True),
                  ("criticality", "Criticality", CRITICALITY, False), ("status", "Status", ALLERGY_STATUS, False),
                  ("verification", "Verification", VERIFICATION, False)],
    "medications": [("name", "Medication", PICK, True), ("dose", "Dose", "text", False),
                    ("route", "Route", "text", False), ("frequency", "How often", "text", False),
                    ("start_date", "Start date", "date", False), ("stop_date", "Stop date", "date", False),
                    ("prescriber", "Prescriber", "text", False), ("status", "Status", MEDICATION_STATUS, False),
                    ("origin", "Source", ORIGIN, False)],
    "immunizations": [("vaccine", "Vaccine (CVX)", PICK, True), ("cvx", "CVX code", "text", False),
                      ("given_on", "Date given", "date", True), ("dose_number", "Dose number", "text", False),
                      ("lot", "Lot number", "text", False), ("site", "Site", SITE, False),
                      ("route", "Route", ROUTE, False), ("given_by", "Given by", "text", False)],
}
#: What a patient fills in to report an allergy or a medication they take (plain words).
REPORT_FORMS: dict[str, list[tuple]] = {
    "allergies": [("substance", "What you are allergic to", PICK, True), ("category", "Kind", CATEGORY, False),
                  ("reaction", "What happens", "text", False), ("severity", "How bad it is", SEVERITY, True)],
    "medications": [("name", "Medicine", PICK, True), ("dose", "How much", "text", False),
                    ("frequency", "How often", "text", False), ("start_date", "Taking it since", "date", False)],
}
PICK_HINTS = {
    "conditions": "Type words or a code (“type 2 diab”, “E11.9”) and choose from the list.",
    "family_history": "Type words or a code and choose from the list.",
    "allergies": "Choose a drug or drug class from the list — or type a food or something in the environment.",
    "medications": "Type a drug name and choose it from the formulary.",
    "immunizations": "Type the vaccine's name (“flu”, “Tdap”) or its CVX code and choose from the list.",
}
#: How each history row reads: (its name field, [(field, label)]); "" labels show the value alone.
HISTORY_LINES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "conditions": ("description", [("code", "ICD-10-CM"), ("status", "Status"), ("onset", "Since"),
                                   ("note", "Note")]),
    "family_history": ("condition", [("relative", "Relative"), ("code", "ICD-10-CM"),
                                     ("age_at_onset", "Age at onset")]),
    "allergies": ("substance", [("category", "Kind"), ("drug_class", "Drug class"), ("reaction", "Reactions"),
                                ("criticality", "Criticality"), ("status", "Status")]),
    "medications": ("name", [("how_to_take", ""), ("drug_class", "Drug class"), ("start_date", "Since"),
                             ("stop_date", "Stopped"), ("prescriber", "Prescriber"), ("status", "Status"),
                             ("origin", "Source")]),
    "immunizations": ("vaccine", [("given_on", "Date given"), ("cvx", "CVX"), ("dose_number", "Dose"),
                                  ("lot", "Lot"), ("site", "Site"), ("route", "Route"), ("given_by", "Given by")]),
}


def section_card(title: str, *children: rx.Component, action: rx.Component | None = None,
                 section_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(rx.heading(title, size="4", as_="h2"), rx.spacer(), action or rx.fragment(),
                    align="center", width="100%", spacing="2", wrap="wrap"),
            *children,
            spacing="3", width="100%",
        ),
        width="100%", id=section_id,
    )


def conflict_panel(fields=C.conflict, values=C.conflict_values) -> rx.Component:
    return rx.cond(
        fields.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("git-compare")),
            rx.vstack(
                rx.text("Changed by someone else", weight="bold"),
                rx.text("While you were editing, someone saved: ", fields.join(", "), ".", size="2"),
                rx.foreach(values, lambda c: rx.text(c["field"], " is now: ", rx.text.span(
                    c["value"], weight="medium"), size="2")),
                rx.text("Your entries are kept below. Check them, then save again.", size="2"),
                spacing="1",
            ),
            color_scheme="amber", role="alert", width="100%", id="conflict",
        ),
    )


def _edit_buttons() -> rx.Component:
    return action_bar(
        primary_button("Save", on_click=C.save_edit, type="button", id="edit-save"),
        secondary_button("Cancel", on_click=C.cancel_edit, type="button"),
        message=C.error, message_id="edit-error",
    )


def edit_form(*fields: rx.Component) -> rx.Component:
    return rx.vstack(conflict_panel(), field_grid(*fields), _edit_buttons(), spacing="4", width="100%")


def _line(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(rx.cond(value, value, "—")))


def _edit_button(label: str, section: str, allowed) -> rx.Component:
    return rx.cond(allowed & (C.editing == ""),
                   secondary_button(label, on_click=C.start_edit(section), type="button", id=f"edit-{section}"))


def details_card(patient_view: bool = False) -> rx.Component:
    """Name, birth, preferences and contact details, with the edit forms this role may use."""
    d = C.details
    read = rx.data_list.root(
        _line("Legal name", d["legal_name"]),
        _line("Preferred name", d["preferred_name"]),
        _line("Date of birth", rx.cond(C.patient["age_text"], C.patient["dob_display"].to(str) + " ("
                                       + C.patient["age_text"].to(str) + ")", C.patient["dob_display"])),
        _line("Sex", d["sex"]),
        _line("Gender identity", d["gender_identity"]),
        _line("Preferred language", d["preferred_language"]),
        _line("Mobile phone", d["phone_mobile"]),
        _line("Home phone", d["phone_home"]),
        _line("Work phone", d["phone_work"]),
        _line("Email", d["email"]),
        _line("Address", d["address"]),
        _line("Preferred contact", d["preferred_contact_method"]),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
    )
    actions = rx.flex(
        _edit_button("Edit demographics", "demographics", C.can["edit_demographics"]),
        _edit_button("Edit preferences", "preferences", C.can["request_legal_change"]),
        _edit_button("Edit contact details", "contact", C.can["edit_contact"]),
        spacing="2", wrap="wrap",
    )
    return section_card(
        "Your details" if patient_view else "Demographics and contact",
        rx.match(
            C.editing,
            ("demographics", edit_form(*legal_fields(FORM), *preference_fields(FORM))),
            ("preferences", edit_form(*preference_fields(FORM))),
            ("contact", edit_form(*contact_fields(FORM))),
            rx.vstack(read, actions, width="100%", spacing="3"),
        ),
        section_id="details",
    )


def _row_summary(section: str, row) -> rx.Component:
    specs = ROW_SPECS[section]
    shown = [(name, label) for name, label, *_ in specs[1:] if not (section == "allergies" and name == "severity")]
    return rx.vstack(
        rx.text(row[specs[0][0]], weight="bold"),
        rx.flex(*[rx.cond(row[name], rx.text(label, ": ", row[name], size="2")) for name, label in shown],
                spacing="3", wrap="wrap", color=rx.color("gray", 11)),
        spacing="0", width="100%",
    )


def rows_card(section: str, allowed, empty: str, title: str = "") -> rx.Component:
    """Insurance or emergency contacts: a list, and an editable list when editing."""
    rows = C.insurance if section == "insurance" else C.emergency
    return section_card(
        title or ROW_TITLES[section][0],
        rx.cond(
            C.editing == section,
            rx.vstack(
                conflict_panel(),
                rows_editor(section, C.form_rows, C.form_errors, "", on_set=C.set_form_row, on_blur=C.noop_row,
                            on_add=C.add_form_row, on_remove=C.remove_form_row, empty_text=empty),
                _edit_buttons(), spacing="4", width="100%",
            ),
            rx.vstack(
                rx.cond(rows.length() == 0, rx.text(empty, color=rx.color("gray", 11))),
                rx.foreach(rows, lambda row: rx.box(_row_summary(section, row), width="100%")),
                _edit_button("Edit", section, allowed),
                spacing="3", width="100%",
            ),
        ),
        section_id=f"section-{section}",
    )


def _remove_button(kind: str, row) -> rx.Component:
    """Remove an entry entered in error — after a dialog that says what will happen."""
    name = row[ROW_SPECS[kind][0][0]].to(str)
    noun = ROW_TITLES[kind][1]
    return confirm_dialog(
        rx.button(rx.icon("trash-2", size=16), variant="ghost", color_scheme="red", type="button",
                  min_height="44px", aria_label="Remove " + name),
        "Remove " + name + f" from the {ROW_TITLES[kind][0].lower()}?",
        f"The {noun} is taken off the chart now, for everyone who opens it. The audit trail keeps a record "
        f"that it was removed; add it again if this was a mistake.",
        "Remove", C.remove_item(kind, row["id"]), confirm_id=f"confirm-remove-{kind}",
    )


def _history_summary(kind: str, row) -> rx.Component:
    title, lines = HISTORY_LINES[kind]
    return rx.vstack(
        rx.text(row[title], weight="bold"),
        rx.flex(*[rx.cond(row[name], rx.text(label + ": " if label else "", row[name], size="2"))
                  for name, label in lines],
                spacing="3", wrap="wrap", color=rx.color("gray", 11)),
        spacing="0", width="100%", min_width="0",
    )


def _reported_badge(row) -> rx.Component:
    """"Reported by patient" until a clinician verifies the entry (allergies, medications)."""
    return rx.cond(row["verification_code"] == "patient-reported",
                   rx.badge(rx.icon("user-round", size=12), "Reported by patient", color_scheme="violet",
                            class_name="reported-badge"))


def _history_row(kind: str, row) -> rx.Component:
    name = row[HISTORY_LINES[kind][0]].to(str)
    reportable = kind in ("allergies", "medications")
    return rx.flex(
        _history_summary(kind, row),
        rx.cond(row["severity_code"], severity_badge(row["severity_code"])) if kind == "allergies" else rx.fragment(),
        _reported_badge(row) if reportable else rx.fragment(),
        rx.cond(C.can["edit_clinical"], rx.hstack(
            rx.cond(row["verification_code"] == "patient-reported", rx.button(
                rx.icon("badge-check", size=16), "Verify", variant="soft", size="2", type="button", min_height="44px",
                on_click=C.verify_item(kind, row["id"]), aria_label="Mark " + name + " as verified"))
            if reportable else rx.fragment(),
            rx.button(rx.icon("pencil", size=16), variant="ghost", type="button", on_click=C.edit_item(kind, row["id"]),
                      min_height="44px", aria_label="Edit " + name),
            _remove_button(kind, row),
            spacing="1")),
        spacing="2", align="center", width="100%", wrap="wrap", class_name=f"history-row {kind}-row",
    )


def _picked_note(kind: str):
    """What the picker took, under the field: the code and where it came from."""
    item = C.new_item
    if kind in ("conditions", "family_history"):
        return rx.cond(item["code"], "ICD-10-CM " + item["code"].to(str), "")
    if kind == "medications":
        return rx.cond(item["drug"], "From the formulary", "")
    if kind == "immunizations":
        return rx.cond(item["cvx"], "CVX " + item["cvx"].to(str), "")
    return rx.cond(item["code"], "Drug from the formulary",
                   rx.cond(item["category"] == "drug_class", "Drug class from the formulary", ""))


def _form_field(kind: str, spec: tuple) -> rx.Component:
    name, label, input_kind, required = spec
    if input_kind != PICK:
        return field(NEW, name, label, input_kind, required=required)
    return code_picker(label, f"new-{name}", C.new_item[name].to(str), lambda v: C.search_codes(kind, v),
                       results=C.pick_results, active=C.pick_active, on_key=C.pick_key, on_pick=C.pick,
                       note=C.pick_note, chosen=_picked_note(kind), error=C.new_errors[name],
                       hint=PICK_HINTS.get(kind, ""), required=required)


def _form_fields(kind: str) -> rx.Component:
    clinician = field_grid(*[_form_field(kind, spec) for spec in HISTORY_FORMS[kind]])
    if kind not in REPORT_FORMS:
        return clinician
    return rx.cond(C.can["edit_clinical"], clinician,
                   field_grid(*[_form_field(kind, spec) for spec in REPORT_FORMS[kind]]))


def _add_form(kind: str) -> rx.Component:
    return rx.vstack(
        conflict_panel(C.add_conflict, C.add_conflict_values),
        _form_fields(kind),
        action_bar(
            primary_button(rx.cond(C.new_item["id"], "Save", rx.cond(C.can["edit_clinical"], "Add", "Send to the clinic")),
                           on_click=C.save_new, type="button", id=f"save-new-{kind}"),
            secondary_button("Cancel", on_click=C.cancel_add, type="button"),
            message=C.add_error, message_id=f"add-error-{kind}",
        ),
        spacing="3", width="100%",
    )


def _allergy_answer() -> rx.Component:
    """With no allergy on the list: "no known allergies" (asked) or "not recorded" (never asked), and
    the clinician's button to record the answer."""
    return rx.vstack(
        rx.cond(C.allergy_status == "nka",
                rx.text("No known allergies (recorded).", id="allergy-status"),
                rx.text("Allergies not recorded yet — ask the patient, then add them or record “No known allergies”.",
                        color=rx.color("amber", 11), id="allergy-status")),
        rx.cond(C.can["edit_clinical"] & (C.allergy_status != "nka") & (C.new_kind == ""),
                secondary_button("Record no known allergies", on_click=C.record_no_known_allergies, type="button",
                                 id="record-nka")),
        error_callout(C.nka_error, id="nka-error"),
        spacing="2", width="100%",
    )


_REPORT_LABELS = {"allergies": "Report an allergy", "medications": "Report a medicine you take"}


def history_card(kind: str, empty: str, title: str = "") -> rx.Component:
    _title, noun = ROW_TITLES[kind]
    rows = getattr(C, kind)
    add = rx.cond(C.can["edit_clinical"] & (C.new_kind == ""),
                  secondary_button(f"Add {noun}", on_click=C.start_add(kind), type="button", id=f"add-{kind}"))
    if kind in _REPORT_LABELS:
        add = rx.fragment(add, rx.cond(C.can["report_clinical"] & (C.new_kind == ""),
                                       secondary_button(_REPORT_LABELS[kind], on_click=C.start_add(kind),
                                                        type="button", id=f"report-{kind}")))
    if kind == "immunizations":  # the printable record: the patient their own, the care team from the chart
        add = rx.flex(add, rx.cond(rows.length() > 0, download_button(
            "Print immunization record", "/api/patients/" + C.patient_ref + "/immunizations.pdf",
            link_id="print-immunizations", icon="printer")), spacing="2", wrap="wrap")
    return section_card(
        title or _title,
        rx.cond(rows.length() == 0, _allergy_answer() if kind == "allergies"
                else rx.text(empty, color=rx.color("gray", 11))),
        rx.foreach(rows, lambda row: _history_row(kind, row)),
        rx.cond((C.remove_kind == kind) & (C.remove_error != ""),
                rx.callout(C.remove_error, icon="triangle-alert", color_scheme="red", role="alert", size="1",
                           width="100%", id=f"remove-error-{kind}")),
        error_callout(C.verify_error, id=f"verify-error-{kind}") if kind in _REPORT_LABELS else rx.fragment(),
        rx.cond(C.new_kind == kind, _add_form(kind)),
        action=add,
        section_id=f"history-{kind}",
    )


def _team_member(member) -> rx.Component:
    return rx.flex(
        rx.vstack(rx.text(member["name"], weight="bold"),
                  rx.text(member["email"], size="2", color=rx.color("gray", 11)), spacing="0"),
        rx.spacer(),
        confirm_dialog(
            rx.button(rx.icon("user-minus", size=16), "Remove", variant="soft", color_scheme="red", size="2",
                      min_height="44px", type="button", aria_label="Remove " + member["name"] + " from the care team"),
            "Remove " + member["name"] + " from the care team?",
            "They can no longer open this chart or find this patient in search. You can add them again later.",
            "Remove from care team",
            C.remove_from_team(member["user_id"]),
        ),
        spacing="2", align="center", width="100%", wrap="wrap", class_name="care-team-member",
    )


def care_team_card() -> rx.Component:
    """The doctors on the care team, with Add and Remove, for those who manage care teams (staff, admin)."""
    return rx.cond(
        C.manage_team,
        section_card(
            "Care team",
            error_callout(C.team_error, id="team-error"),
            rx.cond(C.team_members.length() == 0,
                    rx.text("No doctor is on the care team yet, so no doctor can open this chart. Add one below.",
                            color=rx.color("gray", 11))),
            rx.foreach(C.team_members, _team_member),
            rx.cond(
                C.team_choices.length() > 0,
                rx.flex(
                    rx.el.label(rx.text("Add a doctor", as_="span", weight="medium", size="2"), html_for="team-pick"),
                    rx.select.root(
                        rx.select.trigger(id="team-pick", placeholder="Choose a doctor…", min_height="44px"),
                        rx.select.content(rx.foreach(C.team_choices, lambda d: rx.select.item(
                            d["name"] + " (" + d["email"] + ")", value=d["user_id"]))),
                        value=C.team_pick, on_change=C.set_team_pick, size="3",
                    ),
                    confirm_dialog(
                        secondary_button("Add to care team", type="button", id="team-add", disabled=C.team_pick == ""),
                        "Add " + C.team_pick_name + " to the care team?",
                        "They can open this chart, and the patient appears in their My patients list. You can "
                        "remove them again later.",
                        "Add to care team", C.add_to_team, color_scheme="green", confirm_id="confirm-team-add",
                    ),
                    spacing="2", align="center", wrap="wrap", width="100%",
                ),
            ),
            section_id="care-team",
        ),
    )


def missing_view(merged_into: Any = None) -> rx.Component:
    """Not found; with `merged_into` (the id of the record a merged duplicate lives in now), a link there."""
    found = empty_state("file-question", "Record not found",
                        "This record does not exist or was merged into another one. Search again.")
    if merged_into is None:
        return found
    return rx.cond(merged_into != "", rx.callout(rx.vstack(
        rx.text("This record was merged into another record."),
        rx.link("Open the record it was merged into", href="/chart/" + merged_into, id="merged-into-link"),
        spacing="2"), icon="git-merge", role="status", id="merged-notice"), found)
