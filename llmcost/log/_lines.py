"""Bytes to records: complete lines out of arbitrary read boundaries, decoded in batches.

A file is read in chunks no larger than the line cap, so a line longer than the cap always ends up in the partial
buffer and is caught there; lines inside one chunk are shorter than the cap by construction.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from llmcost.log._record import too_deep

__all__ = ["BAD_LINE", "MAX_LINE", "LineSplitter", "decode_block"]

_T = TypeVar("_T")

MAX_LINE = 1 << 20  # 1 MiB: a record is under 1 KiB; anything this long is garbage or an attack


class LineSplitter:
    """Keeps the partial last line of one file until its newline arrives; drops over-long lines."""

    __slots__ = ("cap", "partial", "skipping")

    def __init__(self, cap: int = MAX_LINE) -> None:
        self.cap = cap
        self.partial = b""
        self.skipping = False  # inside an over-long line: discard up to its newline

    def reset(self) -> None:
        self.partial = b""
        self.skipping = False

    def feed(self, chunk: bytes) -> tuple[bytes, int]:
        """The complete lines now available (newline-terminated, maybe empty) and the number of over-long lines."""
        dropped = 0
        if self.skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                return b"", 0
            chunk = chunk[nl + 1 :]
            self.skipping = False
        last = chunk.rfind(b"\n")
        if last < 0:
            return b"", self._keep(self.partial + chunk)
        first = chunk.find(b"\n")
        if len(self.partial) + first > self.cap:
            dropped += 1
            block = chunk[first + 1 : last + 1]
        else:
            block = self.partial + chunk[: last + 1] if self.partial else chunk[: last + 1]
        return block, dropped + self._keep(chunk[last + 1 :])

    def _keep(self, rest: bytes) -> int:
        if len(rest) > self.cap:
            self.partial = b""
            self.skipping = True
            return 1
        self.partial = rest
        return 0


#: What decoding a bad line raises: msgspec's decode and validation errors and invalid UTF-8 (``ValueError``), and,
#: should a decoder meet a line nested deeper than it can follow, ``RecursionError`` (``too_deep`` stops such lines
#: first, so that the rule does not depend on the interpreter).
BAD_LINE = (ValueError, RecursionError)


def decode_block(decoder: msgspec.json.Decoder[_T], block: bytes | memoryview) -> tuple[list[_T], int]:
    """Records of a block of complete lines and the number of bad lines (fast path: one call for the block)."""
    if not block:
        return [], 0
    if not too_deep(block):
        try:
            return decoder.decode_lines(block), 0
        except BAD_LINE:
            pass
    records: list[_T] = []
    bad = 0
    for line in bytes(block).split(b"\n"):
        if not line.strip():
            continue
        if too_deep(line):
            bad += 1
            continue
        try:
            records.append(decoder.decode(line))
        except BAD_LINE:
            bad += 1
    return records, bad
