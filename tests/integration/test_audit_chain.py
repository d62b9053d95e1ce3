"""`portal audit verify` on the demo data, and after tampering directly in the database.

The first tests predate the keyed chain (plain SHA-256); the later ones play a database writer who
lacks the keys: deleting the newest events, appending, recomputing, editing checkpoints.
"""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import select

from patient_portal import cli
from patient_portal.core import audit, audit_checkpoint, crypto
from patient_portal.core.audit import GENESIS, AuditEvent, chain_hash, event_mac
from patient_portal.core.db import get_engine, unit_of_work, utcnow
from patient_portal.domain.identity import signin
from patient_portal.settings import reset_settings
from tests.integration.identity_support import PASSWORD, make_user
from tests.integration.patients_support import register

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def seeded(capsys) -> int:
    """A small clinic's chain: accounts made, a patient registered, sign-ins that worked and one that
    did not; returns how many events the chain holds. (Built through the services directly: the
    whole demo seed took 8-11 s a test for the same few events.)"""
    make_user("doctor@demo.clinic", "doctor")
    make_user("desk@demo.clinic", "staff")
    register()
    assert signin.sign_in("doctor@demo.clinic", PASSWORD, ip="10.1.1.1").ok
    assert not signin.sign_in("doctor@demo.clinic", "wrong password x", ip="10.1.1.1").ok
    assert signin.sign_in("desk@demo.clinic", PASSWORD, ip="10.1.1.2").ok
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


# ---------------------------------------------------------------- keyed chain + signed checkpoints
# What a database writer without the keys can do, and what verify says about it.

def _head_seq() -> int:
    with get_engine().connect() as conn:
        return conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_event")).scalar_one()


def _checkpoint(capsys) -> int:
    """`portal audit checkpoint`; returns the seq it covers."""
    assert cli.main(["audit", "checkpoint"]) == 0
    out = capsys.readouterr().out
    assert "audit checkpoint written: event" in out
    cp = audit_checkpoint.read(audit_checkpoint.get_blob_store(), audit_checkpoint.LATEST)
    assert f"event {cp.seq} " in out
    return cp.seq


def _more_events(n: int = 3) -> None:
    for i in range(n):
        audit.record_now(None, "test.event", detail={"n": i})


def _forged(seq: int, prev_hash: str, **fields) -> AuditEvent:
    event = AuditEvent(seq=seq, at=utcnow(), action="auth.sign_in", outcome="success", detail={},
                       prev_hash=prev_hash, hash="", **fields)
    event.hash = chain_hash(prev_hash, event)
    return event


def _attacker_ring() -> crypto.KeyRing:
    """A key ring of the attacker's own, with the same key id as the portal's active key."""
    return crypto.KeyRing(crypto.parse_keys(crypto.generate_key_spec(crypto.get_keyring().active_kid)))


def test_events_are_maced_under_the_active_key(seeded):
    kid = crypto.get_keyring().active_kid
    with unit_of_work() as s:
        events = s.exec(select(AuditEvent)).all()
    assert {e.key_id for e in events} == {kid}
    assert all(e.mac == event_mac(kid, e.hash) for e in events)


def test_verify_reports_the_checkpoint_and_events_newer_than_it(seeded, capsys):
    code, output = _verify(capsys)
    assert code == 0 and "no checkpoint yet" in output
    seq = _checkpoint(capsys)
    _more_events(3)
    code, output = _verify(capsys)
    assert code == 0, output
    # the checkpoint's own audit.checkpoint event plus the three new ones
    assert f"(event {seq}, key k1); 4 events are newer than the last checkpoint" in output


def test_verify_names_a_deleted_newest_event_after_a_checkpoint(seeded, capsys):
    seq = _checkpoint(capsys)
    _sql("DELETE FROM audit_event WHERE seq >= :s", s=seq)  # the newest event, and the checkpoint's own
    code, output = _verify(capsys)
    assert code == 2
    assert (f"the chain ends at event {seq - 1} but the checkpoint of" in output
            and f"covers event {seq}: the newest events were deleted" in output)


def test_verify_names_an_appended_forged_event(seeded, capsys):
    _checkpoint(capsys)
    head = _head_seq()
    with unit_of_work() as s:
        last = s.exec(select(AuditEvent).where(AuditEvent.seq == head)).one()
        forged = _forged(head + 1, last.hash, key_id="k1")
        forged.mac = event_mac("k1", forged.hash, _attacker_ring())
        s.add(forged)
    code, output = _verify(capsys)
    assert code == 2
    assert f"event {head + 1} has a bad MAC (forged, or recomputed without the audit key)" in output


def test_verify_refuses_an_unkeyed_event_even_with_a_perfect_sha256_link(seeded, capsys):
    """A forger cannot pass a row off as written before the chain was keyed."""
    head = _head_seq()
    with unit_of_work() as s:
        last = s.exec(select(AuditEvent).where(AuditEvent.seq == head)).one()
        s.add(_forged(head + 1, last.hash))
    code, output = _verify(capsys)
    assert code == 2
    assert f"event {head + 1} has no key id or MAC (unkeyed events are refused)" in output


