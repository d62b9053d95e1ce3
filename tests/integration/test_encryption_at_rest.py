"""A raw dump of the database holds none of the seeded patients' plaintext."""

from __future__ import annotations

from sqlalchemy import text

from patient_portal import seed
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.patients.models import Patient
from patient_portal.models import metadata

SEEDED_PHI = ["Maria", "Garcia", "Okafor", "Tanaka", "Penicillin", "Peanuts", "Lisinopril", "Hypertension",
              "maria.garcia@example.com", "6175550142", "617 555 0142", "1984-03-12", "XGB884213301",
              "Harbor Street", "Luis Garcia", "Blue Cross"]


def _raw_dump(dialect: str, instance) -> str:
    if dialect == "sqlite":
        get_engine().dispose()  # let SQLite checkpoint the WAL into the file
        return b"".join(p.read_bytes() for p in instance.glob("portal.db*")).decode("latin-1")
    chunks = []
    with get_engine().connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table.name}" t')).scalars().all()
            chunks.extend(rows)
    return "\n".join(chunks)


def test_seeded_patient_data_is_not_in_the_raw_database(db, portal_env):
    seed.seed_demo(patients=3)
    with unit_of_work() as session:  # the data is really there, readable through the app
        names = {p.family_name for p in session.query(Patient).all()}
    assert {"Garcia", "Okafor"} <= names
    dump = _raw_dump(db, portal_env)
    assert dump, "nothing dumped"
    found = [word for word in SEEDED_PHI if word.lower() in dump.lower()]
    assert found == [], f"plaintext PHI in the raw database: {found}"


def test_seeding_twice_changes_nothing(db):
    seed.seed_demo(patients=3)
    with unit_of_work() as session:
        before = session.query(Patient).count()
    seed.seed_demo(patients=3)
    with unit_of_work() as session:
        assert session.query(Patient).count() == before
