"""`portal audit verify` on the demo data, and after tampering directly in the database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from patient_portal import cli
from patient_portal.core.db import get_engine
from patient_portal.domain.identity import signin

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def seeded(capsys) -> int:
    """Demo data plus some sign-ins; returns how many events the chain holds."""
    assert cli.main(["seed"]) == 0
    assert signin.sign_in("doctor@demo.clinic", "demo-clinic-2026", ip="10.1.1.1").ok
    assert not signin.sign_in("doctor@demo.clinic", "wrong password x", ip="10.1.1.1").ok
    capsys.readouterr()
    with get_engine().connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one()
    assert count >= 6
    return count


def _verify(capsys) -> tuple[int, str]:
    code = cli.main(["audit", "verify"])
    out = capsys.readouterr()
    return code, out.out + out.err


def _sql(statement: str, **params) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(statement), params)


def test_verify_passes_on_the_demo_data(seeded, capsys):
    code, output = _verify(capsys)
    assert code == 0
    assert f"{seeded} events verified" in output


def test_verify_names_an_updated_event(seeded, capsys):
    _sql("UPDATE audit_event SET outcome = 'success' WHERE seq = 3 AND outcome <> 'success'")
    _sql("UPDATE audit_event SET action = 'nothing.happened' WHERE seq = 3")
    code, output = _verify(capsys)
    assert code == 2
    assert "event 3 was altered" in output


def test_verify_names_a_deleted_event(seeded, capsys):
    _sql("DELETE FROM audit_event WHERE seq = 4")
    code, output = _verify(capsys)
    assert code == 2
    assert "event 4 is missing" in output


def test_verify_names_an_inserted_event(seeded, capsys):
    _sql(
        "INSERT INTO audit_event (id, seq, at, action, outcome, detail, prev_hash, hash) "
        "VALUES (:id, :seq, CURRENT_TIMESTAMP, 'auth.sign_in', 'success', '{}', :h, :h)",
        id=uuid.uuid4().hex if get_engine().dialect.name == "sqlite" else str(uuid.uuid4()),
        seq=seeded + 1, h="0" * 64,
    )
    code, output = _verify(capsys)
    assert code == 2
    assert f"event {seeded + 1} does not follow event {seeded}" in output


def test_verify_names_an_event_whose_hash_was_recomputed_but_not_its_successor(seeded, capsys):
    """Rewriting one row consistently still breaks the link to the next one."""
    from sqlmodel import select

    from patient_portal.core.audit import AuditEvent, chain_hash
    from patient_portal.core.db import unit_of_work

    with unit_of_work() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        event.purpose = "forged"
        event.hash = chain_hash(event.prev_hash, event)
        s.add(event)
    code, output = _verify(capsys)
    assert code == 2
    assert "event 3 does not follow event 2" in output
