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

The cursor records, per file, how many rows were already taken, so a file that grows is
read on from where it stopped and a file read twice adds nothing.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collectors.base import Collector, Engagement, FatalSourceError, Mention, Page, SourceOptions
from monitor.config.types import Duration

log = logging.getLogger(__name__)
PAGE_SIZE = 1000
SUFFIXES = (".jsonl", ".ndjson", ".csv")


class RowError(ValueError):
    """A row that cannot become a mention; the message names the field and the fix."""


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from ISO-8601 text or epoch seconds; raises RowError."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value or "").strip()
    if not text:
        raise RowError("created_at is empty (write an ISO-8601 time, e.g. 2026-11-20T14:05:00Z)")
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"created_at {text!r} is not an ISO-8601 time (write e.g. 2026-11-20T14:05:00Z)") from None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _int(row: dict[str, Any], key: str) -> int:
    value = row.get(key)
    if value in (None, ""):
        return 0
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise RowError(f"{key} {value!r} is not a whole number (write e.g. 42 or leave it empty)") from None


def row_to_mention(row: dict[str, Any], default_platform: str = "file") -> Mention:
    """A :class:`Mention` from one CSV row or JSON object; raises RowError naming the field."""
    native_id = str(row.get("id") or row.get("native_id") or "").strip()
    if not native_id:
        raise RowError("id is missing (give each row the platform's post id)")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RowError("text is missing or empty (give the post's text)")
    optional = {k: (str(row[k]).strip() or None) if row.get(k) not in (None, "") else None
                for k in ("title", "language", "conversation_id", "in_reply_to")}
    return Mention(
        platform=str(row.get("platform") or default_platform).strip().lower(),
        native_id=native_id,
        text=text,
        created_at=parse_time(row.get("created_at")),
        url=str(row.get("url") or ""),
        author=str(row.get("author") or ""),
        author_reach=_int(row, "author_reach"),
        engagement=Engagement(likes=_int(row, "likes"), replies=_int(row, "replies"),
                              reposts=_int(row, "reposts"), quotes=_int(row, "quotes")),
        raw={k: v for k, v in row.items() if v not in (None, "")},
        **optional,
    )


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Yield (line number, row or the error for that line) from a JSONL or CSV file."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"id", "text", "created_at"} - set(reader.fieldnames or [])
            if missing and not ({"native_id"} & set(reader.fieldnames or []) and missing == {"id"}):
                raise FatalSourceError(
                    f"{path}: header lacks column(s) {', '.join(sorted(missing))}; "
                    "the first line must name at least id,text,created_at"
                )
            for row in reader:
                yield reader.line_num, row
        return
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                yield n, RowError(f"not valid JSON ({err.msg} at column {err.colno})")
                continue
            yield n, obj if isinstance(obj, dict) else RowError("not a JSON object")


def read_mentions(path: str | Path, default_platform: str = "file") -> Iterator[Mention]:
    """Every valid mention in a JSONL or CSV file; invalid rows are logged and skipped."""
    for _n, mention in _numbered_mentions(Path(path), default_platform, skip=0):
        if mention is not None:
            yield mention


def _numbered_mentions(path: Path, platform: str, skip: int) -> Iterator[tuple[int, Mention | None]]:
    """Yield (rows read so far, mention or None for an invalid row), skipping ``skip`` rows."""
    for index, (line, row) in enumerate(read_rows(path)):
        if index < skip:
            continue
        try:
            if isinstance(row, RowError):
                raise row
            yield index + 1, row_to_mention(row, platform)
        except (RowError, ValueError) as err:
            log.warning("%s line %d skipped: %s", path, line, err)
            yield index + 1, None


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
        done: dict[str, int] = dict(cursor.get("files", {}))
        for path in self.files():
            key = str(path.resolve())
            taken = done.get(key, 0)
            batch: list[Mention] = []
            for rows_done, mention in _numbered_mentions(path, self.options.platform, skip=taken):
                if mention is not None:
                    batch.append(mention)
                taken = rows_done
                if len(batch) >= PAGE_SIZE:
                    done[key] = taken
                    yield Page(batch, {"files": dict(done)})
                    batch = []
            if batch or done.get(key, 0) != taken:
                done[key] = taken
                yield Page(batch, {"files": dict(done)})
