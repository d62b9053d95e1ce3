"""State of the vitals pages: /chart/<id>/vitals (the care team, admins) and /patient/readings (the
patient's own readings). Every handler calls the observations service through ``state.calls.attempt``
(the actor resolved on the server, the service decides and audits); vars hold display dicts made from
the service's DTOs, nothing else. The chart's page reads the chart header with its overview in one
unit, one audit event (``observations.open_page``), and hands it to ``ChartHeaderState``.

The set ids the Verify buttons send back are requests like any other: the service checks that the
reading belongs to this patient and that this person may verify it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import reflex as rx

from patient_portal.core.access import Action, Actor, Role
from patient_portal.core.clock import clinic_zone, plain_day, plain_time
from patient_portal.domain.observations import service as svc
from patient_portal.domain.patients.header import ChartHeader
from patient_portal.state.calls import Answer, attempt, show_read_failure
from patient_portal.state.chart_header import ChartRoute, show_header, show_read_failure_with_header
from patient_portal.state.focus import focus_first_error
from patient_portal.state.paging import PagedMixin

NEEDS_ATTENTION = "Some fields need attention — see the messages next to them."
FORM_ID = "vitals-form"

#: What clinicians read for each vital (short, the trade's words) and what a patient reads.
LABELS = {"systolic": "Systolic", "diastolic": "Diastolic", "heart_rate": "Heart rate", "temperature": "Temperature",
          "respiratory_rate": "Respiratory rate", "spo2": "SpO₂", "weight": "Weight", "height": "Height",
          "bmi": "BMI", "glucose": "Blood glucose", "blood_pressure": "Blood pressure"}
PLAIN = {**LABELS, "glucose": "Blood sugar (glucose)", "spo2": "Oxygen level", "bmi": "Body mass index (BMI)",
         "systolic": "Upper number (systolic)", "diastolic": "Lower number (diastolic)"}
#: The tiles of "Latest" and the columns of the readings table, in this order.
SHOWN = ("blood_pressure", "heart_rate", "temperature", "respiratory_rate", "spo2", "weight", "height", "bmi", "glucose")
#: Trend ranges people choose from: (value, words, days back; 0 = everything).
RANGES = (("3m", "Last 3 months", 92), ("12m", "Last 12 months", 366), ("all", "All readings", 0))
COLORS = {"a": "var(--accent-9)", "b": "var(--orange-9)"}


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _unit(label: str) -> str:
    return "" if not label else ("%" if label == "%" else f" {label}")


def _value_text(values: dict[str, Any], key: str) -> str:
    """ "132/84 mmHg", "72 beats/min", "36.8 °C" — "" when the set has no such value."""
    if key == "blood_pressure":
        s, d = values.get("systolic"), values.get("diastolic")
        return f"{number(s.value)}/{number(d.value)}{_unit(s.unit_label)}" if s and d else ""
    reading = values.get(key)
    return f"{number(reading.value)}{_unit(reading.unit_label)}" if reading else ""


def _latest_tiles(latest: dict[str, svc.Reading], plain: bool) -> list[dict[str, Any]]:
    tiles = []
    for key in SHOWN:
        text = _value_text(latest, key)
        if not text:
            continue
        reading = latest["systolic" if key == "blood_pressure" else key]
        tiles.append({"key": key, "label": (PLAIN if plain else LABELS)[key], "value": text,
                      "when": plain_time(reading.effective_at), "by_patient": reading.source == "patient",
                      "unverified": not reading.verified})
    return tiles


def _row(item: svc.VitalSet) -> dict[str, Any]:
    row: dict[str, Any] = {key: _value_text(item.values, key) or "—" for key in SHOWN}
    row.update(id=str(item.id), when=plain_time(item.effective_at), by_patient=item.source == "patient",
               unverified=not item.verified,
               who=item.recorded_by_name or ("the patient" if item.source == "patient" else ""),
               verified_by=item.verified_by_name if item.source == "patient" and item.verified else "")
    return row


def _chart(trend: svc.Trend, plain: bool) -> dict[str, Any]:
    """A chart's data for Recharts: one point per time, `a` the first series, `b` the second (BP)."""
    by_time: dict[datetime, dict[str, Any]] = {}
    for name, series in zip(("a", "b"), trend.series, strict=False):
        for p in series.points:
            local = p.at.astimezone(clinic_zone())
            point = by_time.setdefault(p.at, {"day": local.strftime("%-d %b %y"), "when": plain_time(p.at)})
            point[name] = float(p.value)
    first = trend.series[0]
    two = len(trend.series) > 1
    names = [(PLAIN if plain else LABELS)[s.key] for s in trend.series]
    goals: dict[str, float | None] = {}
    for name, series in zip(("a", "b"), [*trend.series, None][:2], strict=True):
        goal = series.goal if series is not None else None
        goals[f"goal_{name}_low"] = float(goal.low) if goal is not None and goal.low is not None else None
        goals[f"goal_{name}_high"] = float(goal.high) if goal is not None and goal.high is not None else None
    return {"key": trend.key, "title": (PLAIN if plain else LABELS)[trend.key], "unit": first.unit_label,
            "points": [by_time[t] for t in sorted(by_time)], "two": two, "name_a": names[0],
            "name_b": names[1] if two else "", "summary": _summary(trend, plain), "count": len(first.points),
            "truncated": trend.truncated, "goal": _goal_text(trend, plain), **goals}


