"""The troubleshooting checks behind `portal doctor` and the system health page.

Each check is a plain function returning a ``Check``: what was looked at, whether it is fine, what
was found, and — when it is not — what to do, in words an IT admin can act on. A check never
raises (whatever goes wrong is its finding) and never shows a stack trace or patient data. They run
in order; the database ones are skipped with a plain line when the database does not answer, so
one broken part gives one clear line, not ten.

``run_all()`` is the list `portal doctor` prints and the health page shows.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from patient_portal.settings import get_settings

OK, WARN, FAIL = "ok", "warn", "fail"
#: More than this between this machine's clock and the database's: tokens, timeouts and the audit
#: trail's times disagree.
MAX_SKEW_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        """One line for a terminal: ``[FAIL] database: cannot connect … — fix: …``."""
        text = f"[{self.status.upper():4}] {self.name}: {self.detail}"
        return text + (f" — fix: {self.fix}" if self.fix and self.status != OK else "")


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except Exception as exc:  # a check reports, it never crashes the doctor
        return Check(name, FAIL, f"the check itself failed ({type(exc).__name__})",
                     "run `portal doctor` again; if it repeats, look at the application log")


def configuration() -> Check:
    problems = get_settings().problems_for_start()
    if problems:
        return Check("configuration", FAIL, "; ".join(problems), "set the variables named above and restart")
    s = get_settings()
    return Check("configuration", OK, f"{s.env} mode, {'PostgreSQL' if not s.is_sqlite else 'SQLite'} database")


def database() -> Check:
    from patient_portal.core import db

    try:
        db.ping()
    except Exception as exc:
        return Check("database", FAIL, f"cannot connect to the database ({type(exc).__name__})",
                     "check PORTAL_DATABASE_URL (host, port, name, user) and that the database server is running")
    return Check("database", OK, "connected")


def migration_state() -> tuple[str | None, str | None, list[str]]:
    """(revision the database is at, head of the shipped migrations, revisions still to apply)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from patient_portal.core.db import get_engine
    from patient_portal.core.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    with get_engine().connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    pending = [rev.revision for rev in script.iterate_revisions(head, current)] if head != current else []
    return current, head, list(reversed(pending))


def running_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("patient-portal")
    except PackageNotFoundError:
        return "unknown"


def migrations() -> Check:
    current, head, pending = migration_state()
    version = running_version()
    if current == head:
        return Check("migrations", OK, f"version {version}, database at the latest schema ({head})")
    return Check("migrations", FAIL,
                 f"version {version}, database at {current or 'no schema version'} but the latest is {head}: "
                 f"{len(pending)} migration(s) pending ({', '.join(pending[:5])})",
                 "take a backup, then run `portal db upgrade`")


def blob_store() -> Check:
    from patient_portal.core.storage import get_blob_store

    store = get_blob_store()
    key = f"doctor/{secrets.token_hex(8)}"
    payload = secrets.token_bytes(32)
    try:
        store.put(key, [payload])
        try:
            back = b"".join(store.get(key))
        finally:
            store.delete(key)
    except Exception as exc:
        return Check("blob store", FAIL, f"the {store.name} store cannot be written and read ({type(exc).__name__})",
                     "check PORTAL_S3_* (endpoint, bucket, keys) or that the instance blob folder is writable")
    if back != payload:
        return Check("blob store", FAIL, f"the {store.name} store returned different bytes than were written",
                     "the store is corrupting data: check the storage server or disk")
    return Check("blob store", OK, f"{store.name} store: written, read back and removed a test object")


def key_file() -> Check:
    s = get_settings()
    if s.master_keys:
        return Check("keys", OK, "encryption keys come from PORTAL_MASTER_KEYS")
    path = s.key_file
    if not path.exists():
        return Check("keys", WARN, f"no key file yet at {path} (it is created on first start)",
                     "start the app once, or set PORTAL_MASTER_KEYS")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("keys", FAIL, f"key file {path} is readable by other users (mode {mode:o})",
                     f"chmod 600 {path}")
    return Check("keys", OK, f"key file {path} is private (mode {mode:o})")


