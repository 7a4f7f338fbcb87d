"""Tables whose rows are keyed and updated in place: the cursor stays on its row and the view never jumps.

``KeyedTable.sync()`` adds new rows, removes gone ones, changes only the rows whose cells changed and reorders only
when the order changed (dolphie's way: never clear a table someone is moving in). ``GroupTable`` is the main table.

The table is a ``ScrollView`` drawn with Textual's Line API, the way toolong draws its log: line 0 is the header,
the lines below are rows from the scroll offset on (the view scrolls only to keep the cursor's row in sight).
Painting stays cheap under load: a row is drawn once into a ``Strip`` and kept until its cells, its place, its
highlight or the layout change; a change repaints only the lines of the rows that changed; rows out of sight get
their cells only when they are scrolled to or read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any, ClassVar, NamedTuple, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from llmcost.engine import GroupStats
from tui._cells import Cell, cell_width, draw_cell, same_cell
from tui._format import millis, tokens, usd, usd_rate

__all__ = ["COLUMNS", "Cell", "Column", "GroupTable", "KeyedTable", "TableColumn", "badge"]

RowCells = Sequence[Cell] | Callable[[], Sequence[Cell]]
_T = TypeVar("_T")

PADDING = 1  # blank cells on each side of every cell
_HEADER = -1  # the header's row index, in styles and in the mouse's place
_HOVER, _CURSOR = 1, 2  # a row's highlight: bits


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column of a :class:`KeyedTable`: its key, its header label and its width (``None``: as wide as needed)."""

    key: str
    label: Text
    width: int | None = None


class _Look(NamedTuple):
    """The styles a paint draws with, read from CSS once per paint (focus, theme and dark mode change them)."""

    base: Style
    header: Style
    even: Style
    odd: Style
    cursor: Style
    hover: Style
    header_hover: Style


