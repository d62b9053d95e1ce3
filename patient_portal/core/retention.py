"""Retention: what the portal deletes once it is no longer needed, and for how long it keeps it first.

Each area registers its own rules here (``@rule(...)`` in the area's ``retention.py``), since only
the area knows its tables; ``domain.operations.cleanup`` runs them all — as a dry run that only
counts, from the admin's Retention page or ``portal cleanup``, and hourly in the job worker. A rule
deletes only what is past its time and needed by nobody (used or expired links, drafts left behind,
finished jobs, ended sessions, expired export files); PHI a clinic must keep is never a rule here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session


@dataclass(frozen=True)
class Rule:
    """One kind of leftover: `count(session, now)` says how many are due, `remove(session, now)`
    deletes them and says how many went. `kept` is the policy in words ("7 days after use")."""

    key: str
    label: str
    kept: str
    count: Callable[[Session, datetime], int]
    remove: Callable[[Session, datetime], int]


CLEANUP_ACTION = "system.cleanup"
_RULES: dict[str, Rule] = {}
#: the modules that register rules (imported on first use, as core.jobs imports its handlers)
RULE_MODULES = ("patient_portal.core.jobs", "patient_portal.domain.identity.retention",
                "patient_portal.domain.patients.retention", "patient_portal.domain.appointments.retention",
                "patient_portal.domain.fhir.retention")


def rule(key: str, label: str, kept: str, count: Callable[[Session, datetime], int]
         ) -> Callable[[Callable[[Session, datetime], int]], Callable[[Session, datetime], int]]:
    """Register the decorated ``remove(session, now)`` with its `count` under `key`."""

    def register(remove: Callable[[Session, datetime], int]) -> Callable[[Session, datetime], int]:
        _RULES[key] = Rule(key, label, kept, count, remove)
        return remove

    return register


def rules() -> list[Rule]:
    """Every registered rule, in the order of RULE_MODULES."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return list(_RULES.values())


def apply(session: Session, now: datetime, *, dry_run: bool) -> list[tuple[Rule, int]]:
    """Each rule with how many of its rows are due (dry run) or were removed."""
    return [(r, (r.count if dry_run else r.remove)(session, now)) for r in rules()]


def run_unattended(now: datetime | None = None) -> list[tuple[Rule, int]]:
    """The job worker's hourly run (and ``portal cleanup``'s), in its own unit: removes what is due;
    audited (counts by rule) when anything went. Each rule with how many of its rows went."""
    from patient_portal.core import audit
    from patient_portal.core.db import unit_of_work, utcnow

    with unit_of_work() as session:
        done = apply(session, now or utcnow(), dry_run=False)
        total = sum(n for _r, n in done)
        if total:
            audit.record(session, None, CLEANUP_ACTION, object_type="retention",
                         detail={"dry_run": False, **{r.key: n for r, n in done}})
        return done
