"""The `portal` console script: database, seed data, users, audit, storage, keys.

Each command is a small function; `main()` parses arguments and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patient_portal.settings import get_settings


def cmd_check_config(_args: argparse.Namespace) -> int:
    """Refuse to start a production configuration that is missing something."""
    problems = get_settings().problems_for_start()
    for problem in problems:
        print(f"portal: cannot start: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Every troubleshooting check, one line each with a fix hint; 1 when anything failed. With
    --dependencies, the installed packages are audited against PyPI's advisory data first (network)."""
    from patient_portal.domain.operations import dependencies, service

    if getattr(args, "dependencies", False):
        print("portal doctor: asking PyPI's advisory data about every installed package …")
        dependencies.audit()
    results = service.doctor()
    for check in results:
        print(check.line(), file=sys.stderr if check.failed else sys.stdout)
    failed = [c.name for c in results if c.failed]
    if failed:
        print(f"portal doctor: {len(failed)} problem(s): {', '.join(failed)}", file=sys.stderr)
        return 1
    print("portal doctor: everything checked is fine")
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from patient_portal.core import migrations

    migrations.upgrade()
    print("database is at the latest schema")
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.emergency.protocols import seed_protocols

    with unit_of_work() as session:  # the starter emergency protocols the clinic does not have yet
        added = seed_protocols(session)
    if added:
        print(f"added {added} starter emergency protocols (admins adapt them on the protocol editor)")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from patient_portal import seed

    settings = get_settings()
    if not settings.demo_accounts or settings.production:
        print("portal: demo data is only for demo mode (PORTAL_DEMO_ACCOUNTS=1, not production)", file=sys.stderr)
        return 1
    import time

    started = time.perf_counter()
    report = seed.seed_demo(seed.DEMO_PATIENTS if args.patients is None else args.patients)
    print(f"{report.summary()} ({time.perf_counter() - started:.1f} s)")
    return 0


def cmd_demo_video_visit(args: argparse.Namespace) -> int:
    from patient_portal.domain.video.demo import demo_video_visit

    settings = get_settings()
    if not settings.demo_accounts or settings.production:
        print("portal: demo data is only for demo mode (PORTAL_DEMO_ACCOUNTS=1, not production)", file=sys.stderr)
        return 1
    try:
        aid, page, start = demo_video_visit(minutes=max(0, min(args.minutes, 60)), doctor=args.doctor)
    except LookupError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 1
    print(f"video visit {aid} booked at {start:%H:%M} UTC (the call opens 10 minutes before): sign in as "
          f"patient@demo.clinic and {args.doctor}, open {page}")
    return 0


def cmd_codes_load(args: argparse.Namespace) -> int:
    """Load or update the code tables; a set already loaded from the same source is skipped."""
    from patient_portal.core.errors import Invalid
    from patient_portal.domain.codes import service as codes

    try:
        codes.load(sets=args.sets, icd10_prefixes=args.icd10_prefix, cvx_file=args.cvx_file, force=args.force,
                   on_loaded=lambda report: print(report.summary(), flush=True))
    except (Invalid, OSError) as exc:
        print(f"portal: code tables not loaded: {getattr(exc, 'errors', None) or exc}", file=sys.stderr)
        return 2
    return 0


def cmd_prune_sessions(_args: argparse.Namespace) -> int:
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity.sessions import KEEP_ENDED, prune_sessions

    with unit_of_work() as session:
        removed = prune_sessions(session)
    print(f"removed {removed} sign-in sessions that ended more than {KEEP_ENDED.days} days ago")
    return 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Apply the retention rules (core.retention): remove what is past its time, or with --dry-run
    only count it. One line per rule."""
    from patient_portal.core import retention
    from patient_portal.core.db import unit_of_work, utcnow

    if args.dry_run:
        with unit_of_work() as session:  # counts only: nothing is written
            done = retention.apply(session, utcnow(), dry_run=True)
    else:
        done = retention.run_unattended()
    for r, n in done:
        print(f"{r.label}: {n} {'due' if args.dry_run else 'removed'} (kept {r.kept})")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Work the job outbox (emails) until interrupted; any number may run beside the app."""
    import signal

    from patient_portal.core import jobs

    worker = jobs.Worker(interval=args.interval).start()
    print(f"portal worker: running due jobs every {args.interval:g} s (Ctrl-C to stop)")
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        while worker.running:
            worker.wait(1)
    except KeyboardInterrupt:
        pass
    worker.stop()
    return 0