@pytest.mark.parametrize("recompute", ["plain sha-256", "wrong key"])
def test_verify_names_a_fully_recomputed_chain(seeded, capsys, recompute):
    """Edit event 3 and recompute every later hash (and, with a key of one's own, every MAC)."""
    seq = _checkpoint(capsys)
    wrong = _attacker_ring()
    with unit_of_work() as s:
        prev = GENESIS
        for event in s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all():
            if event.seq == 3:
                event.action = "nothing.happened"
            event.prev_hash, event.hash = prev, chain_hash(prev, event)
            if recompute == "wrong key" and event.seq >= 3:
                event.mac = event_mac(event.key_id, event.hash, wrong)
            prev = event.hash
            s.add(event)
    code, output = _verify(capsys)
    assert code == 2
    assert "audit chain BROKEN: event 3 has a bad MAC" in output
    assert f"event {seq} differs from the checkpoint of" in output and "(the chain was rewritten)" in output


def test_verify_and_the_writer_refuse_a_tampered_checkpoint(seeded, capsys):
    seq = _checkpoint(capsys)
    store = audit_checkpoint.get_blob_store()
    data = json.loads(b"".join(store.get(audit_checkpoint.LATEST)))
    data["seq"] = seq - 2  # "the chain was only this long": would hide two deletions
    store.put(audit_checkpoint.LATEST, [json.dumps(data).encode()])
    code, output = _verify(capsys)
    assert code == 2
    assert "checkpoint audit-checkpoints/latest.json has a bad signature (altered or forged)" in output

    # nor is a new checkpoint signed over it (the worker would log this each round)
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "bad signature" in capsys.readouterr().err


def test_verify_refuses_a_checkpoint_signed_with_another_key(seeded, capsys):
    seq = _checkpoint(capsys)
    forged = audit_checkpoint.sign(seq - 2, "f" * 64, _attacker_ring())
    audit_checkpoint.get_blob_store().put(audit_checkpoint.LATEST, [forged.to_bytes()])
    code, output = _verify(capsys)
    assert code == 2 and "has a bad signature" in output


def test_verify_names_a_missing_checkpoint_store(seeded, portal_env, capsys):
    seq = _checkpoint(capsys)
    _more_events(2)
    shutil.rmtree(portal_env / "blobs" / "audit-checkpoints")
    code, output = _verify(capsys)
    assert code == 2
    assert (f"which the chain records as the checkpoint of event {seq}: checkpoints were deleted, or the portal "
            "points at another store") in output


def test_the_writer_refuses_to_sign_over_a_truncated_chain(seeded, capsys, caplog):
    """Delete the newest events, let new ones arrive: the worker must not bless the shorter chain."""
    seq = _checkpoint(capsys)
    _sql("DELETE FROM audit_event WHERE seq >= :s", s=seq - 1)
    _more_events(5)  # the chain is longer than the checkpoint again, but not the same chain
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "no longer matches the checkpoint of" in capsys.readouterr().err
    with pytest.raises(audit_checkpoint.CheckpointError):
        audit_checkpoint.write_if_moved()
    code, output = _verify(capsys)
    assert code == 2 and f"event {seq} differs from the checkpoint" in output


def test_an_operator_accepts_a_shorter_chain_with_force(seeded, capsys):
    """After restoring an older database on purpose: verify says what was lost, --force starts over."""
    seq = _checkpoint(capsys)
    _sql("DELETE FROM audit_event WHERE seq >= :s", s=seq - 1)
    assert _verify(capsys)[0] == 2
    assert cli.main(["audit", "checkpoint", "--force"]) == 0
    capsys.readouterr()
    code, output = _verify(capsys)
    assert code == 0, output
    assert f"(event {seq - 2}, key k1); 1 events are newer" in output


