"""`portal rotate-keys` moves every ciphertext to the new key; the old key can then be retired."""

from __future__ import annotations

from sqlalchemy import text

from patient_portal import cli, seed
from patient_portal.core import crypto
from patient_portal.core.db import get_engine, unit_of_work
from patient_portal.domain.patients import indexes
from patient_portal.domain.patients.models import Patient
from patient_portal.settings import reset_settings


def _key_ids_in(table: str, column: str) -> set[str]:
    with get_engine().connect() as conn:
        tokens = conn.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars().all()
    return {crypto.key_id_of(t) for t in tokens}


def test_rotation_reencrypts_everything_and_old_key_can_go(db, monkeypatch, capsys):
    old = crypto.generate_key_spec("k1")
    index_key = crypto.generate_key_spec("idx")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{old},{index_key}")
    reset_settings()
    seed.seed_demo(patients=3)
    assert _key_ids_in("patient", "family_name") == {"k1"}

    new = crypto.generate_key_spec("k2")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{new},{old},{index_key}")
    reset_settings()
    assert cli.main(["rotate-keys", "--batch", "2"]) == 0
    assert "patient:" in capsys.readouterr().out
    assert _key_ids_in("patient", "family_name") == {"k2"}
    assert _key_ids_in("patient", "date_of_birth") == {"k2"}

    # The old key is retired; everything still reads and search still finds the patient.
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{new},{index_key}")
    reset_settings()
    with unit_of_work() as session:
        names = sorted(p.family_name for p in session.query(Patient).all())
        found = session.query(Patient).filter(Patient.bidx_family == indexes.family_digest("garcia")).all()
    assert "Garcia" in names
    assert [p.given_name for p in found] == ["Maria"]
    # a second run has nothing left to do
    assert cli.main(["rotate-keys"]) == 0
    assert "re-encrypted" not in capsys.readouterr().out