def _goal_text(trend: svc.Trend, plain: bool) -> str:
    """The care plan's target for this chart in words ("Goal: below 130/80 mmHg by Tue 30 Jun 2026"), the
    dashed goal line's text for people who do not see it; "" when no active plan sets one."""
    goals = [s.goal for s in trend.series]
    if any(g is None for g in goals):
        return ""
    lows = "/".join(number(g.low) for g in goals if g.low is not None)
    highs = "/".join(number(g.high) for g in goals if g.high is not None)
    unit = _unit(trend.series[0].unit_label)
    if lows and highs:
        said = f"between {lows} and {highs}{unit}"
    else:
        said = f"below {highs}{unit}" if highs else f"above {lows}{unit}"
    due = goals[0].due
    lead = "Your goal" if plain else "Care plan goal"
    return f"{lead}: {said}" + (f" by {plain_day(due)}" if due else "") + " (dashed line)."


def _summary(trend: svc.Trend, plain: bool) -> str:
    """The trend in plain words: the first and the latest reading of the range, and which way it went."""
    first_series = trend.series[0]
    if not first_series.points:
        return ""
    label = (PLAIN if plain else LABELS)[trend.key]
    two = len(trend.series) > 1

    def text(i: int) -> str:
        if two:
            return f"{number(trend.series[0].points[i].value)}/{number(trend.series[1].points[i].value)}" \
                if len(trend.series[1].points) == len(first_series.points) else number(first_series.points[i].value)
        return number(first_series.points[i].value)

    unit = _unit(first_series.unit_label)
    last, start = first_series.points[-1], first_series.points[0]
    latest = f"{'Your latest' if plain else 'Latest'} {label.lower() if plain else label}: {text(-1)}{unit} " \
             f"({plain_day(last.at.astimezone(clinic_zone()).date())})."
    if len(first_series.points) < 2:
        return latest
    change = last.value - start.value
    if abs(change) <= abs(start.value) * Decimal("0.02"):
        way = "about the same as"
    else:
        way = "lower than" if change < 0 else "higher than"
    return f"{latest} That is {way} on {plain_day(start.at.astimezone(clinic_zone()).date())} ({text(0)}{unit})."


def _form_fields(fields: list[svc.FieldSpec], own: bool) -> list[dict[str, str]]:
    out = []
    for f in fields:
        if f.computed or (own and not f.reportable):
            continue
        words = (PLAIN if own else LABELS)[f.key]
        hint = f"{f.low:g}–{f.high:g}" if f.low is not None and f.high is not None else ""
        out.append({"key": f.key, "label": f"{words} ({f.unit_label})" if f.unit_label else words,
                    "hint": hint, "id": f"vital-{f.key.replace('_', '-')}",
                    "step": "1" if not f.decimals else str(10 ** -f.decimals)})
    return out


