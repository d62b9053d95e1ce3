"""Demo data for `make run`: idempotent, refused in production. Each area adds its part."""

from __future__ import annotations

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published demo credential, refused in production
DEMO_EMAILS = ("admin@demo.clinic", "doctor@demo.clinic", "staff@demo.clinic", "patient@demo.clinic")


def seed_demo() -> None:
    """Create the demo accounts and patients unless they exist."""


def banner() -> str:
    lines = ["", f"Patient Portal demo accounts (password: {DEMO_PASSWORD})"]
    lines += [f"  {email}" for email in DEMO_EMAILS]
    lines.append("Open http://localhost:3000 once the app says it is running.")
    return "\n".join(lines)
