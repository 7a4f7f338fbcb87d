"""Export records to CSV (spreadsheets) or SQLite (SQL), one row per call."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Iterable
from typing import Any, TextIO

import msgspec

from llmcost.log import Record

__all__ = ["COLUMNS", "export_csv", "export_sqlite"]

COLUMNS: tuple[str, ...] = tuple(f for f in Record.__struct_fields__)
_JSON_COLUMNS = frozenset({"tags", "metadata"})


def _row(r: Record) -> list[Any]:
    out: list[Any] = []
    for name in COLUMNS:
        value = getattr(r, name)
        if name in _JSON_COLUMNS and value is not None:
            value = json.dumps(value, separators=(",", ":"), sort_keys=True)
        out.append(value)
    return out


def export_csv(batches: Iterable[list[Record]], path: str | os.PathLike[str] | TextIO) -> int:
    """Write every record as a CSV row (header: the wire-format keys) to a file or an open text stream (``sys.stdout``,
    left open); returns the number of rows."""
    if not isinstance(path, (str, os.PathLike)):
        return _write_csv(batches, path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        return _write_csv(batches, f)


def _write_csv(batches: Iterable[list[Record]], f: TextIO) -> int:
    n = 0
    writer = csv.writer(f)
    writer.writerow(COLUMNS)
    for batch in batches:
        writer.writerows(_row(r) for r in batch)
        n += len(batch)
    return n


def _column_type(name: str) -> str:
    hints = msgspec.structs.fields(Record)
    for f in hints:
        if f.name == name:
            text = str(f.type)
            if "int" in text and "str" not in text:
                return "INTEGER"
            if "float" in text:
                return "REAL"
            if "bool" in text:
                return "INTEGER"
    return "TEXT"


def export_sqlite(batches: Iterable[list[Record]], path: str | os.PathLike[str]) -> int:
    """Write every record into table ``calls`` (plus ``model`` and ``epoch`` columns), indexed by time, model,
    agent and user; an existing file gets the rows added (duplicate ids are ignored). Returns the rows written."""
    columns = [*COLUMNS, "model", "epoch"]
    decls = [f"{c} {_column_type(c)}" for c in COLUMNS] + ["model TEXT", "epoch REAL"]
    decls[COLUMNS.index("id")] = "id TEXT PRIMARY KEY"
    insert = f"INSERT OR IGNORE INTO calls ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    from llmcost.log import epoch

    con = sqlite3.connect(os.fspath(path))
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS calls ({', '.join(decls)})")
        for name, cols in (("ts", "epoch"), ("model", "model"), ("agent", "agent"), ("user", "user_id")):
            con.execute(f"CREATE INDEX IF NOT EXISTS calls_{name} ON calls ({cols})")
        before = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        for batch in batches:
            rows = []
            for r in batch:
                try:
                    t: float | None = epoch(r.ts)
                except ValueError:
                    t = None
                rows.append([*_row(r), r.response_model or r.request_model, t])
            con.executemany(insert, rows)
        con.commit()
        after: int = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        return after - int(before)
    finally:
        con.close()