def test_rotation_remacs_the_chain_and_verify_stays_green(db, monkeypatch, capsys):
    from patient_portal import seed

    old, index_key = crypto.generate_key_spec("k1"), crypto.generate_key_spec("idx")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{old},{index_key}")
    reset_settings()
    seed.seed_demo(patients=3)
    _checkpoint(capsys)
    _more_events(2)

    new = crypto.generate_key_spec("k2")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{new},{old},{index_key}")
    reset_settings()
    code, output = _verify(capsys)  # mid-way (old and new keys side by side) the chain verifies
    assert code == 0, output
    assert cli.main(["rotate-keys", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "audit_event:" in out and "events re-MACed" in out and "checkpoint at event" in out
    with get_engine().connect() as conn:
        assert set(conn.execute(text("SELECT DISTINCT key_id FROM audit_event")).scalars()) == {"k2"}

    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{new},{index_key}")  # k1 retired
    reset_settings()
    code, output = _verify(capsys)
    assert code == 0, output
    assert "MAC keys: k2" in output and "key k2)" in output


def test_rotation_does_not_launder_a_tampered_event(db, monkeypatch, capsys):
    old, index_key = crypto.generate_key_spec("k1"), crypto.generate_key_spec("idx")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{old},{index_key}")
    reset_settings()
    _more_events(5)
    _sql("UPDATE audit_event SET mac = :m WHERE seq = 3", m="0" * 64)
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{crypto.generate_key_spec('k2')},{old},{index_key}")
    reset_settings()
    assert cli.main(["rotate-keys"]) == 2
    assert "1 audit events do not verify and were left under their old key (events 3)" in capsys.readouterr().err
    code, output = _verify(capsys)
    assert code == 2 and "event 3 has a bad MAC" in output


def test_checkpoint_command_with_no_events(db, capsys):
    assert cli.main(["audit", "checkpoint"]) == 0
    assert "no audit events yet" in capsys.readouterr().out


# ---------------------------------------------------------------- rows written before the chain was keyed

_LEGACY_COLUMNS = ("id", "seq", "at", "actor_id", "role", "action", "patient_id", "object_type", "object_id",
                   "outcome", "ip", "session_id", "purpose", "detail", "prev_hash", "hash")


@pytest.fixture
def legacy_database(db, tmp_path, monkeypatch):
    """A fresh database migrated to 0002 (before the keyed chain): SQLite file, or a new PG database."""
    import os

    from sqlalchemy import create_engine

    name = None
    admin_url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")

    def admin(sql: str) -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    if db == "postgresql":
        name = "portal_legacy_" + uuid.uuid4().hex[:8]
        admin(f'CREATE DATABASE "{name}"')
        monkeypatch.setenv("PORTAL_DATABASE_URL", admin_url.rsplit("/", 1)[0] + "/" + name)
    else:
        monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'legacy.db'}")
    reset_settings()
    from patient_portal.core import migrations

    migrations.upgrade("0002")
    yield migrations
    reset_settings()
    if name:
        admin(f'DROP DATABASE IF EXISTS "{name}"')


def _write_legacy_chain(n: int, *, alter: int | None = None) -> None:
    """n events as the unkeyed code wrote them (plain SHA-256 chain); `alter` edits one afterwards."""
    import sqlalchemy as sa

    table = sa.Table("audit_event", sa.MetaData(), *[AuditEvent.__table__.c[c].copy() for c in _LEGACY_COLUMNS])
    prev, rows = GENESIS, []
    for seq in range(1, n + 1):
        event = AuditEvent(id=uuid.uuid4(), seq=seq, at=utcnow(), actor_id=uuid.uuid4(), role="doctor",
                           action="patient.read", patient_id=uuid.uuid4(), object_type="patient",
                           object_id=str(seq), outcome="success", ip="10.0.0.1", detail={"fields": ["name"]},
                           prev_hash=prev, hash="")
        event.hash = prev = chain_hash(prev, event)
        rows.append({c: getattr(event, c) for c in _LEGACY_COLUMNS})
    if alter is not None:
        rows[alter - 1]["action"] = "nothing.happened"
    with get_engine().begin() as conn:
        conn.execute(table.insert(), rows)


def test_upgrade_keys_the_legacy_chain_once(legacy_database, capsys):
    _write_legacy_chain(7)
    legacy_database.upgrade()
    kid = crypto.get_keyring().active_kid
    with unit_of_work() as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [e.key_id for e in events] == [kid] * 7
        assert all(e.mac == event_mac(kid, e.hash) for e in events)  # the migration's MAC is core.audit's
        assert audit.verify_chain(s).ok
    _more_events(1)  # the app goes on appending keyed events to the re-chained ones
    code, output = _verify(capsys)
    assert code == 0 and "8 events verified" in output

    # a "legacy" row slipped in after the upgrade is refused
    with unit_of_work() as s:
        s.add(_forged(9, s.exec(select(AuditEvent.hash).where(AuditEvent.seq == 8)).one()))
    code, output = _verify(capsys)
    assert code == 2 and "event 9 has no key id or MAC" in output


def test_upgrade_does_not_bless_a_legacy_chain_that_was_already_broken(legacy_database, capsys):
    _write_legacy_chain(5, alter=3)
    legacy_database.upgrade()
    with unit_of_work() as s:
        assert [e.key_id is not None for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()] == [
            True, True, False, False, False]
    code, output = _verify(capsys)
    assert code == 2
    assert "event 3 was altered" in output and "event 4 has no key id or MAC" in output


def test_events_recorded_together_chain_as_if_one_by_one(seeded, capsys):
    """record_each (a billing run's events): one lock, one head read, one INSERT — and the same chain."""
    with unit_of_work() as s:
        audit.record_each(s, None, "test.batch.write", [{"object_type": "test", "detail": {"n": n}} for n in range(3)])
        audit.record(s, None, "test.single.write", detail={"n": 3})
    with unit_of_work() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action.in_(["test.batch.write", "test.single.write"]))
                      .order_by(AuditEvent.seq)).all()
    assert [r.detail["n"] for r in rows] == [0, 1, 2, 3]
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 4))
    code, output = _verify(capsys)
    assert code == 0 and f"{seeded + 4} events verified" in output
