"""The chart header's state, read by every `/chart/<id>/…` page and the patient's own record.

``ChartRoute`` is the one place the `<id>` of a `/chart/<id>/…` address is read (any page below
`/chart/<id>`, whatever its route calls the segment). The id is a request: every service it is
passed to checks it. ``ChartHeaderState`` holds the header (``domain.patients.header.chart_header``)
written for people, and nothing the role may not see: a part the service left out stays empty and
its ``show_*`` flag false. ``components.chart_header`` draws only this state.

A page that reads nothing but the header puts ``ChartHeaderState.load`` (or ``load_own``) in its
on_load. A page with a read of its own — the chart, the documents list — reads the header with it in
one unit (``domain.patients.header.with_header``: one audit event, so one entry in the patient's
access log per page opened) and hands it over with ``show_header``; ``refresh`` reads the header
alone again after a change elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import reflex as rx

from patient_portal.core.clock import plain_time
from patient_portal.domain.emergency.dto import CODE_STATUSES
from patient_portal.domain.patients.common import PatientNotFound
from patient_portal.domain.patients.header import ChartHeader, CriticalAllergy, chart_header
from patient_portal.state import formatting as fmt
from patient_portal.state.calls import attempt

ID_LIMIT = 64


def chart_id_in(path: str) -> str:
    """The `<id>` of a `/chart/<id>/…` path — the segment after the first "chart" — cut to a sane
    length; "" for a path with no such segment."""
    parts = [p for p in (path or "").split("?", 1)[0].split("/") if p]
    at = parts.index("chart") if "chart" in parts else -1
    return parts[at + 1][:ID_LIMIT] if 0 <= at < len(parts) - 1 else ""


class ChartRoute(rx.State, mixin=True):
    """Adds `patient_ref`, the patient id the page's address names (see ``_read_route``)."""

    patient_ref: str = ""

    def _read_route(self) -> str:
        """Read the `<id>` from this page's address into `patient_ref` (once per page load)."""
        self.patient_ref = chart_id_in(self.router.url.path if self.router.url else "")
        return self.patient_ref


def critical_line(item: CriticalAllergy) -> str:
    """One banner line: "Penicillins — severe, high criticality: anaphylaxis"."""
    said = [fmt.word(fmt.SEVERITY, item.severity).lower() if item.severity not in ("", "unknown") else ""]
    said.append("high criticality" if item.criticality == "high" else "")
    what = ", ".join(p for p in said if p)
    text = f"{item.substance} — {what}" if what else item.substance
    return f"{text}: {item.reaction}" if item.reaction else text


