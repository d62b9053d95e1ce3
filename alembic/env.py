"""Alembic environment: the portal's engine and the SQLModel metadata of every table."""

from alembic import context
from patient_portal.core.db import get_engine
from patient_portal.models import metadata

config = context.config


def run_migrations() -> None:
    connectable = config.attributes.get("connection") or get_engine()
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
            connection.commit()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `portal db upgrade`")
run_migrations()
