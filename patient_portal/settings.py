"""Every setting, read from PORTAL_* environment variables, with safe embedded defaults.

Nothing here touches the disk or the network at import time; `get_settings()` reads the
environment once and `Settings.validate_for_start()` says what production is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one portal process."""

    env: str = "demo"
    instance_dir: Path = field(default_factory=lambda: Path("instance").resolve())
    database_url: str = ""
    allow_sqlite_in_production: bool = False
    master_keys: str = ""  # "kid:base64key,kid2:base64key" — first is the active key
    public_url: str = "http://localhost:3000"
    demo_accounts: bool = True
    require_mfa: bool = False
    clinic_timezone: str = "UTC"
    clinic_name: str = "Demo Clinic"  # printed on prescriptions (PORTAL_CLINIC_NAME)
    clinic_address: str = "12 Harbor Street, Boston, MA 02110"  # PORTAL_CLINIC_ADDRESS
    clinic_phone: str = "+1 617 555 0100"  # PORTAL_CLINIC_PHONE: what emergency contacts are asked to call
    #: PORTAL_EMERGENCY_ACK_MINUTES: how long an emergency contact has to acknowledge before the next
    #: one is notified (fractions allowed: the tests wait seconds)
    emergency_ack_minutes: float = 10.0
    emergency_link_hours: int = 24  # PORTAL_EMERGENCY_LINK_HOURS: how long an acknowledgement link works
    #: PORTAL_MESSAGE_RESPONSE_HOURS: the clinic's expected response time to a patient's message; a
    #: thread waiting longer is overdue (it stands out in the triage pool and the doctor's inbox)
    message_response_hours: int = 48
    phone_region: str = "US"
    max_upload_bytes: int = 25 * 1024 * 1024
    document_purge_after_days: int = 30
    #: how long break-the-glass access lasts (PORTAL_EMERGENCY_ACCESS_MINUTES), and whether the
    #: patient is emailed when it ends (PORTAL_EMERGENCY_ACCESS_TELL_PATIENT)
    emergency_access_minutes: int = 60
    emergency_access_tell_patient: bool = True
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    hash_workers: int = max(1, (os.cpu_count() or 2) // 2)
    session_idle_seconds: int = 15 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "portal@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    jobs_in_process: bool = True
    audit_checkpoint_seconds: int = 60  # how often the job worker signs an audit checkpoint (0: never)
    #: scheduled backups (core.backup_schedule): where ("" turns them off), how often, how many to keep
    backup_dir: str = ""
    backup_every_hours: float = 24.0
    backup_keep: int = 7
    trusted_proxy_hops: int = 0
    redis_url: str = ""  # REFLEX_REDIS_URL: Reflex keeps each user's on-screen state there
    #: REFLEX_STATE_MANAGER_MODE when set (memory, disk or redis); otherwise chosen by the topology
    state_manager_override: str = ""
    #: GRANIAN_WORKERS: app processes (Reflex's default: one without Redis)
    app_workers: int = 1
    #: Single sign-on for admins, doctors and staff through an outside OpenID Connect provider
    #: (PORTAL_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET); off while the issuer is empty.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_label: str = "Sign in with your organization"
    #: PORTAL_METRICS_TOKEN: the bearer token a Prometheus scraper sends to /metrics (unset: no /metrics)
    metrics_token: str = ""
    #: PORTAL_PUSH_HOSTS: push services allowed besides the browsers' own (comma-separated host names;
    #: a loopback one may use http — the tests' local push service)
    push_hosts: str = ""
    #: PORTAL_VAPID_KEY_FILE: the Web Push signing key (PEM); default instance/vapid_private.pem, made on
    #: first use. Every app and worker process must use the same file (subscriptions are tied to it).
    vapid_key_file: str = ""
    #: PORTAL_VIDEO_ICE_SERVERS: the STUN/TURN servers video visits' browsers use, a JSON list of
    #: RTCIceServer objects ({"urls": ..., "username": ..., "credential": ...}); empty: none (one machine, a LAN)
    video_ice_servers: str = ""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: the configured one, else a SQLite file in the instance folder."""
        return self.database_url or f"sqlite:///{self.instance_dir / 'portal.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def blob_dir(self) -> Path:
        return self.instance_dir / "blobs"

    @property
    def key_file(self) -> Path:
        return self.instance_dir / "keys.txt"

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_bucket)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def state_manager_mode(self) -> str:
        """Where Reflex keeps each open tab's UI state (what it shows: a chart, a list ...).

        * ``redis`` when REFLEX_REDIS_URL is set: several app processes (GRANIAN_WORKERS, several
          hosts) must share it, since a tab's events may reach any of them.
        * ``memory`` otherwise: one process holds every tab's state in its own memory. Reflex's own
          default, ``disk``, keeps the same states in memory *and* pickles every change to
          ``.web/backend/states``, and its write loop lists and stats every state file on each pass
          (issue 11 §7: about half of the app's CPU at 50 people); nothing reads those files back
          except a restart, after which every tab hydrates afresh anyway.

        REFLEX_STATE_MANAGER_MODE overrides the choice (rxconfig.py passes this value to Reflex)."""
        mode = self.state_manager_override.strip().lower()
        if mode in ("memory", "disk", "redis"):
            return mode
        return "redis" if self.redis_url else "memory"

    def topology_problems(self) -> list[str]:
        """Combinations that break in any environment (demo included)."""
        problems = []
        if self.state_manager_override and self.state_manager_mode != self.state_manager_override.strip().lower():
            problems.append("REFLEX_STATE_MANAGER_MODE must be memory, disk or redis")
        if self.app_workers > 1 and self.state_manager_mode != "redis":
            problems.append(f"GRANIAN_WORKERS={self.app_workers} needs REFLEX_REDIS_URL (UI state in Redis): with "
                            f"the {self.state_manager_mode} state manager each process keeps its own tabs, and a "
                            "tab's events may reach another process")
        if self.state_manager_mode == "redis" and not self.redis_url:
            problems.append("REFLEX_STATE_MANAGER_MODE=redis needs REFLEX_REDIS_URL")
        return problems

    def problems_for_start(self) -> list[str]:
        """What stops this configuration from starting; empty when it may start."""
        problems = self.topology_problems()
        if not self.production:
            return problems
        if self.demo_accounts:
            problems.append("PORTAL_DEMO_ACCOUNTS must be off in production (set PORTAL_DEMO_ACCOUNTS=0)")
        if self.is_sqlite and not self.allow_sqlite_in_production:
            problems.append(
                "PORTAL_DATABASE_URL must name a PostgreSQL database in production "
                "(or set PORTAL_ALLOW_SQLITE=1 to accept SQLite)"
            )
        if not self.master_keys:
            problems.append("PORTAL_MASTER_KEYS must supply the encryption keys in production")
        if not self.smtp_host:
            problems.append("PORTAL_SMTP_HOST must name a mail server in production (password-reset links "
                            "are sent by email)")
        if self.redis_url and not _tls_or_this_host(self.redis_url):
            problems.append("REFLEX_REDIS_URL must use TLS (rediss://...) unless Redis runs on this host: it "
                            "holds what people see on screen, patient data included")
        return problems


def _tls_or_this_host(url: str) -> bool:
    """Is the connection encrypted, or does it never leave this machine?"""
    parts = urlsplit(url)
    return parts.scheme in ("rediss", "unix") or (parts.hostname or "") in ("localhost", "127.0.0.1", "::1")


def load_settings() -> Settings:
    """Read the environment into a fresh Settings."""
    env = os.environ.get("PORTAL_ENV", "demo").strip().lower() or "demo"
    production = env == "production"
    return Settings(
        env=env,
        instance_dir=Path(os.environ.get("PORTAL_INSTANCE_DIR", "instance")).resolve(),
        database_url=os.environ.get("PORTAL_DATABASE_URL", ""),
        allow_sqlite_in_production=_bool("PORTAL_ALLOW_SQLITE", False),
        master_keys=os.environ.get("PORTAL_MASTER_KEYS", ""),
        public_url=os.environ.get("PORTAL_PUBLIC_URL", "http://localhost:3000").rstrip("/"),
        demo_accounts=_bool("PORTAL_DEMO_ACCOUNTS", not production),
        require_mfa=_bool("PORTAL_REQUIRE_MFA", production),
        clinic_timezone=os.environ.get("PORTAL_TIMEZONE", "UTC"),
        clinic_name=os.environ.get("PORTAL_CLINIC_NAME", "Demo Clinic"),
        clinic_address=os.environ.get("PORTAL_CLINIC_ADDRESS", "12 Harbor Street, Boston, MA 02110"),
        clinic_phone=os.environ.get("PORTAL_CLINIC_PHONE", "+1 617 555 0100"),
        emergency_ack_minutes=max(0.01, _float("PORTAL_EMERGENCY_ACK_MINUTES", 10.0)),
        emergency_link_hours=max(1, _int("PORTAL_EMERGENCY_LINK_HOURS", 24)),
        message_response_hours=min(24 * 14, max(1, _int("PORTAL_MESSAGE_RESPONSE_HOURS", 48))),
        phone_region=(os.environ.get("PORTAL_PHONE_REGION") or "US").upper(),
        max_upload_bytes=_int("PORTAL_MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        document_purge_after_days=_int("PORTAL_DOCUMENT_PURGE_AFTER_DAYS", 30),
        emergency_access_minutes=min(24 * 60, max(1, _int("PORTAL_EMERGENCY_ACCESS_MINUTES", 60))),
        emergency_access_tell_patient=_bool("PORTAL_EMERGENCY_ACCESS_TELL_PATIENT", True),
        s3_endpoint_url=os.environ.get("PORTAL_S3_ENDPOINT_URL", ""),
        s3_bucket=os.environ.get("PORTAL_S3_BUCKET", ""),
        s3_region=os.environ.get("PORTAL_S3_REGION", "us-east-1"),
        s3_access_key_id=os.environ.get("PORTAL_S3_ACCESS_KEY_ID", ""),
        s3_secret_access_key=os.environ.get("PORTAL_S3_SECRET_ACCESS_KEY", ""),
        hash_workers=max(1, _int("PORTAL_HASH_WORKERS", max(1, (os.cpu_count() or 2) // 2))),
        session_idle_seconds=_int("PORTAL_SESSION_IDLE_SECONDS", 15 * 60),
        session_absolute_seconds=_int("PORTAL_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60),
        smtp_host=os.environ.get("PORTAL_SMTP_HOST", ""),
        smtp_port=_int("PORTAL_SMTP_PORT", 25),
        smtp_sender=os.environ.get("PORTAL_SMTP_SENDER", "portal@localhost"),
        smtp_username=os.environ.get("PORTAL_SMTP_USERNAME", ""),
        smtp_password=os.environ.get("PORTAL_SMTP_PASSWORD", ""),
        smtp_starttls=_bool("PORTAL_SMTP_STARTTLS", _int("PORTAL_SMTP_PORT", 25) == 587),
        jobs_in_process=_bool("PORTAL_JOBS_IN_PROCESS", True),
        audit_checkpoint_seconds=max(0, _int("PORTAL_AUDIT_CHECKPOINT_SECONDS", 60)),
        backup_dir=os.environ.get("PORTAL_BACKUP_DIR", ""),
        backup_every_hours=max(0.0, _float("PORTAL_BACKUP_EVERY_HOURS", 24.0)),
        backup_keep=max(1, _int("PORTAL_BACKUP_KEEP", 7)),
        trusted_proxy_hops=max(0, _int("PORTAL_TRUSTED_PROXY_HOPS", 0)),
        redis_url=os.environ.get("REFLEX_REDIS_URL", ""),
        state_manager_override=os.environ.get("REFLEX_STATE_MANAGER_MODE", ""),
        app_workers=max(1, _int("GRANIAN_WORKERS", 1)),
        oidc_issuer=os.environ.get("PORTAL_OIDC_ISSUER", "").rstrip("/"),
        oidc_client_id=os.environ.get("PORTAL_OIDC_CLIENT_ID", ""),
        oidc_client_secret=os.environ.get("PORTAL_OIDC_CLIENT_SECRET", ""),
        oidc_label=os.environ.get("PORTAL_OIDC_LABEL", "Sign in with your organization"),
        metrics_token=os.environ.get("PORTAL_METRICS_TOKEN", ""),
        push_hosts=os.environ.get("PORTAL_PUSH_HOSTS", ""),
        vapid_key_file=os.environ.get("PORTAL_VAPID_KEY_FILE", ""),
        video_ice_servers=os.environ.get("PORTAL_VIDEO_ICE_SERVERS", ""),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()


#: What reset_settings() also forgets: each module that caches something built from the settings
#: (core.db's engine, core.crypto's key ring, core.storage's store) registers its reset here when it
#: is imported, so settings imports nothing of core (a module never imported has nothing to forget).
_RESETS: list[Callable[[], None]] = []


def on_reset(reset: Callable[[], None]) -> Callable[[], None]:
    """Run `reset` on every reset_settings() (a decorator; registering twice runs it once)."""
    if reset not in _RESETS:
        _RESETS.append(reset)
    return reset


def reset_settings() -> None:
    """Forget cached settings and everything built from them (tests, CLI)."""
    get_settings.cache_clear()
    for reset in list(_RESETS):
        reset()
