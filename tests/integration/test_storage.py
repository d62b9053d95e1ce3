"""Both blob stores keep bytes, stream them back, list and delete — the S3 one against moto's server."""

from __future__ import annotations

import os

import pytest

from patient_portal.core.storage import (
    BlobNotFound,
    BlobStoreError,
    LocalBlobStore,
    get_blob_store,
    new_object_key,
)


@pytest.fixture(params=["local", "s3"])
def store(request, portal_env):
    if request.param == "s3":
        request.getfixturevalue("s3_settings")
    store = get_blob_store()
    assert store.name == request.param
    return store


def test_put_get_round_trip_streams_large_objects(store):
    key = new_object_key("test")
    data = os.urandom(3 * 1024 * 1024 + 123)
    pieces = (data[i:i + 700_000] for i in range(0, len(data), 700_000))
    assert store.put(key, pieces) == len(data)
    assert store.exists(key)
    assert b"".join(store.get(key)) == data


def test_s3_store_goes_multipart_above_the_single_put_size(s3_settings, monkeypatch):
    from patient_portal.core.storage import S3BlobStore

    store = get_blob_store()
    monkeypatch.setattr(S3BlobStore, "SINGLE_PUT_MAX", 6 * 1024 * 1024)
    monkeypatch.setattr(S3BlobStore, "PART", 5 * 1024 * 1024)
    calls = []
    original = store.client.upload_part
    monkeypatch.setattr(store.client, "upload_part", lambda **kw: calls.append(kw["PartNumber"]) or original(**kw))
    data = os.urandom(13 * 1024 * 1024 + 7)
    key = new_object_key("big")
    store.put(key, (data[i:i + 1_000_000] for i in range(0, len(data), 1_000_000)))
    assert calls == [1, 2, 3]
    assert b"".join(store.get(key)) == data


def test_keys_lists_and_delete_removes(store):
    keys = {new_object_key("list") for _ in range(3)}
    for key in keys:
        store.put(key, [b"x"])
    assert keys <= set(store.keys("list/"))
    victim = keys.pop()
    store.delete(victim)
    assert not store.exists(victim)
    with pytest.raises(BlobNotFound):
        b"".join(store.get(victim))
    assert store.ping() is None


def test_object_keys_are_random():
    assert len({new_object_key() for _ in range(1000)}) == 1000


def test_local_store_refuses_keys_outside_its_folder(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(BlobStoreError):
        store.put("../escape", [b"x"])


def test_s3_store_reports_an_unreachable_endpoint(monkeypatch):
    from patient_portal.core.storage import S3BlobStore

    store = S3BlobStore("nowhere", endpoint_url="http://127.0.0.1:9", access_key_id="x", secret_access_key="y")
    with pytest.raises(BlobStoreError) as err:
        store.put("k", [b"data"])
    assert "unavailable" in str(err.value)
