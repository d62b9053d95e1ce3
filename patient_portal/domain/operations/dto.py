"""What the system health page shows (plain values only: no ids, no patient data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckResult:
    name: str = ""
    status: str = ""  # ok | warn | fail
    detail: str = ""
    fix: str = ""


@dataclass
class DayCount:
    day: str = ""
    count: int = 0


@dataclass
class ErrorReference:
    reference: str = ""
    at: str = ""


@dataclass
class SlowCall:
    kind: str = ""  # event | route
    name: str = ""  # a handler name or a route template
    mean_ms: str = ""
    count: int = 0


@dataclass
class HealthReport:
    checks: list[CheckResult] = field(default_factory=list)
    failing: int = 0
    jobs_queued: int = 0
    jobs_failed: int = 0
    last_backup: str = ""
    backup_overdue: bool = False
    backup_check: str = ""  # the newest restore drill (`portal backup verify`), in words
    backup_check_failed: bool = False
    key_age: str = ""
    errors: list[ErrorReference] = field(default_factory=list)
    sessions_active: int = 0
    sign_ins: list[DayCount] = field(default_factory=list)
    slowest: list[SlowCall] = field(default_factory=list)  # since the app started
