"""``llmcost export --csv/--sqlite`` with targets that cannot be written: one line, the right exit code, and the
target as it was (nothing created, a database never half-written)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from llmcost.cli import main
from tests._traces import T0, day_file, rec, write


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write(day_file(tmp_path / "logs", T0), [rec(T0 + i, agent=f"a{i}") for i in range(5)])
    return tmp_path / "logs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("flag", ["--csv", "--sqlite"])
def test_a_target_in_a_missing_directory_is_one_line_exit_2(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    target = tmp_path / "no-such-dir" / "calls.out"
    code, out, err = run(capsys, "export", str(logs), flag, str(target))
    assert (code, out) == (2, "")
    assert err == f"llmcost export: error: cannot write {target}: no such directory {target.parent}\n"
    assert not target.parent.exists()


@pytest.mark.parametrize("flag", ["--csv", "--sqlite"])
def test_a_directory_as_target_is_one_line_exit_2(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    code, _, err = run(capsys, "export", str(logs), flag, str(tmp_path))
    assert code == 2
    assert err == f"llmcost export: error: cannot write {tmp_path}: it is a directory\n"


def test_a_file_that_is_not_a_database_is_left_alone(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    code, _, err = run(capsys, "export", str(logs), "--sqlite", str(notes))
    assert code == 2
    assert (
        err == f"llmcost export: error: {notes} is not a SQLite database (--sqlite adds to a database or creates one)\n"
    )
    assert notes.read_text() == "my notes\n"


def test_a_database_that_cannot_take_the_rows_keeps_what_it_had(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE calls (note TEXT)")  # someone else's table of the same name
        con.execute("INSERT INTO calls VALUES ('keep me')")
    con.close()
    code, _, err = run(capsys, "export", str(logs), "--sqlite", str(db))
    assert code == 1  # the target was fine to open; writing failed
    assert err.startswith(f"llmcost export: error: cannot write {db}: ")
    assert err.count("\n") == 1
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT * FROM calls").fetchall() == [("keep me",)]
        assert con.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == []
    finally:
        con.close()


@pytest.mark.parametrize("flag", ["--csv", "--sqlite"])
def test_a_full_disk_is_one_line_exit_1(logs: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    code, _, err = run(capsys, "export", str(logs), flag, "/dev/full")
    if flag == "--csv":  # a CSV may go to a device: it is written, and the device fails
        assert (code, err) == (1, "llmcost export: error: cannot write /dev/full: No space left on device\n")
    else:
        assert (code, err) == (2, "llmcost export: error: cannot write /dev/full: a database must be a regular file\n")


def test_csv_to_standard_output(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "export", str(logs), "--csv", "-")
    assert code == 0
    assert [row["agent"] for row in csv.DictReader(io.StringIO(out))] == ["a0", "a1", "a2", "a3", "a4"]
    assert err == "5 calls written to standard output\n"
    assert not (tmp_path / "-").exists()
    assert not Path("-").exists()


def test_sqlite_needs_a_file(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", str(logs), "--sqlite", "-")
    assert (code, err) == (2, "llmcost export: error: --sqlite: a database needs a file, not standard output\n")
    assert not Path("-").exists()
