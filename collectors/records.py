"""Records of a JSONL or CSV file, read from bytes so that no row can stop the rows after it.

Each record comes with its line number, the bytes it was read from (the payload a dead letter
keeps) and either its fields or the :class:`~collectors.edge.Invalid` that says what is wrong
with it: bytes that are not UTF-8, a line that is not JSON, a CSV quote never closed, a field
over the csv module's 131,072-character limit. A CSV quote left open does not swallow the
rows after it: the record is cut back to its first line (rejected) and reading resumes on the
next line. Hand-written because the csv module stops at such errors and cannot say which
bytes a record came from.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from collectors.edge import Invalid

FIELD_LIMIT = 131_072
"""The csv module's limit on one field; a JSON row's text values are held to it too."""


@dataclass(frozen=True)
class Record:
    """One row of a file: the line it starts on, the byte offset and line just after it, its bytes,
    and its fields or the problem."""

    line: int
    end: int
    next_line: int
    raw: bytes
    row: dict[str, Any] | Invalid


def _lines(data: bytes) -> list[bytes]:
    """``data`` split after each ``\\n`` (line endings kept; a last line without one included)."""
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _decode(raw: bytes) -> str | Invalid:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Invalid("row", f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                              "save the file as UTF-8")


def jsonl_records(data: bytes, offset: int = 0, line: int = 1) -> Iterator[Record]:
    """The JSON objects of JSONL ``data`` (which starts at byte ``offset``, on line ``line``), blank lines skipped."""
    end = offset
    for n, raw in enumerate(_lines(data), line):
        end += len(raw)
        body = raw.strip()
        if n == 1:
            body = body.removeprefix(b"\xef\xbb\xbf")
        if not body:
            continue
        text = _decode(body)
        if isinstance(text, Invalid):
            yield Record(n, end, n + 1, body, text)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            yield Record(n, end, n + 1, body, Invalid("row", f"not valid JSON ({err.msg} at column {err.colno})"))
            continue
        except (ValueError, RecursionError) as err:  # a number of over 4,300 digits, nesting too deep
            yield Record(n, end, n + 1, body, Invalid("row", f"not valid JSON ({type(err).__name__}: {err})"))
            continue
        if not isinstance(obj, dict):
            yield Record(n, end, n + 1, body, Invalid("row", "not a JSON object"))
            continue
        long = next((str(k)[:40] for k, v in obj.items() if isinstance(v, str) and len(v) > FIELD_LIMIT), None)
        yield Record(n, end, n + 1, body, obj if long is None else Invalid(long, f"longer than {FIELD_LIMIT:,} "
                                                                                 "characters; shorten it"))


class _Cursor:
    """An iterator over decoded lines whose position can be moved back (to resume after a bad record)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0

    def __iter__(self) -> _Cursor:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


_CSV_PROBLEMS = {
    "unexpected end of data": "a quote opened on this line is never closed; close it, and write a quote inside "
                              "quoted text as two (\"\")",
    "field larger than field limit": "a field is longer than 131,072 characters; shorten it",
    "expected after": "text follows a closing quote; write a quote inside quoted text as two (\"\")",
}


def _csv_problem(err: csv.Error) -> Invalid:
    said = str(err)
    fix = next((v for k, v in _CSV_PROBLEMS.items() if k in said), f"not valid CSV ({said})")
    return Invalid("row", fix)


def csv_header(data: bytes) -> tuple[list[str], int] | Invalid:
    """The column names on the first line of CSV ``data`` and the byte offset after that line."""
    lines = _lines(data[: data.find(b"\n") + 1] if b"\n" in data else data)
    if not lines:
        return Invalid("header", "the file is empty; the first line must name at least id,text,created_at")
    text = _decode(lines[0].removeprefix(b"\xef\xbb\xbf"))
    if isinstance(text, Invalid):
        return Invalid("header", str(text).removeprefix("row: "))
    try:
        names = next(csv.reader([text], strict=True), [])
    except csv.Error as err:
        return Invalid("header", str(_csv_problem(err)).removeprefix("row: "))
    return [n.strip() for n in names], len(lines[0])


def csv_records(data: bytes, header: list[str], offset: int, line: int) -> Iterator[Record]:
    """The rows of CSV ``data`` (after the header; it starts at byte ``offset`` on line ``line``) as dicts.

    A row with more fields than the header is rejected; fewer fields leave the rest missing.
    """
    raw_lines = _lines(data)
    decoded = [raw.decode("utf-8", "surrogateescape") for raw in raw_lines]
    starts = [offset]
    for raw in raw_lines:
        starts.append(starts[-1] + len(raw))
    src = _Cursor(decoded)
    reader = csv.reader(src, strict=True)
    while src.pos < len(decoded):
        first = src.pos
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            src.pos = first + 1  # reject the line the record began on; read on from the next one
            reader = csv.reader(src, strict=True)
            yield Record(line + first, starts[first + 1], line + first + 1, raw_lines[first], _csv_problem(err))
            continue
        last = src.pos
        raw = b"".join(raw_lines[first:last])
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header) and last - first > 1:  # a quote left open swallowed the lines after it
            src.pos = first + 1
            reader = csv.reader(src, strict=True)
            unclosed = Invalid("row", _CSV_PROBLEMS["unexpected end of data"])
            yield Record(line + first, starts[first + 1], line + first + 1, raw_lines[first], unclosed)
            continue
        yield Record(line + first, starts[last], line + last, raw, _row(fields, header, raw))


def _row(fields: list[str], header: list[str], raw: bytes) -> dict[str, Any] | Invalid:
    if len(fields) > len(header):
        return Invalid("row", f"{len(fields)} fields, but the header names {len(header)}; quote text that "
                              "contains commas")
    bad = _decode(raw)
    if isinstance(bad, Invalid):
        return bad
    return {name: value for name, value in zip(header, fields, strict=False) if name}
