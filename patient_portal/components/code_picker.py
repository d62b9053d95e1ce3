"""A search-as-you-type picker over the code tables (ICD-10-CM, the formulary): a labelled text input
with the ARIA combobox pattern and a listbox of what was found.

The input is Reflex's debounced input (300 ms), so a search runs when typing pauses, not per key.
The arrow keys move the highlighted option (``aria-activedescendant``), Enter takes it, Escape
closes the list; a click or tap takes an option too. What was typed stays the entry's name when
nothing is picked (a food, a drug outside the formulary), and the state forgets a code picked
earlier as soon as the text changes, so a name and its code never disagree.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.forms import TAP, _field_box, _help, _label


def code_picker(label: str, field_id: str, value: Any, on_change: Any, *, results: Any, active: Any, on_key: Any,
                on_pick: Any, note: Any = "", chosen: Any = "", error: Any = "", hint: str = "",
                required: bool = False) -> rx.Component:
    """`results` a list Var of {label, …}; `active` the highlighted index (-1: none); `on_key(key)`
    and `on_pick(index)` the state's handlers; `chosen` the code picked (shown under the field)."""
    listbox_id = field_id + "-options"
    option_id = field_id + "-option-"
    return _field_box(
        _label(label, field_id, required),
        rx.box(
            rx.input(
                id=field_id, value=value, on_change=on_change, on_key_down=lambda key, _info: on_key(key),
                type="text", size="3", width="100%", min_height=TAP, auto_complete="off", role="combobox",
                aria_autocomplete="list", aria_controls=listbox_id,
                aria_expanded=rx.cond(results.length() > 0, "true", "false"),
                aria_activedescendant=rx.cond(active >= 0, option_id + active.to_string(), None),
                aria_invalid=rx.cond(error, "true", "false"), aria_describedby=field_id + "-error",
            ),
            rx.cond(
                results.length() > 0,
                rx.el.ul(
                    rx.foreach(results, lambda found, i: rx.el.li(
                        found["label"],
                        id=option_id + i.to_string(), role="option",
                        aria_selected=rx.cond(i == active, "true", "false"),
                        on_click=on_pick(i),
                        class_name="code-option",
                        style={"padding": "10px 12px", "min_height": TAP, "cursor": "pointer", "list_style": "none",
                               "background": rx.cond(i == active, rx.color("accent", 4), "transparent"),
                               "border_radius": "var(--radius-2)"},
                    )),
                    id=listbox_id, role="listbox", aria_label=label + " — suggestions",
                    style={"margin": "4px 0 0 0", "padding": "4px", "border": f"1px solid {rx.color('gray', 6)}",
                           "border_radius": "var(--radius-3)", "background": rx.color("gray", 1),
                           "max_height": "18rem", "overflow_y": "auto", "width": "100%"},
                ),
            ),
            width="100%",
        ),
        rx.cond(chosen, rx.text(chosen, size="1", color=rx.color("green", 11), id=field_id + "-chosen")),
        rx.cond(note, rx.text(note, size="1", color=rx.color("gray", 11), id=field_id + "-note", role="status")),
        _help(field_id, hint, error),
    )