def cmd_demo_banner(_args: argparse.Namespace) -> int:
    from patient_portal import seed

    print(seed.banner())
    return 0


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    """Walk the keyed chain and hold it against the latest signed checkpoint; 2 when anything is off."""
    from patient_portal.core.audit import verify_chain
    from patient_portal.core.db import read_only

    with read_only() as session:
        report = verify_chain(session)
    if not report.ok:
        print(f"audit chain BROKEN: {report.problem} (after {report.checked} events read)", file=sys.stderr)
        for problem in report.problems[1:]:
            print(f"  also: {problem}", file=sys.stderr)
        return 2
    keys = ", ".join(report.key_ids) or "none"
    print(f"audit chain intact: {report.checked} events verified (MAC keys: {keys})")
    if report.checkpoint_seq is None:
        print(f"no checkpoint yet: {report.uncovered} events are newer than any checkpoint "
              "(run `portal audit checkpoint`)")
    else:
        print(f"matches the checkpoint of {report.checkpoint_at} (event {report.checkpoint_seq}, key "
              f"{report.checkpoint_key_id}); {report.uncovered} events are newer than the last checkpoint")
    return 0


def cmd_billing_verify(_args: argparse.Namespace) -> int:
    """Prove every billing sum on the whole database (domain.billing.service.verify); 2 when one is off."""
    from patient_portal.core.db import read_only
    from patient_portal.domain.billing.service import verify

    with read_only() as session:
        report = verify(session)
    counted = ", ".join(f"{n} {what}" for what, n in report.checked.items())
    if not report.ok:
        print(f"billing does NOT reconcile ({len(report.problems)} problems; checked {counted}):", file=sys.stderr)
        for problem in report.problems[:50]:
            print(f"  {problem}", file=sys.stderr)
        return 2
    print(f"billing reconciles: {counted}; charges = payments + adjustments + balances")
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    """Sign the chain's head and store the checkpoint outside the database (blob store + log)."""
    from patient_portal.core.audit_checkpoint import CheckpointError, write_checkpoint
    from patient_portal.core.storage import BlobStoreError

    try:
        cp = write_checkpoint(force=args.force)
    except (CheckpointError, BlobStoreError) as exc:
        print(f"portal: audit checkpoint not written: {exc}", file=sys.stderr)
        return 2
    if cp is None:
        print("no audit events yet: nothing to checkpoint")
        return 0
    print(f"audit checkpoint written: event {cp.seq} (hash {cp.hash[:16]}…) signed with key {cp.key_id} "
          f"at {cp.at}, stored as {cp.key}")
    return 0


def cmd_storage_sweep(args: argparse.Namespace) -> int:
    """Report document blobs without rows and rows without blobs; --delete removes orphan blobs."""
    from patient_portal.domain.documents.sweep import sweep

    report = sweep(remove_orphans=args.delete)
    print(f"checked {report.checked_blobs} stored objects and {report.checked_rows} document versions")
    for key in report.blobs_without_rows:
        print(f"blob without row: {key}" + (" (removed)" if key in report.removed else ""))
    for document_id, number in report.rows_without_blobs:
        print(f"row without blob: document {document_id} version {number}", file=sys.stderr)
    if report.clean:
        print("storage is consistent")
    return 2 if report.rows_without_blobs else 0


def cmd_storage_verify(args: argparse.Namespace) -> int:
    """Read every stored document file back: each frame's tag, the length and the plaintext SHA-256
    recorded at upload. Failures are named by document and version only; 2 when any failed."""
    from patient_portal.domain.documents.verify import verify

    def progress(number: int, checked: int, failures: list) -> None:
        for failure in failures:
            print(f"FAILED: document {failure.document_id} version {failure.version}: {failure.reason}",
                  file=sys.stderr)
        print(f"batch {number}: {checked} files checked, {len(failures)} failed", flush=True)

    report = verify(batch=args.batch, workers=args.workers, on_batch=progress)
    print(f"checked {report.checked} stored files in {report.batches} batches: "
          f"{report.checked - len(report.failures)} intact, {len(report.failures)} failed")
    return 2 if report.failures else 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password (12+ characters): ")
    if getpass.getpass("Same password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a sign-in account (the password is read from the terminal or stdin, never argv)."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    settings = get_settings()
    if settings.production and args.email.strip().lower().endswith("@demo.clinic"):
        print("portal: demo accounts are refused in production", file=sys.stderr)
        return 1
    try:
        password = _read_password(args)
        with unit_of_work() as session:
            user = service.create_user_system(session, email=args.email, role=args.role,
                                              display_name=args.name, password=password)
    except ValueError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.role} account {user.email}")
    return 0