class KeyedTable(ScrollView, can_focus=True, inherit_bindings=False):
    """A table fed whole states by :meth:`sync` and changed in place: rows are keyed by a string.

    The cursor is a row: it stays on its row's key as rows come, go and move; up, down, page up, page down, home
    and end move it, a click puts it on a row, Enter (or a click on the cursor's row) posts :class:`RowSelected`.
    Columns are as wide as their widest cell (they grow, never shrink, until :meth:`set_columns`) unless given a
    width. Styles come from the component classes, so the table follows the theme like Textual's own widgets.
    """

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home,ctrl+home", "cursor_first", "First row", show=False),
        Binding("end,ctrl+end", "cursor_last", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("ctrl+pageup", "page_left", "Page left", show=False),
        Binding("ctrl+pagedown", "page_right", "Page right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyed-table--header",
        "keyed-table--header-hover",
        "keyed-table--cursor",
        "keyed-table--hover",
        "keyed-table--even-row",
        "keyed-table--odd-row",
    }

    # The look of Textual's DataTable, so a table here looks like any other Textual table.
    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;

        &:focus {
            background-tint: $foreground 5%;
            & > .keyed-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .keyed-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .keyed-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .keyed-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .keyed-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .keyed-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .keyed-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .keyed-table--header-hover {
            background: $accent 30%;
        }
        & > .keyed-table--hover {
            background: $block-hover-background;
        }
    }
    """

    class RowSelected(Message):
        """Enter on a row, or a click on the row under the cursor."""

        def __init__(self, table: KeyedTable, key: str, index: int) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.index = index

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(self, columns: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        """``columns``: the columns to show from the start (as :meth:`set_columns` takes them)."""
        super().__init__(**kwargs)
        self._columns: tuple[TableColumn, ...] = ()
        self._widths: list[int] = []  # each column's content width (its cells' widest, or the width it was given)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._later: dict[str, Callable[[], Sequence[Cell]]] = {}  # rows out of sight: their newest cells, to make
        self._cursor = 0
        self._hover: int | None = None  # the row under the mouse (_HEADER for the header), while it is shown
        self._layout = 0  # counts changes of columns and widths: every drawn line is stale after one
        self._look: _Look | None = None
        # Drawn rows: key -> (its cells, how it was drawn, its line); a row is drawn again when either changed.
        self._drawn: dict[str, tuple[tuple[Cell, ...], tuple[Any, ...], Strip]] = {}
        self._header_drawn: tuple[tuple[Any, ...], Strip] | None = None
        self._cell_styles: dict[tuple[int, int, int], tuple[Style, Style, Style]] = {}
        if columns:
            self.set_columns(columns)

    # -- what the table holds -------------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[TableColumn, ...]:
        """The columns, left to right."""
        return self._columns

    @property
    def row_keys(self) -> list[str]:
        """The keys of the rows, top to bottom."""
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor."""
        return self._cursor

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (``None`` when the table is empty)."""
        return self._keys[self._cursor] if self._cursor < len(self._keys) else None

    def get_row(self, key: str) -> list[Cell]:
        """The cells of the row with this key."""
        self._catch_up(key)
        return list(self._cells[key])

    def get_row_at(self, index: int) -> list[Cell]:
        """The cells of the row at this index."""
        return self.get_row(self._keys[index])

    def get_cell(self, key: str, column: str) -> Cell:
        """The cell of the row with this key in this column."""
        at = next((i for i, c in enumerate(self._columns) if c.key == column), None)
        if at is None:
            raise KeyError(column)
        row = self.get_row(key)
        return row[at] if at < len(row) else ""

    # -- changing it ----------------------------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[tuple[str, str]], widths: dict[str, int] | None = None) -> None:
        """Show these columns (``(key, label)``; ``widths``: fixed widths by key, the others fit their cells).

        Rows stay where they are with the cursor and the scroll: a column still shown keeps its cells, a new one
        is blank until the next :meth:`sync`."""
        before = [c.key for c in self._columns]
        self._columns = tuple(TableColumn(key, Text(label), (widths or {}).get(key)) for key, label in columns)
        after = [c.key for c in self._columns]
        if after != before:
            where = {key: i for i, key in enumerate(before)}
            picks = [where.get(key) for key in after]
            self._cells = {
                key: tuple(cells[i] if i is not None and i < len(cells) else "" for i in picks)
                for key, cells in self._cells.items()
            }
            self._later.clear()  # they make cells for the old columns
        self._widths = [self._fit(i) for i in range(len(self._columns))]
        self._relayout()

    def _fit(self, column: int) -> int:
        """The content width of a column: the width it was given, or its widest cell (the label included)."""
        spec = self._columns[column]
        if spec.width is not None:
            return spec.width
        widest = max((cell_width(cells[column]) for cells in self._cells.values() if column < len(cells)), default=0)
        return max(cell_width(spec.label), widest)

    def sync(self, rows: Sequence[tuple[str, RowCells]]) -> None:
        """Make the table show ``rows`` (unique key, cells) in this order; only what changed is drawn again.

        ``cells`` may be a function that makes them: a row already in the table and out of sight then keeps its
        cells until it is scrolled to or read (rows nobody sees cost nothing per paint)."""
        cursor = self.cursor_key()
        wanted = [key for key, _ in rows]
        present = set(wanted)
        for key in [k for k in self._cells if k not in present]:
            del self._cells[key]
            self._later.pop(key, None)
            self._drawn.pop(key, None)
        top = int(self.scroll_y)
        bottom = top + self.size.height - 1  # the header takes a line
        changed: list[str] = []
        grew = False
        for index, (key, given) in enumerate(rows):
            old = self._cells.get(key)
            if callable(given) and old is not None and not top <= index < bottom and key != cursor:
                self._later[key] = given
                continue
            self._later.pop(key, None)
            change = self._put(key, given() if callable(given) else given, old)
            if change:
                changed.append(key)
                grew = grew or change > 1
        if grew:
            self._relayout()
        if wanted != self._keys:
            self._keys = wanted
            self._index = {key: i for i, key in enumerate(wanted)}
            self._reshape()
        elif changed and not grew:
            self._refresh_rows(self._index[key] for key in changed)
        self._follow(cursor)

    def sync_made(self, items: Sequence[_T], key: Callable[[_T], str], cells: Callable[[_T], Sequence[Cell]]) -> None:
        """:meth:`sync` one row per item, in this order: rows out of sight get their cells only when they are drawn
        (scrolled to) or read."""
        self.sync([(key(item), partial(cells, item)) for item in items])

    def _put(self, key: str, cells: Sequence[Cell], old: tuple[Cell, ...] | None) -> int:
        """Store the row's cells: 0 nothing changed, 1 its cells changed, 2 a column grew wider for them."""
        new = tuple(cells)
        if old is not None and len(old) == len(new) and all(same_cell(a, b) for a, b in zip(old, new)):
            return 0
        self._cells[key] = new
        grew = False
        for i, (spec, cell) in enumerate(zip(self._columns, new)):
            if spec.width is None and (width := cell_width(cell)) > self._widths[i]:
                self._widths[i] = width
                grew = True
        return 2 if grew else 1

    def _catch_up(self, key: str) -> None:
        """Bring a row whose cells were left for later up to date (it is about to be drawn or read)."""
        make = self._later.pop(key, None)
        if make is not None and self._put(key, make(), self._cells[key]) > 1:
            self._relayout()  # a column grew: every line moves

    def _relayout(self) -> None:
        """Columns or widths changed: every row is drawn again."""
        self._layout += 1
        self._reshape()

    def _reshape(self) -> None:
        """Rows came, went or moved (or columns changed): every line is painted again (rows still in their place
        keep their drawn line) and the scrollable size follows."""
        width = sum(self._widths) + 2 * PADDING * len(self._widths)
        self.virtual_size = Size(width, len(self._keys) + 1)
        self._cursor = min(self._cursor, max(0, len(self._keys) - 1))
        self.refresh()

    def _follow(self, key: str | None) -> None:
        """Keep the cursor on the row it was on (the row may have moved), in sight."""
        index = self._index.get(key) if key is not None else None
        if index is not None and index != self._cursor:
            self.move_cursor(index)

    # -- the cursor -----------------------------------------------------------------------------------------------

    def move_cursor(self, row: int, *, scroll: bool = True, animate: bool = False) -> None:
        """Put the cursor on the row at this index (kept within the table); ``scroll``: bring it into sight."""
        row = max(0, min(row, len(self._keys) - 1))
        if row != self._cursor:
            self._refresh_rows((self._cursor, row))
            self._cursor = row
        if scroll:
            self.scroll_to_region(
                Region(0, row + 1, 1, 1), spacing=Spacing(top=1), animate=animate, force=True, x_axis=False
            )

    def _keyboard(self) -> None:
        """Keys hide the mouse's highlight (it would read as a second cursor)."""
        self._set_hover(None)

    def action_cursor_up(self) -> None:
        self._keyboard()
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._keyboard()
        self.move_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        self._keyboard()
        page = self._page()
        self.scroll_relative(y=-page, animate=False, force=True)
        self.move_cursor(self._cursor - page)

    def action_cursor_page_down(self) -> None:
        self._keyboard()
        page = self._page()
        self.scroll_relative(y=page, animate=False, force=True)
        self.move_cursor(self._cursor + page)

    def action_cursor_first(self) -> None:
        self._keyboard()
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self._keyboard()
        self.move_cursor(len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        self._keyboard()
        key = self.cursor_key()
        if key is not None:
            self.post_message(self.RowSelected(self, key, self._cursor))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- the mouse ------------------------------------------------------------------------------------------------

    def _row_at(self, event: events.MouseEvent) -> int | None:
        """The row index under the mouse (_HEADER on the header), or None off the rows."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        if offset.y == 0:
            return _HEADER
        index = offset.y - 1 + int(self.scroll_y)
        return index if index < len(self._keys) else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._row_at(event))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        self._set_hover(row)
        if row is None or row == _HEADER:
            return
        event.stop()
        again = row == self._cursor
        self.move_cursor(row, animate=True)
        if again:
            self.post_message(self.RowSelected(self, self._keys[row], row))

    def _set_hover(self, row: int | None) -> None:
        if row != self._hover:
            self._refresh_rows(r for r in (self._hover, row) if r is not None)
            self._hover = row

    # -- drawing --------------------------------------------------------------------------------------------------

    def _refresh_rows(self, indices: Iterator[int] | Sequence[int]) -> None:
        """Repaint the lines of these rows that are in sight (only those: the other lines keep what they show)."""
        top, height, width = int(self.scroll_y), self.size.height, self.size.width
        lines = {0 if index == _HEADER else index + 1 - top for index in indices if index == _HEADER or index >= top}
        regions = [Region(0, y, width, 1) for y in lines if y < height]
        if regions:
            self.refresh(*regions)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._look = None
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        look = self._read_look()
        if look != self._look:
            self._look = look
            self._cell_styles.clear()
        # Rows left for later that are about to show are made first: a column they widen moves every line.
        top = int(self.scroll_y)
        for key in self._keys[top : top + self.size.height - 1]:  # the header takes a line
            if key in self._later:
                self._catch_up(key)
        return super().render_lines(crop)

    def _read_look(self) -> _Look:
        style = self.get_component_rich_style
        return _Look(
            self.rich_style,
            style("keyed-table--header"),
            style("keyed-table--even-row"),
            style("keyed-table--odd-row"),
            style("keyed-table--cursor"),
            style("keyed-table--hover"),
            style("keyed-table--header-hover"),
        )

    def render_line(self, y: int) -> Strip:
        look = self._look or self._read_look()
        width = self.size.width
        scroll_x = int(self.scroll_x)
        if y == 0:
            line = self._header_line(look, width)
        else:
            index = y - 1 + int(self.scroll_y)
            if index >= len(self._keys):
                return Strip.blank(width, look.base)
            line = self._row_line(index, look, width)
        return line.crop_extend(scroll_x, scroll_x + width, look.base)

    def _highlight(self, index: int) -> int:
        return (_HOVER if index == self._hover else 0) | (_CURSOR if index == self._cursor else 0)

    def _header_line(self, look: _Look, width: int) -> Strip:
        how = (self._layout, look, width, self._highlight(_HEADER))
        if self._header_drawn is not None and self._header_drawn[0] == how:
            return self._header_drawn[1]
        line = self._draw(_HEADER, [c.label for c in self._columns], look.header, look, width)
        self._header_drawn = (how, line)
        return line

    def _row_line(self, index: int, look: _Look, width: int) -> Strip:
        key = self._keys[index]
        if key in self._later:
            self._catch_up(key)
        cells = self._cells[key]
        how = (index, self._layout, look, width, self._highlight(index))
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] is cells and drawn[1] == how:
            return drawn[2]
        line = self._draw(index, cells, look.odd if index % 2 else look.even, look, width)
        self._drawn[key] = (cells, how, line)
        return line

    def _draw(self, index: int, cells: Sequence[Cell], row_style: Style, look: _Look, width: int) -> Strip:
        """One row (or the header) as a line: its cells, then its style carried to the right edge."""
        console = self.app.console
        options = self.app.console_options
        highlight = self._highlight(index)
        segments: list[Segment] = []
        for column, content_width in enumerate(self._widths):
            cell = cells[column] if column < len(cells) else ""
            styles = self._styles_for(index, column, highlight, row_style, look)
            segments += draw_cell(console, options, cell, content_width + 2 * PADDING, PADDING, styles)
        used = sum(self._widths) + 2 * PADDING * len(self._widths)
        if width > used:
            pre, _ = self._highlight_styles(index == _HEADER, highlight, look)
            meta = Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
            segments.append(Segment(" " * (width - used), row_style + pre + meta))
        return Strip(segments).simplify()

    def _styles_for(
        self, index: int, column: int, highlight: int, row_style: Style, look: _Look
    ) -> tuple[Style, Style, Style]:
        """(under the cell's own style, over it, both) for one cell; kept per place and highlight until the look
        changes. The meta names the cell as Textual's DataTable does, which also keeps neighbouring cells apart as
        segments: a screen exported as SVG is the same as with a DataTable."""
        key = (index, column, highlight)
        styles = self._cell_styles.get(key)
        if styles is None:
            component, post = self._highlight_styles(index == _HEADER, highlight, look)
            pre = row_style + Style.from_meta({"row": index, "column": column}) + component
            if len(self._cell_styles) > 20_000:
                self._cell_styles.clear()
            styles = self._cell_styles[key] = (pre, post, pre + post)
        return styles

    @staticmethod
    def _highlight_styles(header: bool, highlight: int, look: _Look) -> tuple[Style, Style]:
        """The highlight's style under a cell's own, and the colours that win over the cell's (a cursor's)."""
        component = Style()
        if highlight & _HOVER:
            component += look.hover
            if header:
                component += look.header_hover
        if highlight & _CURSOR:
            component += look.cursor
        post = Style.from_color(color=component.color) + Style.from_color(bgcolor=component.bgcolor)
        return component, post


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the main table: label, how to sort and how to show a group's figure."""

    key: str
    label: str
    value: Callable[[GroupStats], Any]
    cell: Callable[[GroupStats], Cell]
    level: int = 1  # shown from this layout up: 0 compact (< 80 columns), 1 standard, 2 wide (>= 132)
    descending: bool = True  # numbers sort biggest first


def _num(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def _cost(g: GroupStats) -> Text:
    if g.unknown_models:  # unknown models are loud: a figure with a '?' is a lower bound
        return _num(f"{usd(g.cost_usd)}?", "bold yellow")
    return _num(usd(g.cost_usd), "bold")


def _ms_value(value: float | None) -> float:
    return -1.0 if value is None else value


_RANK = {"critical": 3, "warning": 2, "info": 1}


def badge(severity: str | None) -> Text:
    """The alarm badge: a word, not only a colour (``NO_COLOR`` terminals read it too)."""
    if severity == "critical":
        return Text("● CRIT", style="bold red")
    if severity == "warning":
        return Text("● WARN", style="bold yellow")
    if severity == "info":
        return Text("● info", style="cyan")
    return Text("")


COLUMNS: tuple[Column, ...] = (
    Column("name", "", lambda g: g.key.lower(), lambda g: Text(g.key), level=0, descending=False),
    Column("calls", "calls", lambda g: g.calls, lambda g: _num(f"{g.calls:,}"), level=0),
    Column("input", "input", lambda g: g.input_tokens, lambda g: _num(tokens(g.input_tokens))),
    Column("output", "output", lambda g: g.output_tokens, lambda g: _num(tokens(g.output_tokens))),
    Column("cached", "cached", lambda g: g.cache_read_tokens, lambda g: _num(tokens(g.cache_read_tokens)), level=2),
    Column("reasoning", "reason", lambda g: g.reasoning_tokens, lambda g: _num(tokens(g.reasoning_tokens)), level=2),
    Column("cost", "cost", lambda g: (g.cost_usd, g.calls), _cost, level=0),
    Column("rate", "$/min", lambda g: g.cost_per_min[0], lambda g: _num(usd_rate(g.cost_per_min[0])), level=0),
    Column("ttft50", "ttft50", lambda g: _ms_value(g.ttft_ms.p50), lambda g: _num(millis(g.ttft_ms.p50))),
    Column("ttft95", "ttft95", lambda g: _ms_value(g.ttft_ms.p95), lambda g: _num(millis(g.ttft_ms.p95))),
    Column("lat50", "lat50", lambda g: _ms_value(g.latency_ms.p50), lambda g: _num(millis(g.latency_ms.p50))),
    Column("lat95", "lat95", lambda g: _ms_value(g.latency_ms.p95), lambda g: _num(millis(g.latency_ms.p95)), 0),
    Column("errors", "err", lambda g: g.errors, lambda g: _num(str(g.errors), "red" if g.errors else ""), 0),
    Column("retries", "retry", lambda g: g.retries, lambda g: _num(str(g.retries), "yellow" if g.retries else "")),
    Column("alarm", "alarm", lambda g: _RANK.get(g.alarm or "", 0), lambda g: badge(g.alarm), level=0),
)
DEFAULT_SORT = 6  # cost
_KEY_OF = attrgetter("key")
_FIXED = (52, 96, 112)  # columns taken by everything but the name, per layout level (padding and scrollbar included)


class GroupTable(KeyedTable):
    """One row per group (agent by default), sorted by the chosen column."""

    def __init__(self, group_label: str = "agent", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sort_index = DEFAULT_SORT
        self.reverse = False
        self.level = 1
        self.group_label = group_label
        self.rebuild()  # columns exist before the first rows can arrive

    @property
    def columns_shown(self) -> list[Column]:
        return [c for c in COLUMNS if c.level <= self.level]

    def rebuild(self) -> None:
        """Columns for the current layout and sort (after a change of layout, grouping or sort column)."""
        sort = COLUMNS[self.sort_index]
        arrow = " ▲" if sort.descending == self.reverse else " ▼"
        labels = [
            (c.key, (self.group_label if c.key == "name" else c.label) + (arrow if c is sort else ""))
            for c in self.columns_shown
        ]
        self.set_columns(labels)

    def show(self, rows: Sequence[GroupStats], flashing: set[str]) -> None:
        sort = COLUMNS[self.sort_index]
        ordered = sorted(rows, key=lambda g: g.key)
        ordered.sort(key=sort.value, reverse=sort.descending != self.reverse)
        shown = self.columns_shown
        # Long names (models, sessions) are cut to what the width leaves, so the numbers never scroll away.
        cap = max(10, min(40, self.app.size.width - _FIXED[self.level]))

        def cells(g: GroupStats) -> list[Cell]:
            return [_name(g.key, cap, g.key in flashing) if c.key == "name" else c.cell(g) for c in shown]

        self.sync_made(ordered, _KEY_OF, cells)

    def sort_by(self, index: int) -> None:
        if COLUMNS[index].level > self.level:
            index = DEFAULT_SORT
        self.sort_index = index % len(COLUMNS)
        self.rebuild()

    def step_sort(self, step: int) -> None:
        """Move the sort to the next visible column left (-1) or right (+1)."""
        shown = [i for i, c in enumerate(COLUMNS) if c.level <= self.level]
        at = shown.index(self.sort_index) if self.sort_index in shown else 0
        self.sort_by(shown[(at + step) % len(shown)])


def _name(key: str, cap: int, flashing: bool) -> Text:
    """The group's name, cut to ``cap`` cells; reversed red for a moment when it raised a new alarm."""
    text = key if len(key) <= cap else key[: cap - 1] + "…"
    return Text(text, style="bold reverse red" if flashing else "")
