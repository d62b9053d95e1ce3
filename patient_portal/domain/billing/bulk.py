"""Writing many plain rows at once (a billing run, an 835 of 5,000 claim payments): ``insert`` and
``update`` of rows given as dicts of column values, in the caller's transaction.

On PostgreSQL an ``insert`` is one COPY and an ``update`` one UPDATE joined to the new values sent
as arrays (``unnest``): psycopg sends an executemany as one statement a row (pipelined), and at
thousands of rows the statements themselves were most of the time; multi-row INSERTs were slower
still (SQLAlchemy compiles each statement of thousands of parameters anew). Elsewhere (SQLite) both
are an executemany. Values are what the columns hold: encrypted columns already encrypted
(``service._sealed``); JSON columns are serialized here as SQLAlchemy's JSON type would.
Nothing here reads or writes ORM state: callers expire what they hold (``service._expire``).
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, Table, bindparam
from sqlmodel import Session


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (each with the same keys) into `table`."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    as_json = [n in _json_columns(table) for n in names]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names)))
    with conn.connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if j else row[n] for n, j in zip(names, as_json, strict=True)])


def update(session: Session, table: Table, rows: list[dict[str, Any]], columns: tuple[str, ...], *,
           only_if_null: str | None = None) -> int:
    """Set `columns` of each row of `table` whose ``id`` is a row's "id" to that row's values (only
    where column `only_if_null` is still NULL, when given): the number of rows changed."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        stmt = table.update().where(table.c.id == bindparam("b_id")).values(
            {c: bindparam(f"b_{c}") for c in columns})
        if only_if_null:
            stmt = stmt.where(table.c[only_if_null].is_(None))
        return conn.execute(stmt, [{"b_id": r["id"], **{f"b_{c}": r[c] for c in columns}} for r in rows]).rowcount
    json_cols = _json_columns(table)
    names = ("id", *columns)
    types = ["TEXT" if n in json_cols else table.c[n].type.compile(conn.dialect) for n in names]
    query = sql.SQL("UPDATE {t} AS t SET {sets} FROM unnest({arrays}) AS v({names}) WHERE t.id = v.id{only}").format(
        t=sql.Identifier(table.name),
        only=sql.SQL(" AND t.{} IS NULL").format(sql.Identifier(only_if_null)) if only_if_null else sql.SQL(""),
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = v.{c}" + ("::json" if c in json_cols else "")).format(c=sql.Identifier(c)) for c in columns),
        arrays=sql.SQL(", ").join(sql.SQL("%s::" + t + "[]") for t in types),
        names=sql.SQL(", ").join(map(sql.Identifier, names)))
    params = [[json.dumps(r[n]) if n in json_cols else r[n] for r in rows] for n in names]
    with conn.connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.rowcount
