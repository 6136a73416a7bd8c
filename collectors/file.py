"""A source that imports mentions from JSONL or CSV files, so the pipeline runs with no credentials.

Columns (CSV header or JSON keys); only ``id``, ``text`` and ``created_at`` are required:

===============  ==========================================================
platform         where it was posted (default: the source's ``platform``)
id               the platform's id for the post (unique per platform)
text             the post's text
created_at       ISO-8601 time, e.g. 2026-11-20T14:05:00Z (naive = UTC), or epoch seconds
title            headline, for articles and Reddit submissions
author           author's handle or name
author_reach     followers (whole number)
url              link to the original
language         ISO 639-1 code, e.g. en
likes, replies, reposts, quotes   engagement counts (whole numbers)
conversation_id  thread id, so one conversation gets one escalation
in_reply_to      id of the post this replies to
label            optional: negative/neutral/positive, used by ``monitor backtest``
===============  ==========================================================

Each value goes through the edge rules (:mod:`collectors.fields`). A row that breaks one, or is
not UTF-8, JSON or CSV, is rejected with its line number, its bytes and the field at fault,
and the rows after it are read as usual (:mod:`collectors.records`). The cursor records, per
file, the byte offset and line reached, so a file that grows is read on from where it
stopped and a file read twice adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError

from collectors.base import Collector, Engagement, Mention, Page, RetriableError, SourceOptions
from collectors.edge import Edge, Invalid, Rejected, accept, explain
from collectors.fields import (
    Author,
    Count,
    Language,
    NativeId,
    OptionalId,
    OptionalText,
    Reach,
    Text,
    Time,
    Url,
    platform,
)
from collectors.records import Record, csv_header, csv_records, jsonl_records
from monitor.config.types import Duration

log = logging.getLogger(__name__)
PAGE_SIZE = 1000
SUFFIXES = (".jsonl", ".ndjson", ".csv")
REQUIRED = ("id", "text", "created_at")


class RowError(Invalid):
    """A row that cannot become a mention; the message names the field and the fix."""


class FileRow(Edge):
    """One row of a JSONL or CSV file, as the edge accepts it."""

    id: NativeId = Field(validation_alias=AliasChoices("id", "native_id"))
    text: Text
    created_at: Time
    platform: str | None = None
    title: OptionalText = None
    author: Author = ""
    author_reach: Reach = 0
    url: Url = ""
    language: Language = None
    likes: Count = 0
    replies: Count = 0
    reposts: Count = 0
    quotes: Count = 0
    conversation_id: OptionalId = None
    in_reply_to: OptionalId = None

    def mention(self, default_platform: str, raw: dict[str, Any]) -> Mention:
        """The mention this row describes; raises :class:`RowError` for a bad platform name."""
        try:
            name = platform(self.platform or default_platform)
        except ValueError as err:
            raise RowError("platform", str(err)) from None
        return Mention(
            platform=name, native_id=self.id, text=self.text, created_at=self.created_at, url=self.url,
            author=self.author, author_reach=self.author_reach, language=self.language, title=self.title,
            engagement=Engagement(likes=self.likes, replies=self.replies, reposts=self.reposts, quotes=self.quotes),
            conversation_id=self.conversation_id, in_reply_to=self.in_reply_to,
            raw={k: v for k, v in raw.items() if v not in (None, "")},
        )


def row_to_mention(row: dict[str, Any], default_platform: str = "file") -> Mention:
    """A :class:`Mention` from one CSV row or JSON object; raises :class:`RowError` naming the field."""
    try:
        return FileRow.model_validate(row).mention(default_platform, row)
    except ValidationError as err:
        reason, field = explain(err)
        error = RowError(None, reason)
        error.field = field
        raise error from None


def _records(path: Path, data: bytes, offset: int, line: int) -> Iterator[Record]:
    """The records of ``data`` (a whole file) from byte ``offset`` on line ``line``.

    Raises :class:`Invalid` for a CSV header that is unreadable or lacks a required column.
    """
    if path.suffix.lower() != ".csv":
        yield from jsonl_records(data[offset:], offset, line)
        return
    header = csv_header(data)
    if isinstance(header, Invalid):
        raise header
    names, after = header
    missing = [c for c in REQUIRED if c not in names and not (c == "id" and "native_id" in names)]
    if missing:
        raise Invalid("header", f"lacks column(s) {', '.join(sorted(missing))}; the first line must name at "
                                "least id,text,created_at")
    if offset < after:
        offset, line = after, 2
    yield from csv_records(data[offset:], names, offset, line)


def read_mentions(path: str | Path, default_platform: str = "file") -> Iterator[Mention]:
    """Every valid mention in a JSONL or CSV file; invalid rows are logged (with their line) and skipped.

    For tools that read a file once (``monitor backtest``); the file source keeps them instead.
    """
    path = Path(path)
    collector = FileCollector(FileSource(path=path, platform=default_platform), [], {})
    for page in collector.fetch({}):
        yield from page.mentions
        for r in page.rejected:
            log.warning("%s skipped: %s", r.position, r.reason)


class FileSource(SourceOptions):
    """``sources.file``: JSONL or CSV files dropped into ``path`` (a file or a folder); on by default."""

    enabled: bool = True
    interval: Duration = timedelta(minutes=1)
    path: Path = Path("data/inbox")
    platform: str = "file"


class FileCollector(Collector):
    """Reads every ``*.jsonl``/``*.ndjson``/``*.csv`` file at ``options.path`` (file or folder)."""

    name = "file"
    Options = FileSource
    order = 0

    def files(self) -> list[Path]:
        path = Path(self.options.path)
        if path.is_file():
            return [path]
        if path.is_dir():
            return sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        return []

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield pages of up to :data:`PAGE_SIZE` rows per file, rejected rows included.

        A CSV file whose header lacks a required column is left unread (the others are read);
        then :class:`RetriableError` names it once every other file is done.
        """
        done: dict[str, Any] = dict(cursor.get("files", {}))
        held: list[str] = []
        for path in self.files():
            try:
                yield from self._read(path, done)
            except Invalid as err:
                held.append(f"{path}: {err}")
        if held:
            raise RetriableError(f"file: {'; '.join(held)} (the file is read once fixed)")

    def _read(self, path: Path, done: dict[str, Any]) -> Iterator[Page]:
        key = str(path.resolve())
        data = path.read_bytes()
        head = data[: data.find(b"\n") + 1] if path.suffix.lower() == ".csv" else b""
        offset, line, skip = _resume(done.get(key), len(data))
        batch: list[Mention | Rejected] = []
        for record in _records(path, data, offset, line):
            offset, line = record.end, record.next_line
            if skip:
                skip -= 1
                continue
            batch.append(self._item(f"{path} line {record.line}", head, record))
            if len(batch) >= PAGE_SIZE:
                yield self._page(batch, done, key, offset, line)
                batch = []
        if batch or done.get(key) != {"offset": offset, "line": line}:
            yield self._page(batch, done, key, offset, line)

    def _page(self, batch: list[Mention | Rejected], done: dict[str, Any], key: str, offset: int,
              line: int) -> Page:
        done[key] = {"offset": offset, "line": line}
        return Page([m for m in batch if isinstance(m, Mention)], {"files": dict(done)},
                    [r for r in batch if isinstance(r, Rejected)])

    def _item(self, position: str, head: bytes, record: Record) -> Mention | Rejected:
        """The record's mention, or its rejection keeping ``head`` (a CSV file's header line) + its bytes."""
        payload = head + record.raw
        if isinstance(record.row, Invalid):
            return Rejected(position, payload, str(record.row), record.row.field)
        row = record.row
        return accept(lambda: FileRow.model_validate(row).mention(self.options.platform, row), position, payload)

    def reparse(self, payload: bytes, position: str) -> Mention | Rejected:
        """A rejected row's bytes (for CSV, the header line then the row) parsed again."""
        csv_file = position.rsplit(" line ", 1)[0].lower().endswith(".csv")
        try:
            records = list(_records(Path("row.csv" if csv_file else "row.jsonl"), payload, 0, 1))
        except Invalid as err:
            return Rejected(position, payload, str(err), err.field)
        if len(records) != 1:
            return Rejected(position, payload, f"row: the payload holds {len(records)} rows, not one", "row")
        head = payload[: payload.find(b"\n") + 1] if csv_file else b""
        return self._item(position, head, records[0])


def _resume(state: Any, size: int) -> tuple[int, int, int]:
    """``(byte offset, line, rows to skip)`` to resume a file from its cursor entry."""
    if isinstance(state, int):  # a cursor written before byte offsets: rows already taken
        return 0, 1, state
    if isinstance(state, dict) and isinstance(state.get("offset"), int) and 0 <= state["offset"] <= size:
        return state["offset"], int(state.get("line") or 1), 0
    if state is not None:
        log.info("file: a file shrank or its cursor is unreadable; reading it again from the start")
    return 0, 1, 0
