"""Field layouts shared by the wizard, the chart's edit forms and the patient's record page.

A ``Binding`` says where a form's values, errors and handlers live, so one layout serves several states.
The options of every select are the words of ``state.formatting``, so a choice reads the same in the
form and wherever the saved value is shown. ``action_bar`` puts a form's buttons and, beside them,
the message of a failed save or step — where the person is looking when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from patient_portal.components.forms import field_grid, form_field, row_card, secondary_button, select_field
from patient_portal.state import formatting as fmt

SEX = fmt.options(fmt.SEX)
CONTACT = fmt.options(fmt.CONTACT_METHOD)
SEVERITY = fmt.options(fmt.SEVERITY)
CONDITION_STATUS = fmt.options(fmt.CONDITION_STATUS)
CODE_SYSTEM = fmt.options(fmt.CODE_SYSTEM)
RELATIONSHIP = fmt.options(fmt.RELATIONSHIP)
POLICY_ORDER = fmt.options(fmt.ORDER)
CONTACT_ORDER = POLICY_ORDER[:2]
CONTACT_NOTIFY = fmt.options(fmt.CONTACT_NOTIFY)

#: (field, label, "text" | "date" | "email" | "tel" | options, required)
ROW_SPECS: dict[str, list[tuple[str, str, Any, bool]]] = {
    "conditions": [("description", "Condition", "text", True), ("code", "Code", "text", False),
                   ("code_system", "Code system", CODE_SYSTEM, False), ("onset", "Onset", "date", False),
                   ("status", "Status", CONDITION_STATUS, False)],
    "allergies": [("substance", "Substance", "text", True), ("reaction", "Reaction", "text", False),
                  ("severity", "Severity", SEVERITY, True)],
    "medications": [("name", "Medication", "text", True), ("dose", "Dose", "text", False),
                    ("frequency", "Frequency", "text", False), ("rxnorm", "RxNorm code", "text", False)],
    "family_history": [("relative", "Relative", "text", True), ("condition", "Condition", "text", True)],
    "immunizations": [("vaccine", "Vaccine", "text", True), ("given_on", "Date given", "date", True),
                      ("cvx", "CVX code", "text", False)],
    "insurance": [("payer", "Payer", "text", True), ("plan", "Plan", "text", False),
                  ("member_id", "Member ID", "text", True), ("group_number", "Group number", "text", False),
                  ("relationship", "Patient's relationship to subscriber", RELATIONSHIP, True),
                  ("subscriber_name", "Subscriber name", "text", False),
                  ("effective_date", "Effective date", "date", False), ("end_date", "End date", "date", False),
                  ("order", "Order", POLICY_ORDER, True)],
    "emergency": [("name", "Name", "text", True), ("relationship", "Relationship", "text", True),
                  ("phone", "Phone", "tel", True), ("alt_phone", "Other phone", "tel", False),
                  ("email", "Email", "email", False), ("order", "Order", CONTACT_ORDER, True),
                  ("preferred_contact_method", "Preferred contact method", CONTACT, False),
                  ("hours", "Best hours to call", "text", False), ("language", "Language", "text", False),
                  ("notify", "Message them in an emergency", CONTACT_NOTIFY, False)],
}
ROW_TITLES = {"conditions": ("Conditions", "condition"), "allergies": ("Allergies", "allergy"),
              "medications": ("Current medications", "medication"),
              "family_history": ("Family history", "family history entry"),
              "immunizations": ("Immunizations", "immunization"), "insurance": ("Insurance policies", "policy"),
              "emergency": ("Emergency contacts", "emergency contact")}


@dataclass(frozen=True)
class Binding:
    """Where a form lives: values dict Var, errors dict Var (keys ``prefix + field``), handlers."""

    values: Any
    errors: Any
    prefix: str
    on_set: Any  # handler(field, value)
    on_blur: Any = None  # handler(field) or None
    id_prefix: str = "f"


def field(b: Binding, name: str, label: str, kind: Any = "text", required: bool = False, hint: str = "",
          **props: Any) -> rx.Component:
    """One field of a flat form (`kind` is an input type or a list of options)."""
    field_id = f"{b.id_prefix}-{name}"
    error = b.errors[b.prefix + name]
    value = b.values[name].to(str)
    if isinstance(kind, list):
        on_change = (lambda v: [b.on_set(name, v), b.on_blur(name)]) if b.on_blur is not None else \
            (lambda v: b.on_set(name, v))
        return select_field(label, field_id, kind, value, on_change, error=error, hint=hint, required=required)
    return form_field(label, field_id, value, lambda v: b.on_set(name, v),
                      on_blur=(lambda _v: b.on_blur(name)) if b.on_blur is not None else None,
                      error=error, hint=hint, type_=kind, required=required, **props)


def legal_fields(b: Binding) -> list[rx.Component]:
    return [
        field(b, "given_name", "Given name (legal)", required=True, auto_complete="off"),
        field(b, "family_name", "Family name (legal)", required=True, auto_complete="off"),
        field(b, "date_of_birth", "Date of birth", "date", required=True),
        field(b, "sex", "Sex", SEX, required=True),
    ]


def preference_fields(b: Binding) -> list[rx.Component]:
    return [
        field(b, "preferred_name", "Preferred name", hint="What the patient likes to be called."),
        field(b, "gender_identity", "Gender identity"),
        field(b, "preferred_language", "Preferred language"),
    ]


def contact_fields(b: Binding) -> list[rx.Component]:
    return [
        field(b, "phone_mobile", "Mobile phone", "tel", hint="Include the country code for numbers abroad."),
        field(b, "phone_home", "Home phone", "tel"),
        field(b, "phone_work", "Work phone", "tel"),
        field(b, "email", "Email", "email"),
        field(b, "address_line1", "Address"),
        field(b, "address_line2", "Address line 2"),
        field(b, "city", "City"),
        field(b, "region", "State / region"),
        field(b, "postal_code", "Postal code"),
        field(b, "country", "Country"),
        field(b, "preferred_contact_method", "Preferred contact method", CONTACT),
    ]


def _row_field(section: str, spec: tuple, row: Any, index: Any, errors: Any, prefix: str, on_set: Any,
               on_blur: Any) -> rx.Component:
    name, label, kind, required = spec
    field_id = section + "-" + index.to_string() + "-" + name
    error = errors[prefix + index.to_string() + "." + name]
    value = row[name].to(str)
    if isinstance(kind, list):
        return select_field(label, field_id, kind, value,
                            lambda v: [on_set(section, index, name, v), on_blur(section, index, name)],
                            error=error, required=required)
    return form_field(label, field_id, value, lambda v: on_set(section, index, name, v),
                      on_blur=lambda _v: on_blur(section, index, name), error=error, type_=kind,
                      required=required)


def rows_editor(section: str, rows: Any, errors: Any, error_prefix: str, *, on_set: Any, on_blur: Any,
                on_add: Any, on_remove: Any, empty_text: str = "") -> rx.Component:
    """A repeatable list of entries (allergies, policies, contacts) with add and remove; error keys
    read ``error_prefix + "<index>.<field>"``."""
    title, noun = ROW_TITLES[section]
    return rx.vstack(
        rx.heading(title, size="4", as_="h2"),
        rx.cond(rows.length() == 0, rx.text(empty_text, size="2", color=rx.color("gray", 11))) if empty_text
        else rx.fragment(),
        rx.foreach(rows, lambda row, i: row_card(
            noun.capitalize() + " " + (i + 1).to_string(),
            field_grid(*[_row_field(section, spec, row, i, errors, error_prefix, on_set, on_blur)
                         for spec in ROW_SPECS[section]]),
            on_remove=on_remove(section, i),
            remove_label="Remove " + noun + " " + (i + 1).to_string(),
        )),
        secondary_button(f"Add {noun}", on_click=on_add(section), type="button", id=f"add-{section}",
                         aria_label=f"Add {noun}"),
        spacing="3",
        width="100%",
        align="start",
    )


def action_bar(*buttons: rx.Component, message: Any, message_id: str) -> rx.Component:
    """A form's buttons, with the message of a failed action beside them (announced: role="alert").
    Below the buttons on a phone, beside them from tablet width up."""
    return rx.flex(
        rx.flex(*buttons, spacing="3", wrap="wrap", align="center"),
        rx.cond(message, rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", size="1",
                                    id=message_id, flex="1 1 16rem")),
        spacing="3", align="center", wrap="wrap", width="100%",
    )
