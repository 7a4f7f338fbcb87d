"""The keyed table draws body cells itself (cached per cell): every cell must look exactly as ``DataTable`` draws it,
and a cell is drawn again only when its text, its row position or its highlight changed."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable

from tui._table import Cell, KeyedTable

CELLS: list[Any] = [  # DataTable takes any value; ours are Text or str
    None,
    "",
    0,
    1.5,
    "plain",
    "[bold]markup[/]",
    "[red]a[/red] b",
    "日本語テキスト",
    "x" * 40,
    Text("right", justify="right"),
    Text("left", justify="left"),
    Text("center", justify="center"),
    Text("ell" * 20, overflow="ellipsis"),
    Text("ell" * 20, overflow="ellipsis", justify="right"),
    Text.assemble(("a", "bold"), " ", ("b", "red")),
    Text.assemble(("a", "bold"), " b  ", justify="right"),
    Text.assemble(("aaaa", "bold"), " bbbbbbbbbbbbbbbbbbbbbbb", justify="left"),
    Text("  trailing   ", justify="right"),
    Text("styled", style="bold reverse red"),
    Text("日本語テキスト日本語", justify="right"),
    Text("wraps", no_wrap=False),
    Text("crop" * 10, overflow="crop"),
    Text("two\nlines"),
    "a\tb",
]


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable()


def _chars(lines: list[list[Segment]]) -> list[tuple[str, Style | None]]:
    return [(ch, segment.style) for segment in lines[0] for ch in segment.text]


def _theirs(table: KeyedTable, row: int, column: int, style: Style, width: int, cursor: bool) -> list[list[Segment]]:
    table._cell_render_cache.clear()  # DataTable's own cache does not key on the width
    return DataTable._render_cell(table, row, column, style, width, cursor, False)


def _ours(table: KeyedTable, row: int, column: int, style: Style, width: int, cursor: bool) -> list[list[Segment]]:
    table._cell_render_cache.clear()
    return table._render_cell(row, column, style, width, cursor, False)


async def test_every_cell_is_drawn_as_datatable_draws_it() -> None:
    app = _Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns(
            [("key", "key"), ("auto", "auto"), ("narrow", "narrow"), ("tiny", "t")], {"narrow": 6, "tiny": 2}
        )
        table.sync([(f"r{i}", [f"k{i}", cell, cell, cell]) for i, cell in enumerate(CELLS)])
        await pilot.pause()
        different = []
        for row in range(-1, table.row_count):  # -1: the header
            style = table._get_row_style(row, table.rich_style)
            for column, spec in enumerate(table.ordered_columns):
                for width in (spec.get_render_width(table), 5, 2, 1):
                    for cursor in (False, True):
                        ours = _chars(_ours(table, row, column, style, width, cursor))
                        if ours != _chars(_theirs(table, row, column, style, width, cursor)):
                            different.append((row, column, width, cursor))
        assert different == []


async def test_a_cell_is_drawn_again_only_when_it_changed() -> None:
    app = _Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name"), ("calls", "calls")])
        table.sync([("a", ["a", "1"]), ("b", ["b", "2"])])
        await pilot.pause()
        before = {key: drawn[2] for key, drawn in table._drawn.items()}
        table.sync([("a", ["a", "1"]), ("b", ["b", "3"])])
        await pilot.pause()
        kept = [f"{r.value}/{c.value}" for (r, c), drawn in table._drawn.items() if drawn[2] is before.get((r, c))]
        assert sorted(kept) == ["None/calls", "None/name", "a/calls", "a/name", "b/name"]  # None: the header


class _Pair(App[None]):
    """The keyed table beside a plain ``DataTable`` holding the same cells."""

    def compose(self) -> ComposeResult:
        yield KeyedTable(id="ours")
        yield DataTable[Any](id="theirs", cursor_type="row", zebra_stripes=True)


def _screen_lines(table: DataTable[Any]) -> list[list[tuple[str, Style | None]]]:
    width, height = table.size
    strips = table.render_lines(Region(0, 0, width, height))
    return [[(ch, segment.style) for segment in strip for ch in segment.text] for strip in strips]


async def test_whole_lines_look_as_datatable_draws_them_with_the_cursor_anywhere() -> None:
    app = _Pair()
    async with app.run_test(size=(100, 80)) as pilot:
        ours, theirs = app.query_one("#ours", KeyedTable), app.query_one("#theirs", DataTable)
        columns = [("key", "key"), ("auto", "auto"), ("narrow", "narrow")]
        ours.set_columns(columns, {"narrow": 6})
        for key, label in columns:
            theirs.add_column(label, key=key, width=6 if key == "narrow" else None)
        rows = [(f"r{i}", [f"k{i}", cell, cell]) for i, cell in enumerate(CELLS)]
        ours.sync(rows)
        for key, cells in rows:
            theirs.add_row(*cells, key=key)
        for row in (0, 3, len(CELLS) - 1):
            ours.move_cursor(row=row)
            theirs.move_cursor(row=row)
            ours.focus()
            await pilot.pause()
            ours_focused, theirs_blurred = _screen_lines(ours), _screen_lines(theirs)
            theirs.focus()
            await pilot.pause()
            assert ours_focused == _screen_lines(theirs)
            assert _screen_lines(ours) == theirs_blurred
        for table in (ours, theirs):  # the mouse over another row
            table._set_hover_cursor(True)
            table.hover_coordinate = Coordinate(5, 1)
        ours.focus()
        await pilot.pause()
        hovered = _screen_lines(ours)
        theirs.focus()
        await pilot.pause()
        assert hovered == _screen_lines(theirs)


class _Short(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable()


def _plain_lines(table: KeyedTable) -> list[str]:
    width, height = table.size
    return ["".join(segment.text for segment in strip) for strip in table.render_lines(Region(0, 0, width, height))]


async def test_rows_out_of_sight_get_their_cells_when_scrolled_to_or_read() -> None:
    app = _Short()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name"), ("value", "value")])
        table.sync([(f"row{i:02d}", [f"row{i:02d}", "old"]) for i in range(40)])
        await pilot.pause()
        made: list[int] = []

        def later(i: int) -> list[Cell]:
            made.append(i)
            return [f"row{i:02d}", "new"]

        table.sync([(f"row{i:02d}", [f"row{i:02d}", "new"] if i < 12 else partial(later, i)) for i in range(40)])
        await pilot.pause()
        assert made == []  # nothing made for rows nobody sees
        table.move_cursor(row=39)  # scrolls to the end
        await pilot.pause()
        shown = [line for line in _plain_lines(table) if "row3" in line]
        assert len(shown) == 10  # row30 to row39
        assert all("new" in line and "old" not in line for line in shown)
        assert table.get_cell("row20", "value") == "new"
        assert table.get_row_at(15)[1] == "new"
        assert [i for i in range(12, 29) if i in made] == [15, 20]  # the rows between were never seen
