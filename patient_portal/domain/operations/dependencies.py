"""Installed packages with published vulnerabilities (PyPI's advisory data, through pip-audit).

``audit()`` runs pip-audit on this environment and keeps its findings in the instance folder
(``dependency-audit.json``), because asking the advisory service takes seconds to minutes and needs
the network: ``portal doctor --dependencies`` (and ``make audit-deps`` in CI) run it; ``portal
doctor`` and the system health page read the newest saved result (``check()``). A result names
packages and versions only — nothing of any patient.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from patient_portal.domain.operations.checks import FAIL, OK, WARN, Check
from patient_portal.settings import get_settings

FILE = "dependency-audit.json"
#: A saved result older than this is reported as stale (advisories are published every day).
STALE_DAYS = 7
FIX = "run `portal doctor --dependencies` (needs the network to PyPI)"


@dataclass
class Audit:
    at: str  # ISO time of the run
    ran: bool  # False: pip-audit missing or the advisory service unreachable (see `problem`)
    audited: int = 0
    skipped: int = 0  # packages the advisory data says nothing about
    vulnerable: list[str] = field(default_factory=list)  # "name version: ID (fixed in: …)"
    problem: str = ""


def from_report(report: dict, at: str) -> Audit:
    """pip-audit's JSON report (``-f json``) in our terms."""
    deps = report.get("dependencies", [])
    skipped = sum(1 for d in deps if d.get("skip_reason"))
    found = [f"{d['name']} {d['version']}: {v['id']} (fixed in: {', '.join(v.get('fix_versions') or []) or 'none yet'})"
             for d in deps for v in d.get("vulns") or []]
    return Audit(at=at, ran=True, audited=len(deps) - skipped, skipped=skipped, vulnerable=found)


def run_pip_audit(timeout: float = 600) -> Audit:
    """Ask the advisory service about every installed package (editable installs skipped)."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    tool = Path(sys.executable).parent / "pip-audit"
    if not tool.exists():
        return Audit(at=at, ran=False, problem="pip-audit is not installed in this environment")
    try:
        run = subprocess.run([str(tool), "--progress-spinner", "off", "--local", "--skip-editable", "-f", "json"],  # noqa: S603 - a fixed command
                             capture_output=True, text=True, timeout=timeout)
        return from_report(json.loads(run.stdout), at)
    except subprocess.TimeoutExpired:
        return Audit(at=at, ran=False, problem=f"the advisory service did not answer in {timeout:.0f} s")
    except ValueError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return Audit(at=at, ran=False, problem=f"the advisory service could not be reached ({last[:160]})")


def _path() -> Path:
    return get_settings().instance_dir / FILE


def audit() -> Audit:
    """Run the audit now and keep its result for the doctor and the health page."""
    return save(run_pip_audit())


def save(result: Audit) -> Audit:
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result)))
    return result


def saved() -> Audit | None:
    try:
        return Audit(**json.loads(_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def as_check(result: Audit | None, now: datetime | None = None) -> Check:
    """The doctor's line for an audit result (None: never audited)."""
    name = "dependencies"
    if result is None:
        return Check(name, WARN, "installed packages not audited for published vulnerabilities yet", FIX)
    when = result.at[:10]
    if not result.ran:
        return Check(name, WARN, f"not audited on {when}: {result.problem}", FIX)
    if result.vulnerable:
        return Check(name, FAIL, f"{len(result.vulnerable)} published vulnerabilities on {when}: "
                     + "; ".join(result.vulnerable[:3]),
                     "upgrade each named package to a fixed version (README: Upgrading), then run the doctor again")
    if result.audited == 0:
        return Check(name, WARN, f"the advisory data of {when} covered none of the {result.skipped} installed "
                     "packages: nothing was audited", "run it where PyPI itself is reachable (not a mirror): " + FIX)
    age = ((now or datetime.now(UTC)) - datetime.fromisoformat(result.at)).days
    detail = f"{result.audited} packages audited on {when} ({result.skipped} without advisory data): none vulnerable"
    if age > STALE_DAYS:
        return Check(name, WARN, detail + f" — {age} days ago", FIX)
    return Check(name, OK, detail)


def check() -> Check:
    """The newest saved audit as a doctor line (never runs the audit: see the module doc)."""
    return as_check(saved())
