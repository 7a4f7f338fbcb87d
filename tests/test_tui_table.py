"""The keyed table: it must look exactly as Textual's ``DataTable`` draws the same cells (characters and styles,
with the cursor anywhere, focused or not, under the mouse), draw a row again only when it changed, keep the cursor
and the scroll where the user left them, and answer keys and the mouse."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from tui._table import Cell, KeyedTable

CELLS: list[Cell] = [
    "",
    "plain",
    "[bold]not markup[/]",  # names and messages are shown as written
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
# Every cell in a column as wide as it needs, then in fixed widths down to none.
COLUMNS = [("key", "key"), ("auto", "auto"), ("six", "six"), ("three", "three"), ("one", "one"), ("none", "none")]
WIDTHS = {"six": 6, "three": 3, "one": 1, "none": 0}


def _as_datatable_cell(cell: Cell) -> Text:
    return Text(cell) if isinstance(cell, str) else cell  # DataTable reads a string as markup


class _Pair(App[None]):
    """The keyed table above a plain ``DataTable`` holding the same cells."""

    def compose(self) -> ComposeResult:
        yield KeyedTable(id="ours")
        yield DataTable[Any](id="theirs", cursor_type="row", zebra_stripes=True)


def _screen_lines(table: KeyedTable | DataTable[Any]) -> list[list[tuple[str, Style | None]]]:
    width, height = table.size
    strips = table.render_lines(Region(0, 0, width, height))
    return [[(ch, segment.style) for segment in strip for ch in segment.text] for strip in strips]


async def test_lines_look_as_datatable_draws_them_with_the_cursor_anywhere() -> None:
    app = _Pair()
    async with app.run_test(size=(100, 60)) as pilot:
        ours, theirs = app.query_one("#ours", KeyedTable), app.query_one("#theirs", DataTable)
        ours.set_columns(COLUMNS, WIDTHS)
        for key, label in COLUMNS:
            theirs.add_column(label, key=key, width=WIDTHS.get(key))
        rows = [(f"r{i}", [f"k{i}", *[cell] * (len(COLUMNS) - 1)]) for i, cell in enumerate(CELLS)]
        ours.sync(rows)
        for key, cells in rows:
            theirs.add_row(*map(_as_datatable_cell, cells), key=key)
        await pilot.pause()
        assert ours.size == theirs.size
        for row in (0, 3, len(CELLS) - 1):
            ours.move_cursor(row)
            theirs.move_cursor(row=row)
            ours.focus()
            await pilot.pause()
            ours_focused, theirs_blurred = _screen_lines(ours), _screen_lines(theirs)
            theirs.focus()
            await pilot.pause()
            assert ours_focused == _screen_lines(theirs)
            assert _screen_lines(ours) == theirs_blurred
        ours.focus()
        await pilot.pause()
        still = _screen_lines(ours)
        for y in (6, 0):  # the mouse over a row, then over the header
            hovered = []
            for table in (ours, theirs):
                table.focus()
                await pilot.hover(table, offset=(3, y))
                await pilot.pause()
                hovered.append(_screen_lines(table))
            assert hovered[0][y] != still[y]
            assert hovered[0] == hovered[1]


class _One(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield KeyedTable()

    def on_keyed_table_row_selected(self, message: KeyedTable.RowSelected) -> None:
        self.selected.append(message.key)


def _plain_lines(table: KeyedTable) -> list[str]:
    return ["".join(segment.text for segment in strip) for strip in _strips(table)]


def _strips(table: KeyedTable) -> list[Any]:
    width, height = table.size
    return table.render_lines(Region(0, 0, width, height))


async def test_a_row_is_drawn_again_only_when_it_changed() -> None:
    app = _One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name"), ("calls", "calls")])
        table.sync([("a", ["a", "1"]), ("b", ["b", "2"]), ("c", ["c", "3"])])
        await pilot.pause()
        before = [table.render_line(y) for y in range(4)]
        table.sync([("a", ["a", "1"]), ("b", ["b", "20"]), ("c", ["c", "".join("3")])])
        await pilot.pause()
        after = [table.render_line(y) for y in range(4)]
        assert [old is new for old, new in zip(before, after)] == [True, True, False, True]  # the header first
        table.sync([("a", ["a", "1"]), ("b", ["b", "20"]), ("c", ["c", Text("3", style="red")])])
        await pilot.pause()
        assert table.render_line(3) is not after[3]  # a style alone is a change (a flash, a badge's colour)


async def test_rows_out_of_sight_get_their_cells_when_scrolled_to_or_read() -> None:
    app = _One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name"), ("value", "value")])
        table.sync([(f"row{i:02d}", [f"row{i:02d}", "old"]) for i in range(40)])
        await pilot.pause()
        made: list[int] = []

        def later(i: int) -> list[Cell]:
            made.append(i)
            return [f"row{i:02d}", "new"]

        table.sync([(f"row{i:02d}", partial(later, i)) for i in range(40)])
        await pilot.pause()
        assert sorted(made) == list(range(11))  # the rows in sight, no more
        made.clear()
        table.move_cursor(39)  # scrolls to the end
        await pilot.pause()
        shown = [line for line in _plain_lines(table) if "row3" in line]
        assert len(shown) == 10  # row30 to row39
        assert all("new" in line and "old" not in line for line in shown)
        assert table.get_cell("row20", "value") == "new"
        assert table.get_row_at(15)[1] == "new"
        assert [i for i in range(11, 29) if i in made] == [15, 20]  # the rows between were never seen


async def test_cursor_and_scroll_stay_when_rows_change_move_and_columns_change() -> None:
    app = _One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name"), ("value", "value")])
        keys = [f"row{i:02d}" for i in range(40)]
        table.sync([(k, [k, "1"]) for k in keys])
        await pilot.pause()
        table.move_cursor(20)
        await pilot.pause()
        scroll = table.scroll_offset
        assert table.cursor_key() == "row20"
        swapped = [*keys[:19], keys[20], keys[19], *keys[21:]]  # row20 moves up one, still in sight
        table.sync([(k, [k, "2"]) for k in swapped])
        await pilot.pause()
        assert (table.cursor_key(), table.cursor_row, table.scroll_offset) == ("row20", 19, scroll)
        table.sync([(k, [k, "3"]) for k in swapped if k != "row05"])  # a row above goes
        await pilot.pause()
        assert (table.cursor_key(), table.cursor_row) == ("row20", 18)
        table.set_columns([("name", "name"), ("value", "value ▼"), ("more", "more")])
        await pilot.pause()
        assert (table.cursor_key(), table.scroll_offset) == ("row20", scroll)
        assert table.get_row("row20") == ["row20", "3", ""]  # a new column is blank until the next sync


async def test_keys_and_mouse_move_the_cursor_and_select() -> None:
    app = _One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_columns([("name", "name")])
        table.sync([(f"row{i:02d}", [f"row{i:02d}"]) for i in range(40)])
        table.focus()
        await pilot.pause()
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("pagedown")
        assert table.cursor_row == 2 + table.size.height - 1
        await pilot.press("end")
        assert table.cursor_row == 39
        assert "row39" in _plain_lines(table)[-1]
        await pilot.press("up", "enter")
        assert app.selected == ["row38"]
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        await pilot.click(table, offset=(2, 4))  # the header is line 0: the fourth row
        assert (table.cursor_row, app.selected) == (3, ["row38"])
        await pilot.click(table, offset=(2, 4))  # a click on the cursor's row selects it
        await pilot.pause()
        assert app.selected == ["row38", "row03"]
