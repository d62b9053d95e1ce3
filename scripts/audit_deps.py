"""Fail when an installed package has a published vulnerability (PyPI's advisory data via pip-audit).

`make audit-deps` runs this (CI too). Exit 1 names each vulnerable package, its version, the
advisory and the fixed versions. When the advisory service cannot be reached at all, it says so
and exits 0: a network outage must not block a release, and the run's log shows the audit did not
happen. Packages the index has no data for are counted as skipped.
"""

from __future__ import annotations

import sys

from patient_portal.domain.operations.dependencies import run_pip_audit


def main() -> int:
    result = run_pip_audit()
    if not result.ran:
        print(f"audit-deps: NOT audited: {result.problem}")
        return 0
    for line in result.vulnerable:
        print(f"audit-deps: {line}")
    print(f"audit-deps: {result.audited} packages audited, {result.skipped} without advisory data, "
          f"{len(result.vulnerable)} vulnerable")
    return 1 if result.vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
