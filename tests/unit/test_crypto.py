"""Field encryption, blind indexes and file envelopes behave as the data layer promises."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patient_portal.core import crypto
from patient_portal.core.crypto import DecryptionError

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None)


@fixture_ok
@given(text=st.text(max_size=300), table=st.sampled_from(["patient", "allergy"]), row=st.uuids())
def test_field_round_trip(text, table, row):
    token = crypto.encrypt_value("str", text, table, "legal_name", row)
    assert len(text) < 8 or text not in token  # short strings can appear in base64 by chance
    assert crypto.decrypt_value("str", token, table, "legal_name", row) == text


@fixture_ok
@given(value=st.dates())
def test_date_round_trip(value):
    row = uuid.uuid4()
    token = crypto.encrypt_value("date", value, "patient", "dob", row)
    assert crypto.decrypt_value("date", token, "patient", "dob", row) == value


@fixture_ok
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                          lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                          max_leaves=10))
def test_json_round_trip(value):
    row = uuid.uuid4()
    token = crypto.encrypt_value("json", value, "patient", "address", row)
    assert crypto.decrypt_value("json", token, "patient", "address", row) == value


def test_ciphertext_moved_to_another_row_or_column_fails():
    row, other = uuid.uuid4(), uuid.uuid4()
    token = crypto.encrypt_value("str", "Maria Garcia", "patient", "legal_name", row)
    with pytest.raises(DecryptionError):
        crypto.decrypt_value("str", token, "patient", "legal_name", other)
    with pytest.raises(DecryptionError):
        crypto.decrypt_value("str", token, "patient", "preferred_name", row)
    with pytest.raises(DecryptionError):
        crypto.decrypt_value("str", token, "emergency_contact", "legal_name", row)


@fixture_ok
@given(position=st.integers(min_value=0, max_value=10_000), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_fails(position, bit):
    row = uuid.uuid4()
    token = crypto.encrypt_value("str", "penicillin allergy", "allergy", "substance", row)
    prefix, body = token.rsplit(".", 1)
    raw = bytearray(crypto._b64d(body))
    raw[position % len(raw)] ^= 1 << bit
    with pytest.raises(DecryptionError):
        crypto.decrypt_value("str", f"{prefix}.{crypto._b64e(bytes(raw))}", "allergy", "substance", row)


def test_no_nonce_reuse_over_many_encryptions():
    row = uuid.uuid4()
    nonces = set()
    for _ in range(20_000):
        token = crypto.encrypt_value("str", "same text", "patient", "legal_name", row)
        nonces.add(crypto._b64d(token.rsplit(".", 1)[1])[: crypto.NONCE_BYTES])
    assert len(nonces) == 20_000


def test_key_id_is_in_every_ciphertext_and_old_keys_still_decrypt(monkeypatch):
    row = uuid.uuid4()
    old_spec = crypto.generate_key_spec("k1")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", old_spec)
    from patient_portal.settings import reset_settings

    reset_settings()
    token_k1 = crypto.encrypt_value("str", "Ana", "patient", "legal_name", row)
    index_k1 = crypto.blind_index("patient.family_name", "Ana")
    assert crypto.key_id_of(token_k1) == "k1"
    new_spec = crypto.generate_key_spec("k2")
    monkeypatch.setenv("PORTAL_MASTER_KEYS", f"{new_spec},{old_spec}")
    reset_settings()
    token_k2 = crypto.encrypt_value("str", "Ana", "patient", "legal_name", row)
    assert crypto.key_id_of(token_k2) == "k2"
    assert crypto.decrypt_value("str", token_k1, "patient", "legal_name", row) == "Ana"
    # without a dedicated index key the oldest key keys the indexes, so they survive rotation
    assert crypto.blind_index("patient.family_name", "Ana") == index_k1


def test_dedicated_index_key_never_encrypts(monkeypatch):
    from patient_portal.settings import reset_settings

    monkeypatch.setenv("PORTAL_MASTER_KEYS", crypto.generate_key_spec("k7", with_index_key=True))
    reset_settings()
    ring = crypto.get_keyring()
    assert ring.active_kid == "k7" and ring.index_kid == "idx"
    assert crypto.key_id_of(crypto.encrypt_value("str", "x", "t", "c", 1)) == "k7"


def test_key_file_is_generated_private(portal_env):
    crypto.get_keyring()
    key_file = portal_env / "keys.txt"
    assert key_file.exists()
    assert crypto.get_keyring().key_ids == ["k1", "idx"]
    assert (key_file.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("a,b", [("Núñez", "nunez"), ("  O'Brien ", "o'brien"), ("Ana  María", "ana maria"),
                                 ("STRASSE", "strasse")])
def test_blind_index_ignores_case_accents_and_spaces(a, b):
    assert crypto.blind_index("patient.family_name", a) == crypto.blind_index("patient.family_name", b)


def test_blind_index_keys_differ_per_index_and_values_are_truncated():
    by_name = crypto.blind_index("patient.family_name", "Garcia")
    by_email = crypto.blind_index("patient.email", "Garcia")
    assert by_name != by_email
    assert len(crypto._b64d(by_name)) == crypto.INDEX_BYTES < 32
    assert crypto.blind_index("patient.family_name", "Garcia") != crypto.blind_index("patient.family_name", "Garcias")


@fixture_ok
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=700),
       feed=st.integers(min_value=1, max_value=900), read=st.one_of(st.integers(min_value=1, max_value=1000),
                                                                     st.just(None)))
def test_file_envelope_round_trip_any_chunking(data, chunk, feed, read):
    object_id = "obj/1"
    dek, wrapped = crypto.new_data_key(object_id)
    pieces = [data[i:i + feed] for i in range(0, len(data), feed)] or [b""]
    sealed = b"".join(crypto.encrypt_stream(pieces, dek, object_id, chunk_size=chunk))
    key = crypto.unwrap_data_key(wrapped, object_id)
    read = read or chunk + 16  # None: frame-aligned reads, as the stores are asked for
    out = b"".join(crypto.decrypt_stream([sealed[i:i + read] for i in range(0, len(sealed), read)], key, object_id))
    assert out == data


def test_file_envelope_releases_nothing_of_a_tampered_frame():
    data = os.urandom(2500)
    dek, _wrapped = crypto.new_data_key("a")
    sealed = bytearray(b"".join(crypto.encrypt_stream([data], dek, "a", chunk_size=1024)))
    sealed[16 + 1024 + 16 + 5] ^= 1  # inside the second frame
    frames = crypto.decrypt_stream([bytes(sealed)], dek, "a")
    assert next(frames) == data[:1024]  # the first frame is authentic
    with pytest.raises(DecryptionError):
        next(frames)


def test_file_envelope_detects_tampering_truncation_and_wrong_object():
    data = os.urandom(3 * 1024 + 17)
    dek, wrapped = crypto.new_data_key("a")
    sealed = bytearray(b"".join(crypto.encrypt_stream([data], dek, "a", chunk_size=1024)))
    with pytest.raises(DecryptionError):
        list(crypto.decrypt_stream([bytes(sealed[:-1040])], dek, "a"))  # whole last chunk cut off
    with pytest.raises(DecryptionError):
        list(crypto.decrypt_stream([bytes(sealed)], dek, "b"))
    sealed[100] ^= 1
    with pytest.raises(DecryptionError):
        list(crypto.decrypt_stream([bytes(sealed)], dek, "a"))
    with pytest.raises(DecryptionError):
        crypto.unwrap_data_key(wrapped, "other-object")


def test_each_file_gets_a_fresh_data_key():
    keys = {crypto.new_data_key("x")[0] for _ in range(50)}
    assert len(keys) == 50


def test_first_use_of_the_key_file_from_many_threads_at_once_gives_one_key_ring():
    """The first events after start arrive together: none may see a half-written key file."""
    import threading

    from patient_portal.core import crypto
    from patient_portal.settings import get_settings

    crypto.reset_keyring()
    rings, errors = [], []
    start = threading.Barrier(8)

    def first_use():
        start.wait()
        try:
            rings.append(crypto.get_keyring())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and len({id(r) for r in rings}) == 1
    path = get_settings().key_file
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".keys-")] == []
