"""Write a code set into the tables in bulk, idempotently.

A set whose stored fingerprint matches its source is skipped without reading further. Otherwise,
in one transaction: the set's word index is dropped, its concepts are replaced (a code the source no
longer has stays, marked inactive, so a record holding it still shows its name), and the index is
written again. Rows go in by COPY on PostgreSQL and by executemany on SQLite (the full ICD-10-CM,
98,000 concepts and ~760,000 index rows, takes seconds, not minutes; README "Code sets" has figures).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlmodel import Session

from patient_portal.core.db import utcnow
from patient_portal.domain.codes import text
from patient_portal.domain.codes.models import CodeConcept, CodeSet, CodeToken
from patient_portal.domain.codes.sources import Source, dumps

_NAMESPACE = uuid.UUID("6f1f9b0e-3c1d-5b8e-9a65-0c0de5e70000")
BATCH = 5000


def _id_space(spec: Any) -> str:
    """The system a set's concept ids hang off: its system URI, or for a second set of the same
    system (LOINC's laboratory tests beside the vital signs; one code may be in both) its key."""
    from patient_portal.domain.codes.sources import BY_SYSTEM

    return spec.system if BY_SYSTEM.get(spec.system) is spec else f"{spec.system}#{spec.key}"


def concept_id(system: str, code: str) -> uuid.UUID:
    """The same id for the same code on every load and every database."""
    return uuid.uuid5(_NAMESPACE, f"{system}|{code}")


@dataclass(frozen=True)
class LoadReport:
    key: str
    concepts: int
    tokens: int
    retired: int
    skipped: bool
    seconds: float
    source: str

    def summary(self) -> str:
        if self.skipped:
            return f"{self.key}: up to date ({self.concepts} codes, {self.source})"
        retired = f", {self.retired} retired codes kept as inactive" if self.retired else ""
        return (f"{self.key}: loaded {self.concepts} codes and {self.tokens} index words in "
                f"{self.seconds:.1f} s{retired} ({self.source})")


def is_current(session: Session, key: str, fingerprint: str) -> CodeSet | None:
    """The stored set when it was loaded from exactly this source, else None."""
    row = session.get(CodeSet, key)
    return row if row is not None and row.fingerprint == fingerprint else None


def load(session: Session, source: Source, *, force: bool = False) -> LoadReport:
    """Bring one code set in line with `source` in the caller's transaction."""
    started = time.perf_counter()
    spec = source.spec
    stored = None if force else is_current(session, spec.key, source.fingerprint)
    if stored is not None:
        return LoadReport(spec.key, stored.concepts, 0, 0, True, time.perf_counter() - started, stored.source)
    conn = session.connection()
    concepts, tokens = _rows(source)
    new_codes = {row["code"] for row in concepts}
    existing = dict(conn.execute(select(CodeConcept.code, CodeConcept.id).where(CodeConcept.code_set == spec.key)).all())
    retired = [cid for code, cid in existing.items() if code not in new_codes]
    conn.execute(delete(CodeToken).where(CodeToken.code_set == spec.key))
    if retired:
        kept = set(retired)
        for chunk in _chunks([cid for cid in existing.values() if cid not in kept], 500):
            conn.execute(delete(CodeConcept).where(CodeConcept.id.in_(chunk)))
        for chunk in _chunks(retired, 500):
            conn.execute(update(CodeConcept).where(CodeConcept.id.in_(chunk))
                         .values(active=False, updated_at=utcnow()))
    else:
        conn.execute(delete(CodeConcept).where(CodeConcept.code_set == spec.key))
    _insert(conn, CodeConcept.__table__, concepts)
    _insert(conn, CodeToken.__table__, tokens)
    row = session.get(CodeSet, spec.key) or CodeSet(key=spec.key, system=spec.system, source="", fingerprint="")
    row.system, row.source, row.fingerprint = spec.system, source.source, source.fingerprint
    row.concepts, row.loaded_at = len(concepts), utcnow()
    session.add(row)
    session.flush()
    if conn.dialect.name == "postgresql":  # fresh statistics, so the planner sees the new index rows
        conn.exec_driver_sql("ANALYZE code_concept, code_token")
    return LoadReport(spec.key, len(concepts), len(tokens), len(retired), False,
                      time.perf_counter() - started, source.source)


def _rows(source: Source) -> tuple[list[dict[str, Any]], list[tuple]]:
    """The concept rows and word-index rows of a source, ranked by each row's tier and ``order``.
    Index rows are tuples in the table's column order (there are ~8 per concept)."""
    now = utcnow()
    spec = source.spec
    concepts: list[dict[str, Any]] = []
    tokens: list[tuple] = []
    for rank, row in enumerate(sorted(source.rows, key=lambda r: (r.tier, r.order))):
        cid = concept_id(_id_space(spec), row.code)
        searchable = text.search_text(row.display, row.terms)
        concepts.append({"id": cid, "created_at": now, "updated_at": now, "code_set": spec.key,
                         "system": spec.system, "code": row.code, "code_key": text.code_key(row.code),
                         "display": row.display, "search_text": searchable, "tier": row.tier, "rank": rank,
                         "selectable": row.selectable, "active": True, "extra": row.extra})
        for word in searchable.split():
            tokens.append((spec.key, word, rank, cid))
    tokens.sort(key=lambda row: (row[1], row[2]))  # the key's order: appends to the index, not random inserts
    return concepts, tokens


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert(conn: Connection, table: Any, rows: Sequence[dict[str, Any] | tuple]) -> None:
    """Bulk insert of dicts by column name or tuples in column order: COPY on PostgreSQL (psycopg 3);
    elsewhere the driver's executemany, each value converted by its column type's own bind processor
    (a UUID or a timestamp is stored exactly as the ORM stores it), in batches. SQLAlchemy's own
    executemany costs several times more per row."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    as_tuples = (lambda row: row) if isinstance(rows[0], tuple) else (lambda row: tuple(row[c] for c in columns))
    if conn.dialect.name == "postgresql":
        json_at = {i for i, c in enumerate(table.columns) if c.name == "extra"}
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                values = as_tuples(row)
                copy.write_row([dumps(v) if i in json_at else v for i, v in enumerate(values)] if json_at else values)
        return
    convert = [(i, fn) for i, c in enumerate(table.columns) if (fn := c.type._cached_bind_processor(conn.dialect))]
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" for _ in columns)})'  # noqa: S608 - names from the metadata

    def converted(row: Any) -> tuple:
        values = list(as_tuples(row))
        for i, fn in convert:
            values[i] = fn(values[i])
        return tuple(values)

    cursor = raw.cursor()
    try:
        for chunk in _chunks(rows, BATCH):
            cursor.executemany(sql, [converted(row) for row in chunk])
    finally:
        cursor.close()
