"""SQL pieces every report shares: the filters' UTC bounds, and clinic-local periods, hours and
weekdays of a timestamp column on both databases.

PostgreSQL converts with the clinic's time zone itself (``timezone(zone, column)``), so periods and
hours follow daylight saving exactly. SQLite has no time zones: it shifts by the zone's UTC offset
at the end of the range — an hour off for the part of a range on the other side of a DST change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, or_
from sqlmodel import Session, select

from patient_portal.core.access import CareTeamMember
from patient_portal.core.clock import clinic_zone
from patient_portal.domain.reports.dto import ReportFilters

MONTH, DAY = "month", "day"


def bounds(f: ReportFilters) -> tuple[datetime, datetime]:
    """[start, end) in UTC: from the first day's local midnight to the midnight after the last."""
    zone = clinic_zone()
    start = datetime.combine(f.start, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(f.end + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def in_range(column: Any, f: ReportFilters) -> list[Any]:
    start, end = bounds(f)
    return [column >= start, column < end]


def grain(f: ReportFilters) -> str:
    """Days for a range of two months or less, else months."""
    return DAY if (f.end - f.start).days <= 62 else MONTH


def periods(f: ReportFilters) -> list[str]:
    """Every period label of the range, in order (so a period with nothing still shows)."""
    if grain(f) == DAY:
        return [(f.start + timedelta(days=i)).isoformat() for i in range((f.end - f.start).days + 1)]
    out, y, m = [], f.start.year, f.start.month
    while (y, m) <= (f.end.year, f.end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_shift(f: ReportFilters) -> str:
    offset = datetime.combine(f.end, time(12), tzinfo=clinic_zone()).utcoffset() or timedelta(0)
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def period(session: Session, column: Any, f: ReportFilters) -> Any:
    """The clinic-local period of `column`: 'YYYY-MM-DD' or 'YYYY-MM' (``grain``)."""
    if _postgres(session):
        return func.to_char(func.timezone(clinic_zone().key, column), "YYYY-MM-DD" if grain(f) == DAY else "YYYY-MM")
    return func.strftime("%Y-%m-%d" if grain(f) == DAY else "%Y-%m", column, _sqlite_shift(f))


def off_hours(session: Session, column: Any, f: ReportFilters, opens: int, closes: int) -> Any:
    """True when `column` falls outside opens:00–closes:00 on a weekday, clinic time."""
    if _postgres(session):
        local = func.timezone(clinic_zone().key, column)
        hour, weekday = func.date_part("hour", local), func.date_part("isodow", local)
        return or_(weekday >= 6, hour < opens, hour >= closes)
    shift = _sqlite_shift(f)
    hour = cast(func.strftime("%H", column, shift), Integer)
    weekday = func.strftime("%w", column, shift)
    return or_(weekday.in_(("0", "6")), hour < opens, hour >= closes)


def on_team(column: Any, f: ReportFilters) -> list[Any]:
    """With a doctor chosen: `column` (a patient id) is on that doctor's care team."""
    if f.doctor_id is None:
        return []
    return [column.in_(select(CareTeamMember.patient_id).where(CareTeamMember.user_id == f.doctor_id))]


def by_doctor(column: Any, f: ReportFilters) -> list[Any]:
    """With a doctor chosen: `column` (a user id) is that doctor."""
    return [column == f.doctor_id] if f.doctor_id is not None else []
