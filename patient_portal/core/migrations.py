"""Run Alembic programmatically: upgrade to head, and compare models with the migrated schema."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    return cfg


def upgrade(revision: str = "head") -> None:
    """Apply migrations to the configured database."""
    command.upgrade(alembic_config(), revision)


def schema_differences() -> list:
    """What autogenerate would change: empty when models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from patient_portal.core.db import get_engine
    from patient_portal.models import metadata

    with get_engine().connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)
