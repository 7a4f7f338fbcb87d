"""One table cell drawn on one line: padding, justify, crop and styles, exactly as Rich draws ``Padding(cell)``.

The common cell (one line of text, left or right justified, cut or ellipsised) is drawn straight to three segments,
about 2.5 µs a cell where Rich's layout takes about 50 µs; anything else (centred, wrapping, tabs, several lines)
is handed to Rich itself, so every cell looks the same whichever way it was drawn. No Textual here.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

__all__ = ["Cell", "cell_width", "draw_cell", "same_cell"]

Cell = Text | str
"""What a cell holds: a ``Text`` or a plain string (never markup: names and messages are shown as written)."""

_NULL = Style.null()
_DIRECT = ("default", "left", "right")


def _as_text(cell: object) -> Text:
    """The cell as ``Text`` (a string as it is written; anything else by its ``str``)."""
    if isinstance(cell, Text):
        return cell
    return Text("" if cell is None else str(cell), no_wrap=True, end="")


def cell_width(cell: object) -> int:
    """Cells the widest line of the cell needs (what a column must give it to show it whole)."""
    plain = cell.plain if isinstance(cell, Text) else "" if cell is None else str(cell)
    if "\n" not in plain:
        return cell_len(plain)
    return max((cell_len(line) for line in plain.splitlines()), default=0)


def same_cell(a: object, b: object) -> bool:
    """Whether two cells look the same (``Text.__eq__`` ignores the style, which a flash or a badge changes)."""
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return (
            a.plain == b.plain
            and a.style == b.style
            and a.justify == b.justify
            and a.overflow == b.overflow
            and a.no_wrap == b.no_wrap
            and a.spans == b.spans
        )
    return type(a) is type(b) and a == b


def _crop(plain: str, room: int, overflow: str) -> str:
    """``Text.truncate`` on a plain string."""
    if cell_len(plain) <= room:
        return plain
    return set_cell_size(plain, room - 1) + "…" if overflow == "ellipsis" else set_cell_size(plain, room)


def draw_cell(
    console: Console,
    options: ConsoleOptions,
    cell: object,
    width: int,
    padding: int,
    styles: tuple[Style, Style, Style],
) -> list[Segment]:
    """The line of one cell ``width`` cells wide, ``padding`` on each side.

    ``styles``: the style under the cell's own (row, highlight), the style over it (a cursor's colours win over the
    cell's), and the two together (for the padding)."""
    text = _as_text(cell)
    room = width - 2 * padding
    plain = text.plain
    overflow = text.overflow or "fold"
    justify = text.justify or "default"
    pre_style, post_style, around = styles
    if (
        room <= 0
        or text.no_wrap is False
        or "\n" in plain
        or "\t" in plain
        or overflow == "ignore"
        or justify not in _DIRECT
    ):
        # Rich lays out the rest: the first line of its rendering of the padded cell
        one_line = options.update_dimensions(width, 1).update(no_wrap=True)
        rendered = console.render_lines(Padding(text, (0, padding)), one_line)[0]
        return list(Segment.apply_style(rendered, pre_style, post_style))
    pad = " " * padding
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
        return [Segment(pad, around), *inner, Segment(" " * (room - cell_len(line.plain)) + pad, around)]
    if justify == "right":
        plain = plain.rstrip()
    plain = _crop(plain, room, overflow)
    if justify == "right":
        plain = " " * (room - cell_len(plain)) + plain
    elif justify == "left":
        plain += " " * (room - cell_len(plain))
    style = pre_style + console.get_style(text.style, default=_NULL) + post_style
    return [Segment(pad, around), Segment(plain, style), Segment(" " * (room - cell_len(plain)) + pad, around)]
