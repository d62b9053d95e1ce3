"""/admin/settings: the clinic's settings — who the clinic is (name, address, phone, logo), its time
zone and opening hours, how long sessions last and whether staff must use MFA, and the closing words
of every email. Saved settings are in use at once in every app process (core.clinic_config).
Scheduling rules and visit types have their own page (/admin/scheduling), payers and fees theirs."""

from __future__ import annotations

import reflex as rx

from patient_portal.components.feedback import checking, error_callout, not_permitted
from patient_portal.components.forms import (
    TAP,
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    select_field,
    textarea_field,
)
from patient_portal.components.layout import PRODUCT_NAME, page_header, role_shell
from patient_portal.components.navigation import add_nav_item
from patient_portal.core.access import Action
from patient_portal.domain.configuration.validation import ABSOLUTE_HOURS, IDLE_MINUTES, WEEKDAYS, time_zones
from patient_portal.state.configuration import LOGO_INPUT
from patient_portal.state.configuration import ClinicSettingsState as C
from patient_portal.state.session import SessionState

add_nav_item("admin", "Settings", "/admin/settings", "settings", needs=Action.SYSTEM_CONFIGURE)
MUTED = rx.color("gray", 11)


def _section(title: str, text: str, *children: rx.Component, section_id: str) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="5", as_="h2"), rx.text(text, size="2", color=MUTED),
                             *children, spacing="3", width="100%"), width="100%", id=section_id)


def _text(label: str, name: str, hint: str = "", **props) -> rx.Component:
    return form_field(label, f"settings-{name.replace('_', '-')}", C.form[name], lambda v: C.set_field(name, v),
                      error=C.errors[name], hint=hint, **props)


def _day(day: int) -> rx.Component:
    field = f"hours_{day}"
    return rx.vstack(
        rx.hstack(
            rx.text(WEEKDAYS[day], weight="medium", min_width="7rem"),
            rx.input(type="time", value=C.form[f"open_{day}"], on_change=lambda v: C.set_field(f"open_{day}", v),
                     id=f"settings-open-{day}", aria_label=f"{WEEKDAYS[day]} opens", size="3", min_height=TAP),
            rx.text("to", color=MUTED),
            rx.input(type="time", value=C.form[f"close_{day}"], on_change=lambda v: C.set_field(f"close_{day}", v),
                     id=f"settings-close-{day}", aria_label=f"{WEEKDAYS[day]} closes", size="3", min_height=TAP),
            spacing="2", align="center", wrap="wrap"),
        rx.cond(C.errors[field], rx.text(C.errors[field], color=rx.color("red", 11), size="2", id=f"{field}-error",
                                         role="alert")),
        spacing="1", width="100%")


def _clinic() -> rx.Component:
    return _section(
        "The clinic", "Printed on prescriptions, records and letters, and shown in emails and calendar invitations.",
        field_grid(_text("Clinic name", "clinic_name", required=True), _text("Phone", "clinic_phone")),
        _text("Address", "clinic_address"),
        select_field("Time zone", "settings-timezone", [(z, z.replace("_", " ")) for z in time_zones()],
                     C.form["timezone"], lambda v: C.set_field("timezone", v), error=C.errors["timezone"],
                     hint="Every time on screen, in emails and on printouts is shown in this zone."),
        rx.text("Time at the clinic now: ", rx.el.strong(C.clinic_now, id="settings-clinic-now"), size="2"),
        section_id="settings-clinic")


def _hours() -> rx.Component:
    return _section("Opening hours", "Leave both times empty on a day the clinic is closed.",
                    *[_day(d) for d in range(7)], section_id="settings-hours")


def _security() -> rx.Component:
    return _section(
        "Sign-in and sessions", "How long a signed-in browser stays signed in. Shorter is safer on shared computers.",
        field_grid(
            _text("Sign out after this many idle minutes", "session_idle_minutes", type_="number",
                  hint=f"{IDLE_MINUTES[0]} to {IDLE_MINUTES[1]} minutes."),
            _text("Sign out after this many hours in all", "session_absolute_hours", type_="number",
                  hint=f"{ABSOLUTE_HOURS[0]} to {ABSOLUTE_HOURS[1]} hours.")),
        rx.el.label(rx.hstack(
            rx.checkbox(checked=C.form["require_mfa"] == "true", on_change=lambda v: C.set_field("require_mfa", v),
                        id="settings-require-mfa", size="3", disabled=C.mfa_forced),
            rx.text("Staff, doctors and admins must use two-step sign-in (MFA)", size="3"),
            align="center", spacing="2", min_height=TAP), html_for="settings-require-mfa"),
        rx.cond(C.mfa_forced, rx.text("The server's configuration requires two-step sign-in: it cannot be turned "
                                      "off here.", size="2", color=MUTED)),
        section_id="settings-security")


def _emails() -> rx.Component:
    return _section(
        "Emails", "Closing words added to every email the portal sends. Emails never carry clinical details, so "
                  "keep these general: opening hours, how to call.",
        textarea_field("Closing words", "settings-email-signature", C.form["email_signature"],
                       lambda v: C.set_field("email_signature", v), error=C.errors["email_signature"],
                       hint="Plain words, at most 500 characters.", rows="3"),
        rx.link("Reword each email under Email wording", href="/admin/emails", id="settings-wording-link",
                size="2"),
        section_id="settings-emails")


def _logo() -> rx.Component:
    return _section(
        "Logo", "Shown on the sign-in page. A PNG or JPEG of at most 256 KB.",
        rx.cond(C.has_logo, rx.image(src="/api/clinic/logo?v=" + C.logo_stamp, alt="The clinic's logo",
                                     max_height="80px", max_width="100%", id="settings-logo-preview"),
                rx.text("No logo yet.", size="2", color=MUTED)),
        rx.el.label("Image file", html_for=LOGO_INPUT, style={"font_weight": "500"}),
        rx.el.input(id=LOGO_INPUT, type="file", accept="image/png,image/jpeg",
                    style={"min_height": TAP, "max_width": "100%"}),
        rx.flex(secondary_button("Upload logo", on_click=C.upload_logo, type="button", id="settings-logo-upload"),
                rx.cond(C.has_logo, rx.button("Remove logo", on_click=C.remove_logo, variant="outline", color_scheme="red",
                                              size="3", min_height=TAP, type="button", id="settings-logo-remove")),
                spacing="3", wrap="wrap"),
        error_callout(C.logo_error, id="settings-logo-error"),
        section_id="settings-logo")


def _form() -> rx.Component:
    return rx.vstack(
        error_callout(C.error, id="settings-error"),
        rx.cond(C.errors.length() > 0, rx.callout("Some settings need attention: see the messages next to them.",
                                                  icon="triangle-alert", color_scheme="red", role="alert",
                                                  id="settings-invalid")),
        _clinic(), _hours(), _security(), _emails(),
        rx.hstack(primary_button("Save settings", on_click=C.save, type="button", id="settings-save"),
                  rx.text("Saved settings are in use at once.", size="2", color=MUTED), align="center",
                  spacing="3", wrap="wrap"),
        _logo(),
        spacing="4", width="100%", max_width="52rem")


@rx.page(route="/admin/settings", title=f"Settings — {PRODUCT_NAME}",
         on_load=[SessionState.require("admin"), C.load])
def admin_settings() -> rx.Component:
    return role_shell(
        "admin",
        page_header("Settings", "The clinic's name, time zone, opening hours, sessions and emails. Scheduling "
                                "rules and visit types are under Scheduling."),
        rx.match(C.settings_status, ("denied", not_permitted("/")), ("loading", checking()), _form()),
        title="Settings",
    )