def cmd_unlock_user(args: argparse.Namespace) -> int:
    """Lift a sign-in lockout."""
    from patient_portal.core.db import unit_of_work
    from patient_portal.domain.identity import service

    try:
        with unit_of_work() as session:
            user = service.unlock_user_system(session, args.email)
    except ValueError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 1
    print(f"unlocked {user.email}")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Re-encrypt data still under an older key with the active key; re-MAC the audit chain and
    sign a checkpoint under it, so the old key can be removed."""
    import patient_portal.models  # noqa: F401  (every table, so every encrypted column is found)
    from patient_portal.core import crypto, rotation
    from patient_portal.core.audit_checkpoint import CheckpointError, write_checkpoint
    from patient_portal.core.storage import BlobStoreError

    print(f"active key: {crypto.get_keyring().active_kid}")
    for report in rotation.rotate(batch=args.batch):
        if report.rewritten:
            print(f"  {report.table}: {report.rewritten} rows re-encrypted")
    print("every encrypted value is under the active key")
    remac = rotation.remac_audit_chain(batch=args.batch)
    if remac.remaced:
        print(f"  audit_event: {remac.remaced} events re-MACed")
    if remac.refused:
        shown = ", ".join(str(seq) for seq in remac.refused[:10])
        print(f"portal: {len(remac.refused)} audit events do not verify and were left under their old key "
              f"(events {shown}{', …' if len(remac.refused) > 10 else ''}): run `portal audit verify`; "
              "keep the old key until this is investigated", file=sys.stderr)
        return 2
    try:
        cp = write_checkpoint()
    except (CheckpointError, BlobStoreError) as exc:
        print(f"portal: audit checkpoint not written: {exc}", file=sys.stderr)
        return 2
    print("the audit chain is under the active key" + (f" (checkpoint at event {cp.seq})" if cp else ""))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Consistent copy of the embedded database and blob folder (keys not included), with a fresh
    signed audit checkpoint; 1 when the backup was written but the checkpoint could not be."""
    from patient_portal.core.backup import BackupError, backup

    if str(args.destination) == "verify":
        return cmd_backup_verify(args.folder)
    if args.folder is not None:
        print("portal: `portal backup DESTINATION` takes one folder (or `portal backup verify FOLDER`)",
              file=sys.stderr)
        return 2
    try:
        report = backup(args.destination)
    except BackupError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    from patient_portal.domain.operations.service import record_backup

    record_backup(Path(report.folder).name, report.blob_files)  # the health page's "last backup"
    print(f"backup written to {report.folder} ({report.database_bytes} bytes of database, "
          f"{report.blob_files} files) — the keys are not in it: keep them safe separately")
    if report.checkpoint is not None:
        print(f"audit checkpoint at event {report.checkpoint.seq} included")
    elif report.checkpoint_problem:
        print(f"portal: the backup has no audit checkpoint: {report.checkpoint_problem}", file=sys.stderr)
        return 1
    return 0


