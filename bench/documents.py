"""Document upload/download throughput through the service vs raw boto3, against moto's S3 server.

Run: .venv/bin/python bench/documents.py [--rounds N]
Prints, for 1 MiB and 20 MiB files, the median time and MB/s of raw boto3 put/get (a default client)
and of the service, rounds alternating between the two, and their ratio and difference. An upload is
type-checked, hashed (SHA-256, kept on the row), encrypted and recorded (rows + audit); a download is
authorized and audited and every AES-GCM frame's tag checked as it streams — no SHA-256 pass (that is
`portal storage verify`'s job). Also: the floor no authenticated download can beat on this machine
(first byte + AES-GCM of the file), the CPU time each call costs this process and the S3 server (what
the service adds shows even when wall times are noisy), and the peak Python memory of one 20 MiB
upload (tracemalloc).

Targets: 20 MiB download <= 1.3x raw; 1 MiB download <= raw + 3 ms; upload memory <= 3x the file.
Uploads have no target of their own here: compare their figures with an earlier run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MiB = 1024 * 1024
PIECE = 64 * 1024  # what a request body stream hands over at a time


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.7\n"
    body = os.urandom(size - len(head) - 6).replace(b"/Encrypt", b"/Encrypz")
    return head + body + b"%%EOF\n"


def _pieces(data: bytes):
    view = memoryview(data)
    for start in range(0, len(data), PIECE):
        yield bytes(view[start:start + PIECE])


def _start_moto() -> tuple[subprocess.Popen, str]:
    """moto's S3 server in its own process, so its CPU and memory are not counted as ours."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _paired(raw_fn, svc_fn, rounds: int, server_pid: int) -> tuple[list[float], list[float]]:
    """For raw and service: median wall seconds and mean CPU seconds per call, of this process
    (helper threads included) and of the S3 server; rounds alternate so drift hits both alike."""
    walls: tuple[list, list] = ([], [])
    cpu = [[0.0, 0.0], [0.0, 0.0]]
    for _ in range(rounds):
        for side, fn in enumerate((raw_fn, svc_fn)):
            server0, own0, start = _cpu_seconds(server_pid), time.process_time(), time.perf_counter()
            fn()
            walls[side].append(time.perf_counter() - start)
            cpu[side][0] += time.process_time() - own0
            cpu[side][1] += _cpu_seconds(server_pid) - server0
    return [[statistics.median(walls[side]), cpu[side][0] / rounds, cpu[side][1] / rounds] for side in (0, 1)]