def _now_local() -> str:
    """Now in the clinic's time zone, as a datetime-local field takes it."""
    return datetime.now(UTC).astimezone(clinic_zone()).strftime("%Y-%m-%dT%H:%M")


def _range_from(choice: str) -> str | None:
    days = next((d for value, _w, d in RANGES if value == choice), 366)
    if not days:
        return None
    return (datetime.now(UTC).astimezone(clinic_zone()).date() - timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- service calls in one unit of work

@dataclass
class _Opened:
    header: ChartHeader | None = None
    overview: svc.Overview | None = None
    redirect: str = ""


def _open_chart_page(session: Any, actor: Actor, patient_ref: str, ask: dict[str, Any]) -> _Opened:
    if actor.role == Role.PATIENT and str(actor.patient_id) == patient_ref:
        return _Opened(redirect="/patient/readings")
    header, overview = svc.open_page(session, actor, patient_ref, **ask)
    return _Opened(header, overview)


def _own_overview(session: Any, actor: Actor, ask: dict[str, Any]) -> svc.Overview | None:
    """The signed-in patient's own readings (None: no record linked to the account)."""
    if actor.patient_id is None:
        return None
    return svc.overview(session, actor, patient_id=actor.patient_id, **ask)


def _save(session: Any, actor: Actor, patient_ref: str, own: bool, values: dict[str, str], when: str) -> svc.VitalSet:
    fn = svc.report_reading if own else svc.record_vitals
    return fn(session, actor, patient_id=actor.patient_id if own else patient_ref, values=values, effective_at=when)


class VitalsState(ChartRoute, PagedMixin, rx.State):
    status: str = "loading"  # loading | ok | denied | missing
    own: bool = False
    can_record: bool = False
    can_verify: bool = False

    fields: list[dict[str, str]] = []
    latest: list[dict[str, Any]] = []
    charts: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    total: int = 0
    pages: int = 1
    unverified: int = 0
    range_choice: str = "12m"

    form_open: bool = False
    form: dict[str, str] = {}
    when: str = ""
    form_errors: dict[str, str] = {}
    form_error: str = ""
    error: str = ""

    # ------------------------------------------------------------ loading
    def _clear(self) -> None:
        self.can_record = self.can_verify = False
        self.fields, self.latest, self.charts, self.rows = [], [], [], []
        self.total, self.page, self.pages, self.unverified = 0, 1, 1, 0
        self.error = ""
        self._close_form()

    def _close_form(self) -> None:
        self.form_open, self.form, self.when, self.form_errors, self.form_error = False, {}, "", {}, ""

    def _ask(self) -> dict[str, Any]:
        return {"page": self.page, "date_from": _range_from(self.range_choice)}

    def _show(self, overview: svc.Overview, actor: Actor) -> None:
        plain = self.own
        self.can_record = not self.own and actor.can(Action.OBSERVATION_WRITE)
        self.can_verify = not self.own and actor.can(Action.OBSERVATION_VERIFY)
        if self.own:
            self.can_record = actor.can(Action.OBSERVATION_REPORT_OWN)
        self.fields = _form_fields(overview.fields, self.own)
        self.latest = _latest_tiles(overview.latest, plain)
        self.charts = [_chart(t, plain) for t in overview.trends]
        self._show_page(overview.page)
        self.unverified = overview.unverified
        self.status = "ok"

    def _show_page(self, page: svc.ReadingPage) -> None:
        self.rows = [_row(item) for item in page.items]
        self.total, self.page, self.pages = page.total, page.page, page.pages

    def _failed(self, answer: Answer) -> Any:
        return show_read_failure(self, answer, loading=False)

    @rx.event
    async def load_chart(self):
        """on_load of /chart/<id>/vitals: header and overview read together (one audit event); the id in
        the address is a request, checked by the service."""
        self._clear()
        self.status, self.own, self.range_choice = "loading", False, "12m"
        self._read_route()
        answer = await attempt(self, _open_chart_page, self.patient_ref, self._ask())
        if answer.ok and answer.value.redirect:
            return rx.redirect(answer.value.redirect, replace=True)
        if not answer.ok:
            return await show_read_failure_with_header(self, answer)
        self._show(answer.value.overview, answer.actor)
        await show_header(self, answer.value.header, patient_ref=self.patient_ref)
        return None

    @rx.event
    async def load_own(self):
        """on_load of /patient/readings: the signed-in patient's own readings."""
        self._clear()
        self.status, self.own, self.range_choice, self.patient_ref = "loading", True, "12m", ""
        answer = await attempt(self, _own_overview, self._ask())
        if not answer.ok:
            return None if answer.signed_out else self._failed(answer)  # the page guard sends them to sign in
        if answer.value is None:
            self.status = "missing"
            return None
        self._show(answer.value, answer.actor)
        return None

    async def _reload(self) -> Any:
        """Read the overview again (after a save, a verify, a new range) — not the header."""
        if self.own:
            answer = await attempt(self, _own_overview, self._ask())
        else:
            answer = await attempt(self, svc.overview, patient_id=self.patient_ref, **self._ask())
        if not answer.ok:
            return self._failed(answer)
        if answer.value is None:
            self.status = "missing"
            return None
        self._show(answer.value, answer.actor)
        return None

    async def _load_page(self):
        self.error = ""
        patient = None if self.own else self.patient_ref
        answer = await attempt(self, _readings, patient, self.page)
        if not answer.ok:
            return self._failed(answer)
        self._show_page(answer.value)
        return None

    @rx.event
    async def set_range(self, value: str):
        """Which stretch of time the trend charts show."""
        if value not in {v for v, _w, _d in RANGES} or self.status != "ok":
            return None
        self.range_choice = value
        return await self._reload()

    # ------------------------------------------------------------ recording
    @rx.event
    def open_form(self):
        self.form, self.form_errors, self.form_error = {}, {}, ""
        self.when = _now_local()
        self.form_open = True

    @rx.event
    def cancel_form(self):
        self._close_form()

    @rx.event
    def set_value(self, key: str, value: str):
        if any(f["key"] == key for f in self.fields):
            self.form[key] = str(value)[:20]
            self.form_errors.pop(key, None)

    @rx.event
    def set_when(self, value: str):
        self.when = str(value)[:40]
        self.form_errors.pop("effective_at", None)

    @rx.event
    async def save(self):
        """Record the set (care team) or add the home reading (the patient); messages beside the fields."""
        if self.status != "ok" or not self.form_open:
            return None
        self.form_errors, self.form_error = {}, ""
        answer = await attempt(self, _save, self.patient_ref, self.own, dict(self.form), self.when)
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            errors = dict(answer.errors)
            general = errors.pop("values", "")
            self.form_errors = errors
            self.form_error = NEEDS_ATTENTION if errors else (general or answer.message)
            return focus_first_error(FORM_ID) if errors else None
        saved: svc.VitalSet = answer.value
        self._close_form()
        self.page = 1
        await self._reload()
        bmi = saved.values.get("bmi")
        done = "Reading added — your care team will see it" if self.own else "Vitals recorded"
        if bmi is not None:
            done += f" (BMI {number(bmi.value)})"
        return rx.toast.success(done)

    @rx.event
    async def verify(self, set_id: str):
        """Confirm a reading the patient reported (doctors on the care team, admins; the service decides)."""
        self.error = ""
        answer = await attempt(self, svc.verify_reading, patient_id=self.patient_ref, set_id=str(set_id)[:64])
        if not answer.ok:
            if answer.signed_out:
                return answer.show(self)
            self.error = answer.message
            await self._reload()
            return None
        await self._reload()
        return rx.toast.success("Reading verified")


def _readings(session: Any, actor: Actor, patient_ref: str | None, page: int) -> svc.ReadingPage:
    pid = actor.patient_id if patient_ref is None else patient_ref
    if pid is None:
        from patient_portal.domain.patients.common import PatientNotFound

        raise PatientNotFound()
    return svc.readings(session, actor, patient_id=pid, page=page)