def cmd_backup_verify(folder: Path | None) -> int:
    """The restore drill: 0 when the backup would restore whole, 1 when something differs, 2 when it
    cannot be read at all."""
    from patient_portal.core.backup_drill import BackupError, verify

    if folder is None:
        print("portal: name the backup folder: `portal backup verify FOLDER`", file=sys.stderr)
        return 2
    try:
        report = verify(folder)
    except BackupError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    from patient_portal.domain.operations.service import record_backup_check

    record_backup_check(Path(report.folder).name, report.ok)  # the health page's "last verification"
    for problem in report.problems:
        print(f"portal: {problem}", file=sys.stderr)
    verdict = "restores whole" if report.ok else f"FAILED with {len(report.problems)} problem(s)"
    print(f"backup {report.folder.name} {verdict}: {report.tables} tables, {report.rows} rows, "
          f"{report.audit_events} audit events, {report.files} files checked in a scratch restore")
    return 0 if report.ok else 1


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a backup back (stop the app first)."""
    from patient_portal.core.backup import BackupError, restore

    try:
        report = restore(args.folder)
    except BackupError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    print(f"restored database and {report.blob_files} files from {report.folder}; run `portal audit verify`")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Patient Portal administration")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check-config", help="say what a production start is missing").set_defaults(fn=cmd_check_config)
    doctor = sub.add_parser("doctor", help="check configuration, database, migrations, storage, keys, mail, Redis, "
                            "the audit chain, the clock and the last dependency audit; a fix hint for each problem")
    doctor.add_argument("--dependencies", action="store_true",
                        help="audit the installed packages for published vulnerabilities first (needs PyPI)")
    doctor.set_defaults(fn=cmd_doctor)
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(fn=cmd_db_upgrade)
    seeding = sub.add_parser("seed", help="load the demo clinic (idempotent)")
    seeding.add_argument("--patients", type=int, default=None, metavar="N",
                         help="demo patient records in all (default 200; adds only those missing)")
    seeding.set_defaults(fn=cmd_seed)
    video = sub.add_parser("demo-video-visit", help="book the demo patient a video visit with her doctor, "
                           "starting in a few minutes (demo mode)")
    video.add_argument("--minutes", type=int, default=5, help="minutes from now to its start (default 5; "
                       "the doctor's nearest free time if they are booked then)")
    video.add_argument("--doctor", default="doctor@demo.clinic", metavar="EMAIL",
                       help="the doctor's account (default doctor@demo.clinic)")
    video.set_defaults(fn=cmd_demo_video_visit)
    sub.add_parser("demo-banner", help="print the demo accounts").set_defaults(fn=cmd_demo_banner)
    codes = sub.add_parser("codes", help="code tables").add_subparsers(dest="codes_command", required=True)
    load = codes.add_parser("load", help="load or update ICD-10-CM, CVX, LOINC vital signs and the formulary "
                            "(skips a set already loaded from the same source)")
    load.add_argument("--set", dest="sets", action="append", choices=["icd10cm", "cvx", "loinc", "loinc_lab", "formulary"],
                      help="only this set (repeatable; default all)")
    load.add_argument("--icd10-prefix", action="append", metavar="CODE",
                      help="only the ICD-10-CM codes starting with CODE (repeatable; small demos and tests)")
    load.add_argument("--cvx-file", type=Path, help="the CDC's current CVX table (pipe-delimited text) instead of "
                      "the shipped list")
    load.add_argument("--force", action="store_true", help="reload even when the source is unchanged")
    load.set_defaults(fn=cmd_codes_load)
    work = sub.add_parser("worker", help="send queued emails and other jobs (the app also does this "
                          "unless PORTAL_JOBS_IN_PROCESS=0)")
    work.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    work.set_defaults(fn=cmd_worker)
    sub.add_parser("prune-sessions", help="delete sign-in sessions that ended over 30 days ago "
                   "(sign-ins also do this hourly)").set_defaults(fn=cmd_prune_sessions)
    rotate = sub.add_parser("rotate-keys", help="re-encrypt data under the active key (batches, online)")
    rotate.add_argument("--batch", type=int, default=200)
    rotate.set_defaults(fn=cmd_rotate_keys)
    clean = sub.add_parser("cleanup", help="remove what the retention rules say is past its time "
                           "(used links, unfinished drafts, finished jobs, ended sessions, expired exports)")
    clean.add_argument("--dry-run", action="store_true", help="only count what would be removed")
    clean.set_defaults(fn=cmd_cleanup)
    back = sub.add_parser("backup", help="copy the embedded database (encrypted) and blob folder to a folder; "
                          "`portal backup verify FOLDER` runs a restore drill on a backup")
    back.add_argument("destination", type=Path, help="where to write the backup, or `verify`")
    back.add_argument("folder", type=Path, nargs="?", help="with `verify`: the backup to check")
    back.set_defaults(fn=cmd_backup)
    rest = sub.add_parser("restore", help="put a backup back (app stopped)")
    rest.add_argument("folder", type=Path)
    rest.set_defaults(fn=cmd_restore)
    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="walk the keyed chain and check it against the latest signed "
                     "checkpoint").set_defaults(fn=cmd_audit_verify)
    checkpoint = audit.add_parser("checkpoint", help="sign the chain's head and store it outside the database")
    checkpoint.add_argument("--force", action="store_true", help="check the whole chain instead of trusting the "
                            "previous checkpoint (after restoring an older backup on purpose)")
    checkpoint.set_defaults(fn=cmd_audit_checkpoint)
    billing = sub.add_parser("billing", help="claims and payments").add_subparsers(dest="billing_command", required=True)
    billing.add_parser("verify", help="prove every billing sum reconciles on the whole database").set_defaults(
        fn=cmd_billing_verify)
    storage = sub.add_parser("storage", help="blob store").add_subparsers(dest="storage_command", required=True)
    sweep = storage.add_parser("sweep", help="report orphaned document files and missing ones")
    sweep.add_argument("--delete", action="store_true", help="remove stored files that no document row uses")
    sweep.set_defaults(fn=cmd_storage_sweep)
    check = storage.add_parser("verify", help="read every stored document file back and check its frames, "
                               "length and SHA-256; report the ones that fail")
    check.add_argument("--batch", type=int, default=100, help="document versions read from the database at a time")
    check.add_argument("--workers", type=int, default=4, help="files checked in parallel")
    check.set_defaults(fn=cmd_storage_verify)
    create = sub.add_parser("create-user", help="create a sign-in account")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=["admin", "doctor", "staff", "patient"])
    create.add_argument("--name", required=True, help="the person's name as shown in the app")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(fn=cmd_create_user)
    unlock = sub.add_parser("unlock-user", help="lift a sign-in lockout")
    unlock.add_argument("email")
    unlock.set_defaults(fn=cmd_unlock_user)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
