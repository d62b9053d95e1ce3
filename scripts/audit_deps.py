"""Fail when an installed package has a published vulnerability (PyPI's advisory data via pip-audit).

`make audit-deps` runs this (CI too). Exit 1 names each vulnerable package, its version, the
advisory and the fixed versions. When the advisory service cannot be reached at all, it says so
and exits 0: a network outage must not block a release, and the run's log shows the audit did not
happen. Packages the index has no data for are counted as skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    audit = Path(sys.executable).parent / "pip-audit"
    run = subprocess.run([str(audit), "--progress-spinner", "off", "--local", "--skip-editable", "-f", "json"],  # noqa: S603 - a fixed command
                         capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit-deps: the advisory service could not be reached; NOT audited ({last[:200]})")
        return 0
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = sum(1 for d in deps if d.get("skip_reason"))
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"audit-deps: {dep['name']} {dep['version']} has {vuln['id']} (fixed in: {fixed})")
    print(f"audit-deps: {len(deps) - skipped} packages audited, {skipped} without advisory data, "
          f"{len(vulnerable)} vulnerable")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