def _first_byte(get_chunks, rounds: int) -> float:
    """Median seconds until the first byte of a raw GET arrives."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        chunks = get_chunks()
        next(chunks)
        times.append(time.perf_counter() - start)
        for _chunk in chunks:
            pass
    return statistics.median(times)


def _aes_gcm_seconds(data: bytes) -> float:
    """Seconds to check and decrypt every frame of `data` encrypted as stored (in memory, no I/O)."""
    from patient_portal.core import crypto

    dek = os.urandom(32)
    sealed = list(crypto.encrypt_stream([data], dek, "bench"))
    pieces = [b"".join(sealed)]
    start = time.perf_counter()
    for _chunk in crypto.decrypt_stream(pieces, dek, "bench"):
        pass
    return time.perf_counter() - start


def _add_patient() -> uuid.UUID:
    """A patient record for the bench's documents (uploads refuse an id naming no record)."""
    from datetime import date

    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.patients import mrn
    from patient_portal.domain.patients.models import STATUS_ACTIVE, Patient

    pid = uuid.uuid4()
    with unit_of_work() as session:
        session.add(Patient(id=pid, mrn=mrn.generate(), status=STATUS_ACTIVE, given_name="Bench",
                            family_name="Patient", date_of_birth=date(1980, 5, 17), sex="female"))
    return pid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds per op (three times as many for 1 MiB)")
    args = parser.parse_args()

    server, endpoint = _start_moto()
    instance = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.update(PORTAL_INSTANCE_DIR=instance, PORTAL_ENV="demo", PORTAL_S3_ENDPOINT_URL=endpoint,
                      PORTAL_S3_BUCKET="bench", PORTAL_S3_ACCESS_KEY_ID="bench", PORTAL_S3_SECRET_ACCESS_KEY="bench")
    os.environ.pop("PORTAL_DATABASE_URL", None)

    from patient_portal.core.access import Actor, Role
    from patient_portal.core.db import get_engine
    from patient_portal.core.storage import get_blob_store
    from patient_portal.domain.documents import service as svc
    from patient_portal.models import metadata
    from patient_portal.settings import reset_settings

    reset_settings()
    metadata.create_all(get_engine())
    store = get_blob_store()
    store.ensure_bucket()
    # "Raw boto3" is a default client, as an application without this service would use it.
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench")
    actor = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, display_name="Bench", session_id=uuid.uuid4())
    patient_id = _add_patient()
    meta = {"category": "lab_result", "title": "Bench", "service_date": "2026-01-01"}

    print(f"moto S3 at {endpoint}; median of {args.rounds} rounds ({args.rounds * 3} for 1 MiB)")
    print(f"{'size':>6} {'op':>9} {'raw ms':>8} {'raw MB/s':>9} {'svc ms':>8} {'svc MB/s':>9} {'ratio':>6} "
          f"{'+ms':>6}")
    missed: list[str] = []
    for size in (1 * MiB, 20 * MiB):
        data = _pdf(size)
        ids: list[uuid.UUID] = []

        def raw_put(data=data):
            client.put_object(Bucket="bench", Key=f"raw/{uuid.uuid4().hex}", Body=data)

        def svc_put(data=data, ids=ids):
            ids.append(svc.upload(actor, patient_id=patient_id, meta=meta, filename="bench.pdf",
                                  chunks=_pieces(data)).id)

        client.put_object(Bucket="bench", Key="raw/read", Body=data)

        def raw_get():
            body = client.get_object(Bucket="bench", Key="raw/read")["Body"]
            for _chunk in body.iter_chunks(MiB):
                pass

        def svc_get(ids=ids):
            for _chunk in svc.open_file(actor, document_id=ids[0]).chunks:
                pass

        svc_put()  # warm up both paths (connections, key derivation)
        raw_put()
        rounds = args.rounds * (3 if size < 4 * MiB else 1)
        for op, raw_fn, svc_fn in (("upload", raw_put, svc_put), ("download", raw_get, svc_get)):
            (raw_s, raw_own, raw_srv), (svc_s, svc_own, svc_srv) = _paired(raw_fn, svc_fn, rounds, server.pid)
            ratio = svc_s / raw_s
            extra_ms = (svc_s - raw_s) * 1000
            if op == "download" and size >= 4 * MiB and ratio > 1.3:
                missed.append(f"{size // MiB} MiB download {ratio:.2f}x raw (target <= 1.3x)")
            if op == "download" and size < 4 * MiB and extra_ms > 3:
                missed.append(f"{size // MiB} MiB download raw + {extra_ms:.1f} ms (target <= + 3 ms)")
            mb = size / 1e6
            print(f"{size // MiB:>4}Mi {op:>9} {raw_s * 1000:8.1f} {mb / raw_s:9.1f} {svc_s * 1000:8.1f} "
                  f"{mb / svc_s:9.1f} {ratio:5.2f}x {extra_ms:+6.1f}")
            print(f"{'':>16}CPU ms per call, this process / S3 server: raw {raw_own * 1000:.1f} / "
                  f"{raw_srv * 1000:.1f}, service {svc_own * 1000:.1f} / {svc_srv * 1000:.1f}")
        # An authenticated download cannot end before the first byte has arrived and every frame is checked.
        first = _first_byte(lambda: client.get_object(Bucket="bench", Key="raw/read")["Body"].iter_chunks(MiB),
                            rounds)
        floor = first + min(_aes_gcm_seconds(data) for _ in range(5))
        print(f"{'':>16}download floor on this machine (first byte {first * 1000:.1f} ms + AES-GCM of the "
              f"file): {floor * 1000:.1f} ms = {floor / raw_s:.2f}x raw")

    data = _pdf(20 * MiB)
    tracemalloc.start()
    svc.upload(actor, patient_id=patient_id, meta=meta, filename="bench.pdf", chunks=_pieces(data))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mem_ratio = peak / len(data)
    if mem_ratio > 3:
        missed.append(f"upload memory {mem_ratio:.2f}x the file (target <= 3x)")
    print(f"peak memory of one 20 MiB upload: {peak / MiB:.1f} MiB = {mem_ratio:.2f}x the file (target <= 3x)")
    print("targets met" if not missed else "TARGETS MISSED: " + "; ".join(missed))
    server.terminate()
    server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