def mail_server() -> Check:
    s = get_settings()
    if not s.smtp_host:
        return Check("mail server", WARN, "no mail server configured: emails are written to the outbox folder",
                     "set PORTAL_SMTP_HOST and PORTAL_SMTP_PORT")
    try:
        cls = smtplib.SMTP_SSL if s.smtp_port == 465 else smtplib.SMTP
        with cls(s.smtp_host, s.smtp_port, timeout=3) as smtp:
            code, _ = smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return Check("mail server", FAIL, f"{s.smtp_host}:{s.smtp_port} does not answer ({type(exc).__name__})",
                     "check that the mail server runs and PORTAL_SMTP_HOST/PORTAL_SMTP_PORT point at it")
    if code != 250:
        return Check("mail server", FAIL, f"{s.smtp_host}:{s.smtp_port} answered {code}", "check the mail server")
    return Check("mail server", OK, f"{s.smtp_host}:{s.smtp_port} answers")


def redis() -> Check | None:
    s = get_settings()
    if not s.redis_url:
        return None
    try:
        import redis as redis_client

        redis_client.Redis.from_url(s.redis_url, socket_timeout=3, socket_connect_timeout=3).ping()
    except Exception as exc:
        return Check("redis", FAIL, f"Redis does not answer ({type(exc).__name__})",
                     "check REFLEX_REDIS_URL and that Redis runs")
    return Check("redis", OK, "answers")


def audit_chain() -> Check:
    """Incremental: from the latest signed checkpoint on (the whole chain when there is none yet);
    `portal audit verify` walks everything."""
    from patient_portal.core import audit_checkpoint
    from patient_portal.core.audit import walk_chain
    from patient_portal.core.db import read_only
    from patient_portal.core.storage import get_blob_store

    fix = "run `portal audit verify` for the full report, then investigate who changed the database"
    try:
        cp = audit_checkpoint.read(get_blob_store(), audit_checkpoint.LATEST)
    except audit_checkpoint.CheckpointInvalid as exc:
        return Check("audit chain", FAIL, str(exc), fix)
    with read_only() as session:
        if cp is not None:
            if audit_checkpoint.hash_at(session, cp.seq) != cp.hash:
                return Check("audit chain", FAIL, f"event {cp.seq} differs from the checkpoint of {cp.at}", fix)
            walk = walk_chain(session, after_seq=cp.seq, after_hash=cp.hash)
        else:
            walk = walk_chain(session)
    since = f"since the checkpoint at event {cp.seq}" if cp else "(no checkpoint yet: the whole chain)"
    if not walk.ok:
        return Check("audit chain", FAIL, walk.problems[0][1], fix)
    return Check("audit chain", OK, f"{walk.checked} events verified {since}")


def clock_skew() -> Check:
    from sqlalchemy import text

    from patient_portal.core.db import get_engine

    if get_settings().is_sqlite:
        return Check("clock", OK, "SQLite runs on this machine: one clock")
    with get_engine().connect() as conn:
        db_now = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    skew = abs((datetime.now(UTC) - db_now).total_seconds())
    if skew > MAX_SKEW_SECONDS:
        return Check("clock", FAIL, f"this machine's clock and the database's differ by {skew:.1f} s",
                     "enable time synchronization (NTP / chrony) on both machines")
    return Check("clock", OK, f"within {skew:.2f} s of the database's clock")


#: Free space on the instance folder's disk below which the check warns, and fails.
DISK_WARN, DISK_FAIL = 0.10, 0.02


def disk() -> Check:
    import shutil

    folder = get_settings().instance_dir
    probe = folder if folder.exists() else folder.parent
    usage = shutil.disk_usage(probe)
    free = usage.free / usage.total if usage.total else 1.0
    detail = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB ({free:.0%}) under {probe}"
    if free < DISK_FAIL:
        return Check("disk", FAIL, detail, "free space now: old backups, logs; or grow the disk")
    if free < DISK_WARN:
        return Check("disk", WARN, detail, "plan more space before it runs out")
    return Check("disk", OK, detail)


