"""The log: wire format v1 (one JSON object per line), the append-only writer, and reading lines back.

Every reader and writer agrees here on what a line is: :func:`encode_record` writes it, :func:`decode_record` and
:func:`decode_block` read it, and the same rule makes a line valid for both (see ``docs/wire-format.md``).
"""

from __future__ import annotations

from llmcost.log._lines import BAD_LINE, MAX_LINE, LineSplitter, decode_block
from llmcost.log._record import (
    BILLED_COUNTS,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_DEPTH,
    WIRE_VERSION,
    Amount,
    Count,
    Record,
    RecordFields,
    decode_record,
    encode_record,
    record_decoder,
    times_checked,
    too_deep,
)
from llmcost.log._time import canonical, day_of, epoch, iso, times_exist
from llmcost.log._writer import FileWriter, MemoryWriter, RecorderWarning, Writer, log_file_name, warn_once

__all__ = [
    "BAD_LINE",
    "BILLED_COUNTS",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_LINE",
    "WIRE_VERSION",
    "Amount",
    "Count",
    "FileWriter",
    "LineSplitter",
    "MemoryWriter",
    "Record",
    "RecordFields",
    "RecorderWarning",
    "Writer",
    "canonical",
    "day_of",
    "decode_block",
    "decode_record",
    "encode_record",
    "epoch",
    "iso",
    "log_file_name",
    "record_decoder",
    "times_checked",
    "times_exist",
    "too_deep",
    "warn_once",
]
