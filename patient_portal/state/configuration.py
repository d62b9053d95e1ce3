"""State of /admin/settings: the clinic's settings form (``domain.configuration``, admins only).

The form holds strings as typed; the service checks them and answers field by field. The version
the form was opened at goes back with the save, so a save over someone else's is refused. The logo
is sent by the browser straight to ``POST /api/clinic/logo`` (``state.uploads``), which hands the bytes
to the same service.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_time
from patient_portal.core.db import utcnow
from patient_portal.domain.configuration import service as svc
from patient_portal.state.calls import attempt
from patient_portal.state.uploads import send_file_script

LOGO_INPUT = "logo-file"
TEXT_FIELDS = ("clinic_name", "clinic_address", "clinic_phone", "timezone", "session_idle_minutes",
               "session_absolute_hours", "email_signature")


def _form(view: svc.SettingsView) -> dict[str, str]:
    v = view.values
    form = {name: str(v[name]) for name in TEXT_FIELDS}
    form["require_mfa"] = "true" if v["require_mfa"] else ""
    for day in range(7):
        opens, closes = (v["business_hours"].get(str(day)) or ["", ""])[:2]
        form[f"open_{day}"], form[f"close_{day}"] = opens, closes
    return form


class ClinicSettingsState(rx.State):
    settings_status: str = "loading"  # loading | ok | denied
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    version: str = "0"
    has_logo: bool = False
    mfa_forced: bool = False
    logo_error: str = ""
    clinic_now: str = ""  # the time at the clinic now, in the zone in force ("Tue 3 Mar, 14:30")
    logo_stamp: str = "0"  # changes the logo's address after an upload, so the browser shows the new one
    error: str = ""

    def _show(self, view: svc.SettingsView) -> None:
        self.form, self.version = _form(view), str(view.version)
        self.has_logo, self.mfa_forced = view.has_logo, view.mfa_forced
        self.clinic_now = plain_time(utcnow())
        self.settings_status = "ok"

    @rx.event
    async def load(self):
        """on_load of /admin/settings."""
        self.settings_status, self.error, self.errors, self.logo_error = "loading", "", {}, ""
        answer = await attempt(self, svc.get)
        if not answer.ok:
            return answer.show_page(self, status_var="settings_status")
        self._show(answer.value)
        return None

    @rx.event
    def set_field(self, name: str, value: Any):
        known = TEXT_FIELDS + ("require_mfa",) + tuple(f"{k}_{d}" for k in ("open", "close") for d in range(7))
        if name not in known:
            return
        self.form[name] = ("true" if value else "") if name == "require_mfa" else str(value)[:500]
        self.errors.pop(name, None)
        if name[:5] in ("open_", "close"):
            self.errors.pop(f"hours_{name[-1]}", None)

    @rx.event
    async def save(self):
        f = self.form
        values: dict[str, Any] = {name: f.get(name, "") for name in TEXT_FIELDS}
        values["require_mfa"] = f.get("require_mfa") == "true"
        values["business_hours"] = {str(d): [f.get(f"open_{d}", ""), f.get(f"close_{d}", "")] for d in range(7)}
        answer = await attempt(self, svc.save, values=values, expected_version=self.version)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.errors = dict(answer.errors)
            self.error = "" if answer.errors else answer.message
            return None
        self.errors, self.error = {}, ""
        self._show(answer.value)
        return rx.toast.success("Settings saved. They are in use now.")

    @rx.event
    def upload_logo(self):
        """Ask the browser to send the chosen image to the logo route; its answer comes to ``logo_sent``."""
        self.logo_error = ""
        return rx.call_script(send_file_script(LOGO_INPUT, "/api/clinic/logo", content_type=None,
                                               choose="Choose a PNG or JPEG image first.",
                                               failed="The logo could not be saved."),
                              callback=ClinicSettingsState.logo_sent)

    @rx.event
    def logo_sent(self, answer: dict[str, Any]):
        """The logo route's answer (words to show only: the route did the work)."""
        answer = answer if isinstance(answer, dict) else {}
        if answer.get("error") or not answer.get("saved"):
            self.logo_error = str(answer.get("error") or "The logo could not be saved.")[:300]
            return None
        self.has_logo, self.logo_stamp = True, str(int(self.logo_stamp) + 1)
        return rx.toast.success("Logo saved")

    @rx.event
    async def remove_logo(self):
        answer = await attempt(self, svc.save_logo, data=None)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.logo_error = answer.message
            return None
        self.has_logo, self.logo_stamp = False, str(int(self.logo_stamp) + 1)
        return rx.toast.success("Logo removed")

