"""A raw dump of the database holds none of the seeded patients' plaintext.

The code tables (domain/codes) are reference data, not PHI: a drug or a diagnosis *name* is there in
plain text for everyone ("Penicillin" in the formulary). So a seeded word that the reference tables
also hold is checked table by table in every other table; every other word is checked in the raw
file bytes (SQLite: the database file and its WAL, free pages included)."""

from __future__ import annotations

from sqlalchemy import text

from patient_portal import seed
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.patients.models import Patient
from patient_portal.models import metadata

SEEDED_PHI = ["Maria", "Garcia", "Okafor", "Tanaka", "Penicillin", "Peanuts", "Lisinopril", "Hypertension",
              "maria.garcia@example.com", "6175550142", "617 555 0142", "1984-03-12", "XGB884213301",
              "Harbor Street", "Luis Garcia", "Blue Cross",
              # the demo care plans: a task, an instruction, a progress update, a goal in words
              "Bring your home blood pressure monitor", "Walk 30 minutes on most days", "Down about 3 kg",
              "teaspoon",
              # the demo messages: a subject, a patient's question, the front desk's answer
              "Parking at the clinic", "a lab test I thought my insurance covered", "garage next door validates"]


REFERENCE_TABLES = frozenset({"code_set", "code_concept", "code_token"})


def _table_dump(*, reference: bool) -> str:
    """Every row of the reference tables (`reference`) or of all the others, as text."""
    chunks = []
    with get_engine().connect() as conn:
        for table in metadata.sorted_tables:
            if (table.name in REFERENCE_TABLES) != reference:
                continue
            if conn.dialect.name == "postgresql":
                chunks.extend(conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table.name}" t')).scalars())
            else:
                chunks.extend(repr(tuple(row)) for row in conn.execute(table.select()))
    return "\n".join(chunks)


def _raw_dump(dialect: str, instance) -> str:
    if dialect == "sqlite":
        get_engine().dispose()  # let SQLite checkpoint the WAL into the file
        return b"".join(p.read_bytes() for p in instance.glob("portal.db*")).decode("latin-1")
    return _table_dump(reference=False)


def test_seeded_patient_data_is_not_in_the_raw_database(db, portal_env):
    seed.seed_demo(patients=3)
    with unit_of_work() as session:  # the data is really there, readable through the app
        names = {p.family_name for p in session.query(Patient).all()}
    assert {"Garcia", "Okafor"} <= names
    reference = _table_dump(reference=True).lower()
    tables = _table_dump(reference=False).lower()
    dump = _raw_dump(db, portal_env).lower()
    assert dump and tables, "nothing dumped"
    in_tables = [word for word in SEEDED_PHI if word.lower() in tables]
    in_file = [word for word in SEEDED_PHI if word.lower() not in reference and word.lower() in dump]
    assert in_tables == [] and in_file == [], f"plaintext PHI in the raw database: {in_tables + in_file}"


def test_seeding_twice_changes_nothing(db):
    seed.seed_demo(patients=3)
    with unit_of_work() as session:
        before = session.query(Patient).count()
    seed.seed_demo(patients=3)
    with unit_of_work() as session:
        assert session.query(Patient).count() == before