def stored_files(sample: int = 20) -> Check:
    """The newest stored document files read back, decrypt and match their rows' hashes."""
    from patient_portal.domain.documents.verify import verify_sample

    checked, failures = verify_sample(sample)
    if not checked:
        return Check("stored files", OK, "no document files stored yet")
    if failures:
        first = failures[0]
        return Check("stored files", FAIL, f"{len(failures)} of the {checked} newest stored files do not check out "
                     f"(document {first.document_id}, version {first.version}: {first.reason})",
                     "run `portal storage verify` over the whole store, then restore the failing files from a backup")
    return Check("stored files", OK, f"the {checked} newest stored files read back and match their records")


def orphans() -> Check:
    """Every document version's file is in the store, and every file there belongs to one."""
    from patient_portal.domain.documents.sweep import sweep

    report = sweep()
    if report.rows_without_blobs:
        return Check("orphans", FAIL, f"{len(report.rows_without_blobs)} document versions have no file in the store",
                     "`portal storage sweep` lists them; restore the files from a backup")
    if report.blobs_without_rows:
        return Check("orphans", WARN, f"{len(report.blobs_without_rows)} files in the store belong to no document "
                     "(left by a failed upload or purge; unreadable without their record)",
                     "`portal storage sweep --remove-orphans` deletes them")
    return Check("orphans", OK, f"all {report.checked_blobs} stored files belong to a document, and every "
                 "document's file is there")


def access_matrix() -> Check:
    """The permission sets in the database against the policy: each names a known role and only
    known capabilities, an admin set keeps user management, and each holder has the set's role."""
    from sqlmodel import select

    from patient_portal.core.access import Role
    from patient_portal.core.capabilities import BY_KEY, REQUIRED, SET_ROLES
    from patient_portal.core.db import read_only
    from patient_portal.domain.identity.models import PermissionSet, User

    problems = []
    with read_only() as session:
        sets = session.exec(select(PermissionSet)).all()
        for row in sets:
            if row.role not in {r.value for r in SET_ROLES}:
                problems.append(f"set {row.name!r} is for an unknown role {row.role!r}")
                continue
            unknown = sorted(set(row.capabilities) - BY_KEY.keys())
            if unknown:
                problems.append(f"set {row.name!r} names unknown capabilities {unknown}")
            missing = REQUIRED.get(Role(row.role), frozenset()) - set(row.capabilities)
            if missing:
                problems.append(f"admin set {row.name!r} lacks {sorted(missing)}")
        roles = {row.id: row.role for row in sets}
        holders = session.exec(select(User.role, User.permission_set_id).where(
            User.permission_set_id.isnot(None))).all()  # type: ignore[union-attr]
        wrong = sum(1 for role, set_id in holders if roles.get(set_id) not in (None, role))
    if wrong:
        problems.append(f"{wrong} accounts hold a permission set of another role")
    if problems:
        return Check("access matrix", FAIL, "; ".join(problems[:3]),
                     "fix the permission sets on Admin → Permissions (a set never grants more than its role)")
    return Check("access matrix", OK, f"{len(sets)} permission sets agree with the roles' permissions")


def run_all() -> list[Check]:
    """Every check, in order; the database-bound ones only when the database answers."""
    results = [_guard("configuration", configuration)]
    db_check = _guard("database", database)
    results.append(db_check)
    if db_check.failed:
        skipped = "skipped: the database does not answer"
        results += [Check(name, FAIL, skipped, "fix the database connection first")
                    for name in ("migrations", "audit chain", "clock")]
    else:
        results += [_guard("migrations", migrations), _guard("audit chain", audit_chain),
                    _guard("clock", clock_skew), _guard("access matrix", access_matrix)]
    results += [_guard("blob store", blob_store), _guard("keys", key_file), _guard("mail server", mail_server),
                _guard("disk", disk)]
    if not db_check.failed:
        results += [_guard("stored files", stored_files), _guard("orphans", orphans)]
    redis_check = _guard("redis", redis)
    if redis_check is not None:
        results.append(redis_check)
    from patient_portal.domain.operations import dependencies  # it builds on Check

    results.append(_guard("dependencies", dependencies.check))
    return results


def key_age_days() -> int | None:
    """Days since the key file was written (None: keys from the environment, or no file)."""
    s = get_settings()
    if s.master_keys or not s.key_file.exists():
        return None
    return int((datetime.now(UTC).timestamp() - os.path.getmtime(s.key_file)) // 86400)
