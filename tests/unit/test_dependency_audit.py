"""How the doctor words pip-audit's findings (its JSON report, as pip-audit writes it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patient_portal.domain.operations.checks import FAIL, OK, WARN
from patient_portal.domain.operations.dependencies import Audit, as_check, from_report

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
AT = NOW.isoformat(timespec="seconds")
REPORT = {"dependencies": [
    {"name": "jinja2", "version": "3.1.2", "vulns": [
        {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"], "description": "…"}]},
    {"name": "requests", "version": "2.32.3", "vulns": []},
    {"name": "private-wheel", "version": "1.0", "skip_reason": "Dependency not found on PyPI"},
], "fixes": []}


def test_a_vulnerable_package_fails_with_its_advisory_and_fixed_version():
    check = as_check(from_report(REPORT, AT), NOW)
    assert check.status == FAIL
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in: 3.1.3)" in check.detail
    assert "upgrade" in check.fix


def test_a_clean_audit_is_ok_and_says_what_it_covered():
    clean = {"dependencies": [d for d in REPORT["dependencies"] if d["name"] != "jinja2"]}
    check = as_check(from_report(clean, AT), NOW)
    assert check.status == OK
    assert check.detail.startswith("1 packages audited on 2026-12-08 (1 without advisory data): none vulnerable")


def test_an_old_or_missing_or_empty_audit_is_a_warning_that_says_how_to_run_it():
    clean = from_report({"dependencies": [REPORT["dependencies"][1]]}, AT)
    assert as_check(clean, NOW + timedelta(days=8)).status == WARN
    assert as_check(None, NOW).status == WARN and "--dependencies" in as_check(None, NOW).fix
    unreachable = Audit(at=AT, ran=False, problem="the advisory service could not be reached (timeout)")
    assert as_check(unreachable, NOW).status == WARN and "could not be reached" in as_check(unreachable, NOW).detail
    mirror = from_report({"dependencies": [REPORT["dependencies"][2]]}, AT)  # the mirror knows no advisories
    assert as_check(mirror, NOW).status == WARN and "nothing was audited" in as_check(mirror, NOW).detail
