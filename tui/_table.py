"""Tables whose rows are keyed and updated in place: the cursor and the scroll position never jump.

``KeyedTable.sync()`` adds new rows, removes gone ones, updates only the cells that changed and re-sorts only when
the order changed (dolphie's way: never ``clear()`` a table someone is moving in). ``GroupTable`` is the main table.

Painting stays cheap under load: cells are drawn straight to segments and kept until they change (``DataTable``
would render every visible cell again after any update), one refresh covers a whole paint, and rows out of sight get
their cells only when they are scrolled to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets._data_table import ColumnKey, RowKey, default_cell_formatter

from llmcost.engine import GroupStats
from tui._format import millis, tokens, usd, usd_rate

__all__ = ["COLUMNS", "Column", "GroupTable", "KeyedTable", "badge"]

Cell = Text | str
RowCells = Sequence[Cell] | Callable[[], Sequence[Cell]]
_T = TypeVar("_T")


class _KeyCell(Text):
    """The first cell of a row; it carries the row key so ``DataTable.sort`` can order rows by our ranking."""

    row_key: str = ""


def _first(cell: Cell, key: str) -> _KeyCell:
    text = cell if isinstance(cell, Text) else Text(cell)
    out = _KeyCell(text.plain, style=text.style, justify=text.justify, overflow=text.overflow, no_wrap=True)
    out.spans = list(text.spans)
    out.row_key = key
    return out


_BLANK = Text("")
_NULL = Style.null()
_JUSTIFIED = ("default", "left", "right")


def _crop(plain: str, room: int, overflow: str) -> str:
    """``Text.truncate`` on a plain string."""
    if cell_len(plain) <= room:
        return plain
    return set_cell_size(plain, room - 1) + "…" if overflow == "ellipsis" else set_cell_size(plain, room)


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class KeyedTable(DataTable[Cell]):
    """A ``DataTable`` fed whole states by :meth:`sync`, changed in place.

    Painting is cheap: a body cell is rendered once per text (and row position and highlight), straight into
    segments, and kept until its text changes; ``DataTable`` would re-render every visible cell after any update.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._cells: dict[str, tuple[Cell, ...]] = {}
        # (row key, column key) -> (cell, how it was drawn, its line): reused while the same cell is drawn the same way.
        self._drawn: dict[tuple[RowKey, ColumnKey], tuple[object, tuple[Any, ...], list[Segment]]] = {}
        self._styles: dict[tuple[tuple[Any, ...], int], tuple[Style, Style, Style]] = {}
        self._row_styles: dict[tuple[Any, ...], Style] = {}
        self._later: dict[str, Callable[[], Sequence[Cell]]] = {}  # rows out of sight: their newest cells, to make
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def notify_style_update(self) -> None:
        self._drawn.clear()
        self._styles.clear()
        self._row_styles.clear()
        super().notify_style_update()

    def _state(self) -> tuple[Any, ...]:
        """What, besides the cell and its place, decides how a cell looks."""
        return (
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.show_cursor,
            self.cell_padding,
            self.cursor_foreground_priority,
            self.cursor_background_priority,
        )

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """One line of a body row from the drawn cells (``DataTable``'s own for headers and fancier tables)."""
        if self._later and row_key.value in self._later:
            self._catch_up(row_key.value)
        row_index = self._row_locations.get(row_key)
        row = self.rows.get(row_key)
        if (
            row_index is None
            or row is None
            or row.height != 1
            or self.cursor_type != "row"
            or self.fixed_rows
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        state = self._state()
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        cells: list[list[Segment]] = []
        used = self._row_label_column_width
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            used += width
            line = self._cell_line(row_key, row_index, column.key, column_index, row_style, width, cursor, hover, state)
            if line is None:
                line = super()._render_cell(row_index, column_index, row_style, width, cursor, hover)[line_no]
            cells.append(line)
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor, False, False
        )
        extend_style = (
            row_style + extend_style + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        )
        cells.append([Segment(" " * max(0, self.size.width - used), extend_style)])
        return [], cells

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        place = row_index % 2 if row_index >= self.fixed_rows else row_index if row_index < 0 else -2
        key = (place, base_style, self.zebra_stripes, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        if row_index == -1 and column_key is not None and self.header_height == 1 and not self.fixed_columns:
            header = self._cell_line(
                self._header_row_key, -1, column_key, column_index, base_style, width, cursor, hover
            )
            if header is not None:
                return [header]
        row = self.rows.get(row_key) if row_key is not None else None
        if (
            row is None
            or row_key is None
            or column_key is None
            or row.height != 1
            or row_index < self.fixed_rows
            or self.fixed_columns
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        line = self._cell_line(row_key, row_index, column_key, column_index, base_style, width, cursor, hover)
        if line is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return [line]

    def _cell_line(
        self,
        row_key: RowKey,
        row_index: int,
        column_key: ColumnKey,
        column_index: int,
        row_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
        state: tuple[Any, ...] | None = None,
    ) -> list[Segment] | None:
        """The drawn line of one cell (a label on the header row, -1): kept while the same cell is drawn the same way."""
        cell = self.columns[column_key].label if row_index == -1 else self._data[row_key].get(column_key)
        how = (width, row_index, row_style, cursor, hover, state or self._state())
        drawn = self._drawn.get((row_key, column_key))
        if drawn is not None and drawn[0] is cell and drawn[1] == how:
            return drawn[2]
        line = self._draw_cell(cell, width, self._cell_styles(how, column_index))
        if line is not None:
            self._drawn[(row_key, column_key)] = (cell, how, line)
        return line

    def _cell_styles(self, how: tuple[Any, ...], column_index: int) -> tuple[Style, Style, Style]:
        """(style before the cell's own, style after it, the two together) for a cell drawn ``how``."""
        key = (how, column_index)
        styles = self._styles.get(key)
        if styles is None:
            _, row_index, row_style, cursor, hover, _ = how
            component_style, post_style = self._get_styles_to_render_cell(
                row_index == -1,
                False,
                False,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            pre_style = row_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
            if len(self._styles) > 20_000:
                self._styles.clear()
            styles = self._styles[key] = (pre_style, post_style, pre_style + post_style)
        return styles

    def _draw_cell(self, cell: object, width: int, styles: tuple[Style, Style, Style]) -> list[Segment] | None:
        """One line of one cell, as ``DataTable`` draws it (padding, justify, crop, styles); None: let it draw."""
        if isinstance(cell, Text):
            text: object = cell
        else:
            text = _BLANK if cell is None else default_cell_formatter(cell, wrap=False, height=1) or _BLANK
        room = width - 2 * self.cell_padding
        if not isinstance(text, Text) or text.no_wrap is False or room <= 0:
            return None
        plain = text.plain
        overflow = text.overflow or "fold"
        justify = text.justify or "default"
        if "\n" in plain or "\t" in plain or overflow == "ignore" or justify not in _JUSTIFIED:
            return None
        pre_style, post_style, around = styles
        console = self.app.console
        pad = " " * self.cell_padding
        if text.spans:
            line = text.copy()
            if justify == "right":
                line.rstrip()
            line.truncate(room, overflow=overflow)
            if justify == "right":
                line.pad_left(room - cell_len(line.plain))
            elif justify == "left":
                line.pad_right(room - cell_len(line.plain))
            inner = Segment.apply_style(line.render(console), pre_style, post_style)
            tail = " " * (room - cell_len(line.plain)) + pad
            return [Segment(pad, around), *inner, Segment(tail, around)]
        if justify == "right":
            plain = plain.rstrip()
        plain = _crop(plain, room, overflow)
        if justify == "right":
            plain = " " * (room - cell_len(plain)) + plain
        elif justify == "left":
            plain += " " * (room - cell_len(plain))
        style = pre_style + console.get_style(text.style, default=_NULL) + post_style
        return [Segment(pad, around), Segment(plain, style), Segment(" " * (room - cell_len(plain)) + pad, around)]

    def _forget_drawn(self) -> None:
        """Drop the drawn cells of rows that are gone."""
        self._drawn = {k: v for k, v in self._drawn.items() if k[0] in self.rows}

    def set_columns(self, columns: Sequence[tuple[str, str]], widths: dict[str, int] | None = None) -> None:
        """Replace the columns (``(key, label)``); rows are dropped, the cursor stays on the same row key."""
        keep = self.cursor_key()
        self.clear(columns=True)
        self._cells.clear()
        self._later.clear()
        self._drawn.clear()
        for key, label in columns:
            self.add_column(label, key=key, width=(widths or {}).get(key))
        self._keep = keep

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return getattr(self, "_keep", None)
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor is past the last row while rows are replaced
            return None

    def sync(self, rows: Sequence[tuple[str, RowCells]]) -> None:
        """Make the table show ``rows`` (key, cells) in this order.

        ``cells`` may be a function that makes them: a row already in the table then keeps its cells until it is
        drawn or read (rows scrolled out of sight cost nothing per paint)."""
        cursor = self.cursor_key()
        wanted = [key for key, _ in rows]
        present = set(wanted)
        gone = [k for k in self._cells if k not in present]
        for key in gone:
            self.remove_row(key)
            del self._cells[key]
            self._later.pop(key, None)
        if gone:
            self._forget_drawn()
        columns = list(self.columns)
        changed = False
        for key, cells in rows:
            old = self._cells.get(key)
            if callable(cells) and old is not None:
                self._later[key] = cells
                continue
            self._later.pop(key, None)
            changed = self._put(key, cells() if callable(cells) else cells, old, columns) or changed
        if changed:
            self._update_count += 1
            self.refresh()
        if [row.key.value for row in self.ordered_rows] != wanted:
            rank = {key: i for i, key in enumerate(wanted)}
            self.sort(columns[0], key=lambda cell: rank[cell.row_key])
        self._follow(cursor)

    def _put(self, key: str, cells: Sequence[Cell], old: tuple[Cell, ...] | None, columns: list[ColumnKey]) -> bool:
        """Add the row or change the cells that differ; True when the table needs a refresh."""
        new = (_first(cells[0], key), *cells[1:])
        self._cells[key] = new
        if old is None:
            self.add_row(*new, key=key)
            return False
        changed = False
        data = self._data[RowKey(key)]
        for column, before, after in zip(columns, old, new):
            if before != after:
                # Re-measuring a column costs a pass over all its cells: only when this one is wider (and the
                # column's width is measured, not fixed).
                spec = self.columns[column]
                if spec.auto_width and _width(after) > spec.content_width:
                    self.update_cell(key, column, after, update_width=True)
                else:  # what update_cell does, with one refresh for the whole table
                    data[column] = after
                    changed = True
        return changed

    def sync_made(self, items: Sequence[_T], key: Callable[[_T], str], cells: Callable[[_T], Sequence[Cell]]) -> None:
        """:meth:`sync` one row per item, in this order: rows out of sight get their cells only when they are drawn
        (scrolled to) or read."""
        sight = self.in_sight()
        rows: list[tuple[str, RowCells]] = []
        for index, item in enumerate(items):
            k = key(item)
            rows.append((k, cells(item) if sight(index, k) else partial(cells, item)))
        self.sync(rows)

    def in_sight(self) -> Callable[[int, str], bool]:
        """Whether the row at this index (in the order about to be shown) with this key is in sight, or the cursor's."""
        top = self.scroll_offset.y - 2
        bottom = self.scroll_offset.y + self.size.height + 2
        cursor = self.cursor_key()
        return lambda index, key: top <= index <= bottom or key == cursor

    def _catch_up(self, key: str | None) -> None:
        """Bring a row whose cells were left for later up to date (it is about to be drawn or read)."""
        make = self._later.pop(key, None) if key is not None else None
        if key is not None and make is not None:
            # Not a refresh: this row was not drawn since its cells were left, so nothing drawn is stale.
            self._put(key, make(), self._cells[key], list(self.columns))

    def get_row(self, row_key: RowKey | str) -> list[Cell]:
        self._catch_up(row_key.value if isinstance(row_key, RowKey) else row_key)
        return super().get_row(row_key)

    def get_row_at(self, row_index: int) -> list[Cell]:
        key = self._row_locations.get_key(row_index)
        if key is not None:
            self._catch_up(key.value)
        return super().get_row_at(row_index)

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Cell:
        self._catch_up(row_key.value if isinstance(row_key, RowKey) else row_key)
        return super().get_cell(row_key, column_key)

    def _follow(self, key: str | None) -> None:
        """Keep the cursor on the row it was on (the row may have moved), without scrolling."""
        keep = getattr(self, "_keep", None)
        if keep is not None and keep in self._cells:
            key, self._keep = keep, None
        if key is None or key not in self._cells:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)


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
