"""Form pieces: a labelled field with hint and inline error, selects, and form sections.

Every input has a visible <label> bound by id, its error is announced and linked with
aria-describedby, and tap targets are at least 44 px.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

TAP = "44px"


def _label(text: Any, field_id: Any, required: bool) -> rx.Component:
    return rx.el.label(
        rx.text(text, as_="span", weight="medium", size="2"),
        rx.text(" *", as_="span", color=rx.color("red", 11), aria_hidden="true") if required else rx.fragment(),
        html_for=field_id,
    )


def _help(field_id: Any, hint: str, error: Any) -> rx.Component:
    return rx.fragment(
        rx.text(hint, size="1", color=rx.color("gray", 11), id=field_id + "-hint") if hint else rx.fragment(),
        rx.cond(error, rx.text(error, size="2", color=rx.color("red", 11), id=field_id + "-error",
                                class_name="field-error")),
    )


def _field_box(*children: rx.Component, width: str = "100%") -> rx.Component:
    # min_width 0: in a grid, a field's own minimum width must not push it past its column
    return rx.vstack(*children, spacing="1", width=width, align="stretch", min_width="0")


def form_field(label: Any, field_id: Any, value: Any, on_change: Any, *, on_blur: Any = None, error: Any = "",
               hint: str = "", type_: str = "text", required: bool = False, **input_props: Any) -> rx.Component:
    """Label, input, hint and inline error. `on_blur` runs the field's validation as the user leaves it."""
    props = dict(input_props)
    if on_blur is not None:
        props["on_blur"] = on_blur
    if type_ == "date":  # the browser's date control must shrink to its column on a phone
        props.setdefault("style", {"& input": {"min_width": "0"}})
    return _field_box(
        _label(label, field_id, required),
        rx.input(id=field_id, value=value, on_change=on_change, type=type_, size="3", width="100%",
                 min_height=TAP, aria_invalid=rx.cond(error, "true", "false"),
                 aria_describedby=field_id + "-error", **props),
        _help(field_id, hint, error),
    )


def textarea_field(label: Any, field_id: Any, value: Any, on_change: Any, *, error: Any = "", hint: str = "",
                   required: bool = False, **props: Any) -> rx.Component:
    return _field_box(
        _label(label, field_id, required),
        rx.text_area(id=field_id, value=value, on_change=on_change, size="3", width="100%",
                     aria_describedby=field_id + "-error", **props),
        _help(field_id, hint, error),
    )


def select_field(label: Any, field_id: Any, options: Any, value: Any, on_change: Any, *,
                 error: Any = "", hint: str = "", required: bool = False, placeholder: str = "Choose…"
                 ) -> rx.Component:
    """A Radix select with a bound label; `options` are (value, label) pairs, or a state Var of
    [value, label] lists (options read from the server)."""
    items = rx.foreach(options, lambda o: rx.select.item(o[1], value=o[0])) if isinstance(options, rx.Var) \
        else [rx.select.item(text, value=val) for val, text in options]
    return _field_box(
        _label(label, field_id, required),
        rx.select.root(
            rx.select.trigger(id=field_id, placeholder=placeholder, width="100%", min_height=TAP,
                              aria_describedby=field_id + "-error"),
            rx.select.content(*(items if isinstance(items, list) else [items])),
            value=value,
            on_change=on_change,
            size="3",
        ),
        _help(field_id, hint, error),
    )


def choice_field(label: Any, field_id: Any, items: Any, value: Any, on_change: Any, *, error: Any = "",
                 hint: str = "", required: bool = False, placeholder: str = "Choose…", first: tuple[str, str] | None = None,
                 disabled: Any = False) -> rx.Component:
    """A select whose options come from state: `items` a list var of {"id", "name"} dicts (`first`: a
    fixed option before them, e.g. ("any", "Any doctor"))."""
    fixed = [rx.select.item(first[1], value=first[0])] if first else []
    return _field_box(
        _label(label, field_id, required),
        rx.select.root(
            rx.select.trigger(id=field_id, placeholder=placeholder, width="100%", min_height=TAP,
                              aria_describedby=field_id + "-error"),
            rx.select.content(*fixed, rx.foreach(items, lambda item: rx.select.item(item["name"], value=item["id"]))),
            value=value,
            on_change=on_change,
            size="3",
            disabled=disabled,
        ),
        _help(field_id, hint, error),
    )


def field_grid(*fields: rx.Component, columns: str = "2") -> rx.Component:
    """Fields side by side from tablet width up, stacked on phones."""
    return rx.grid(*fields, columns=rx.breakpoints(initial="1", sm=columns), spacing="4", width="100%")


def form_section(title: str, *children: rx.Component, description: str = "") -> rx.Component:
    """A titled group of fields (h2), as a fieldset for assistive technology."""
    return rx.el.fieldset(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, size="2", color=rx.color("gray", 11)) if description else rx.fragment(),
            *children,
            spacing="3",
            width="100%",
        ),
        style={"border": "none", "padding": "0", "margin": "0", "min_width": "0", "width": "100%"},
    )


def row_card(title: Any, *children: rx.Component, on_remove: Any = None, remove_label: Any = "Remove"
             ) -> rx.Component:
    """One entry of a repeatable list (an allergy, a policy) with a remove button."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(title, weight="medium"),
                rx.spacer(),
                rx.button(rx.icon("trash-2", size=16), "Remove", variant="ghost", color_scheme="red",
                          on_click=on_remove, min_height=TAP, type="button", aria_label=remove_label)
                if on_remove is not None else rx.fragment(),
                width="100%",
                align="center",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def primary_button(text: str, **props: Any) -> rx.Component:
    return rx.button(text, size="3", min_height=TAP, **props)


def secondary_button(text: str, **props: Any) -> rx.Component:
    return rx.button(text, size="3", variant="soft", min_height=TAP, **props)


def download_button(text: str, href: Any, *, link_id: str, icon: str = "download", **props: Any) -> rx.Component:
    """A button that downloads a file an API route serves (``/api/…``): a plain document link, since
    the app's client-side routing would not reach the API."""
    return rx.button(
        rx.el.a(rx.icon(icon, size=16), text, href=href, download=True, id=link_id,
                custom_attrs={"reloadDocument": True}),
        as_child=True, size="3", variant="soft", min_height=TAP, **props,
    )


def labelled_control(label: str, control: rx.Component, control_id: str, error: Any = "") -> rx.Component:
    """A label above an uncontrolled control of a native form, with its inline error (if any)."""
    return rx.vstack(
        rx.el.label(label, html_for=control_id, style={"font_weight": "500"}),
        control,
        rx.cond(error, rx.text(error, color=rx.color("red", 11), size="2", role="alert")),
        spacing="1",
        width="100%",
    )