def emergency_words(until: datetime | None) -> tuple[str, str]:
    """("Tue 3 Mar, 15:02", "about 23 minutes left") for a grant ending then; ("", "") for none."""
    if until is None:
        return "", ""
    minutes = max(0, int((until - datetime.now(UTC)).total_seconds() // 60))
    left = "less than a minute left" if minutes < 1 else f"about {minutes} minute{'s' if minutes != 1 else ''} left"
    return plain_time(until), left


def _own_header(session: Any, actor: Any) -> ChartHeader:
    """The signed-in patient's own header (no record linked: not found)."""
    if actor.patient_id is None:
        raise PatientNotFound()
    return chart_header(session, actor, actor.patient_id)


class ChartHeaderState(ChartRoute, rx.State):
    """Name, age, MRN, photo placeholder, allergies, alerts, insurance — as this role may see them."""

    header_status: str = "loading"  # loading | ok | denied | missing
    patient: dict[str, str] = {}
    allergies: list[str] = []
    allergy_status: str = ""  # recorded | nka | not_recorded ("" when the role does not see allergies)
    show_allergies: bool = False
    alerts: list[str] = []
    #: the critical-information banner: severe / high-criticality allergies, written for people
    critical: list[str] = []
    #: the emergency information in the banner (issue 15): code status, advance directives, special
    #: instructions, written for people; and the protocol in progress ("Anaphylaxis, started 14:02")
    code_status: str = ""
    directives: list[str] = []
    instructions: list[str] = []
    in_progress: str = ""
    #: anything in the banner (critical allergies, alerts, emergency information) for a role that sees it
    show_banner: bool = False
    insurance: str = ""
    insured: bool = False
    show_insurance: bool = False
    #: under emergency access: when it ends ("Tue 3 Mar, 15:02") and the minutes left then ("" otherwise)
    emergency_until: str = ""
    emergency_left: str = ""
    _own: bool = False

    def _clear_header(self, status: str) -> None:
        self.header_status = status
        self.patient, self.allergies, self.alerts, self.allergy_status = {}, [], [], ""
        self.critical = []
        self.code_status, self.directives, self.instructions, self.in_progress = "", [], [], ""
        self.show_allergies = self.show_insurance = self.insured = self.show_banner = False
        self.insurance = ""
        self.emergency_until = self.emergency_left = ""

    def _show_header(self, header: ChartHeader) -> None:
        self.patient = fmt.patient(header.patient)  # the birth date comes written as the clinic writes it
        self.show_allergies = header.allergies is not None
        self.allergies = list(header.allergies or [])
        self.allergy_status = header.allergy_status or ""
        self.alerts = [fmt.word(fmt.ALERTS, code) for code in header.alerts or []]
        self.critical = [critical_line(item) for item in header.critical or []]
        found = header.emergency
        self.code_status = CODE_STATUSES.get(found.code_status, "") if found else ""
        self.directives = list(found.directives) if found else []
        self.instructions = list(found.instructions) if found else []
        self.in_progress = f"{found.run_title}, started {plain_time(found.run_started)}" \
            if found and found.run_id else ""
        self.show_banner = bool(self.critical or self.alerts or self.code_status or self.directives or
                                self.instructions)
        self.show_insurance = header.insurance is not None
        self.insured = bool(header.insured)
        words = fmt.word(fmt.INSURANCE, header.insurance) if header.insurance else ""
        self.insurance = f"{words}: {header.payer}" if header.insured and header.payer else words
        self.emergency_until, self.emergency_left = emergency_words(header.emergency_until)
        self.header_status = "ok"

    async def _read(self):
        answer = await attempt(self, _own_header) if self._own else \
            await attempt(self, chart_header, self.patient_ref)
        if answer.ok:
            self._show_header(answer.value)
            return None
        if answer.signed_out:
            self._clear_header("loading")  # the page guard sends the browser to sign in
        else:
            self._clear_header("denied" if answer.denied else "missing")
        return None

    @rx.event
    async def load(self):
        """on_load of a /chart/<id>/… page: the header of the patient the address names."""
        self._clear_header("loading")
        self._own = False
        self._read_route()
        return await self._read()

    @rx.event
    async def load_own(self):
        """on_load of the patient's own pages (/patient/record): their own header."""
        self._clear_header("loading")
        self._own, self.patient_ref = True, ""
        return await self._read()

    def _took(self, header: ChartHeader | None, *, patient_ref: str, own: bool, status: str = "ok") -> None:
        """Show a header another state read together with its page (``show_header``)."""
        self._own, self.patient_ref = own, patient_ref
        if header is None:
            self._clear_header(status)
        else:
            self._show_header(header)

    @rx.event
    async def refresh(self):
        """Read the same header again (after a change on the page); nothing loaded, nothing read."""
        if self.header_status != "ok":
            return None
        return await self._read()


async def show_header(state: rx.State, header: ChartHeader | None, *, patient_ref: str = "", own: bool = False,
                      status: str = "ok") -> None:
    """For a page whose own read took the header in the same unit, with one audit event
    (``domain.patients.header.with_header``): put that header in ChartHeaderState, where
    ``components.chart_header`` draws it. `header` None clears it (`status`: loading, denied, missing)."""
    header_state = await state.get_state(ChartHeaderState)
    header_state._took(header, patient_ref=patient_ref, own=own, status=status)


async def reread_header(state: rx.State) -> None:
    """For a page whose change shows in the header (an emergency started, a code status saved): read
    the header shown again (nothing when none is shown)."""
    header_state = await state.get_state(ChartHeaderState)
    if header_state.header_status == "ok":
        await header_state._read()


async def show_read_failure_with_header(state: Any, answer: Any) -> Any:
    """A `/chart/<id>/…` page whose read (header with it) did not work: the page's own ``_failed`` and
    the header cleared with the status it left (loading, denied, missing)."""
    result = state._failed(answer)
    await show_header(state, None, patient_ref=state.patient_ref, status=state.status)
    return result
