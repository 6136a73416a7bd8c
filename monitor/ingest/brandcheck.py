"""``monitor check-brands``: run the brand rules over a labelled file, before going live.

A labelled file is CSV, TSV or JSONL with one mention a row: its ``text`` (and optionally
``title`` and ``language``, as the file source reads them) and a label column (``brands`` by
default) naming the configured brand(s) the row is about, separated by ``;`` or ``|`` (a JSON
list in JSONL). An empty label means "about none of the brands": a brand that matches it
has matched wrongly. ``mapping`` turns other labels into brand names (``not_relevant=`` for
none, ``iPad=Apple``); ``blank_unknown`` makes an empty label "not labelled" instead, and a
row labelled ``?`` is never counted for recall or precision.

Each row goes through the same path as ingest (:func:`monitor.text.normalise_text`, title and
text joined, the platform's language else detection), so what the report says is what
``monitor collect`` would store.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.base import full_text
from monitor.config import BrandConfig
from monitor.errors import UsageError
from monitor.ingest.matching import Judgement, Matcher
from monitor.text import normalise_text

UNKNOWN = "?"


class LabelledFileError(UsageError):
    """The labelled file cannot be read as the command expects; the message says what to fix."""


@dataclass
class Row:
    """One labelled mention: ``about`` is the set of brands it is about (empty: none), or None
    when it is not labelled."""

    line: int
    text: str
    about: frozenset[str] | None
    title: str | None = None
    language: str | None = None


@dataclass
class BrandReport:
    """One brand's figures on the file; the example lists hold (line, text, why) (why: empty, or
    the exclusion or the language that kept a labelled row out)."""

    name: str
    labelled: int = 0
    matched: int = 0
    correct: int = 0
    wrong: int = 0
    dropped_language: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    forms: Counter[str] = field(default_factory=Counter)
    missed_examples: list[tuple[int, str, str]] = field(default_factory=list)
    wrong_examples: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.labelled - self.correct

    @property
    def recall(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        judged = self.correct + self.wrong
        return self.correct / judged if judged else None

    def as_dict(self) -> dict[str, Any]:
        return {"brand": self.name, "labelled": self.labelled, "matched": self.matched,
                "correct": self.correct, "missed": self.missed, "wrong": self.wrong,
                "dropped_language": self.dropped_language, "recall": self.recall,
                "precision": self.precision, "rules": dict(self.rules.most_common()),
                "forms": dict(self.forms.most_common()), "missed_examples": self.missed_examples,
                "wrong_examples": self.wrong_examples}


@dataclass
class CheckReport:
    """The whole file: rows read, rows not labelled, label names that are no configured brand."""

    rows: int = 0
    unlabelled: int = 0
    unknown_labels: Counter[str] = field(default_factory=Counter)
    brands: list[BrandReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "unlabelled": self.unlabelled,
                "unknown_labels": dict(self.unknown_labels), "brands": [b.as_dict() for b in self.brands]}


def _records(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    try:
        with path.open(encoding=encoding, newline="") as fh:
            if suffix in (".jsonl", ".ndjson"):
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            yield n, json.loads(line)
                        except json.JSONDecodeError as err:
                            raise LabelledFileError(f"{path}:{n}: not JSON ({err.msg}); write one "
                                                    "JSON object a line") from None
            elif suffix in (".csv", ".tsv", ".txt"):
                reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                for n, rec in enumerate(reader, 2):
                    yield n, rec
            else:
                raise LabelledFileError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv or .jsonl")
    except UnicodeDecodeError as err:
        raise LabelledFileError(f"{path}: not {encoding} text ({err.reason} at byte {err.start}); pass "
                                "--encoding (e.g. latin-1 or cp1252)") from None
    except OSError as err:
        raise LabelledFileError(f"{path}: cannot read it ({err.strerror})") from None


def _labels(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    text = "" if value is None else str(value)
    return [p.strip() for p in text.replace("|", ";").split(";")]


def read_labelled(path: Path, *, text_column: str = "text", label_column: str = "brands",
                  mapping: dict[str, str] | None = None, blank_unknown: bool = False,
                  encoding: str = "utf-8") -> list[Row]:
    """The rows of ``path``; raises :class:`LabelledFileError` naming the missing column or bad line."""
    mapping = mapping or {}
    rows: list[Row] = []
    for n, rec in _records(path, encoding):
        if text_column not in rec or label_column not in rec:
            missing = text_column if text_column not in rec else label_column
            raise LabelledFileError(f"{path}:{n}: no {missing!r} column; name it with --text-column/"
                                    f"--label-column (columns: {', '.join(map(str, rec))})")
        names: set[str] = set()
        unknown = False
        for label in _labels(rec[label_column]):
            for name in _labels(mapping.get(label, label)):
                unknown = unknown or name == UNKNOWN
                if name and name != UNKNOWN:
                    names.add(name)
        about = None if unknown or (blank_unknown and not names) else frozenset(names)
        rows.append(Row(line=n, text=str(rec[text_column] or ""), title=rec.get("title") or None,
                        language=rec.get("language") or None,
                        about=about))
    return rows


def check_brands(rows: Iterable[Row], brands: Sequence[BrandConfig], *, examples: int = 5) -> CheckReport:
    """Run the brand rules over ``rows``: per brand, what matched, what was missed, which rules fired."""
    matcher = Matcher(brands)
    names = {b.name for b in brands}
    report = CheckReport(brands=[BrandReport(b.name) for b in brands])
    by_name = {b.name: b for b in report.brands}
    for row in rows:
        report.rows += 1
        text = full_text(row.title, normalise_text(row.text))
        judged = matcher.judge(text, row.language)
        if row.about is None:
            report.unlabelled += 1
        else:
            report.unknown_labels.update(n for n in row.about if n not in names)
        for name, b in by_name.items():
            about = None if row.about is None else name in row.about
            matched = name in judged.brands
            b.dropped_language += name in judged.dropped
            if about:
                b.labelled += 1
            if matched:
                b.matched += 1
                b.rules.update({f"{h.kind}: {h.term}" for h in judged.hits[name]})
                b.forms.update({h.form for h in judged.hits[name]})
                if about:
                    b.correct += 1
                elif about is False:
                    b.wrong += 1
                    if len(b.wrong_examples) < examples:
                        b.wrong_examples.append((row.line, text, ""))
            elif about and len(b.missed_examples) < examples:
                b.missed_examples.append((row.line, text, _why_missed(matcher, name, text, judged)))
    return report


def _why_missed(matcher: Matcher, name: str, text: str, judged: Judgement) -> str:
    if name in judged.dropped:
        return f"language {judged.language.code} ({judged.language.source})"
    veto = matcher.excluded(text).get(name)
    return f"excluded by {veto!r}" if veto else ""


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["iPad=Apple", "not_relevant="]`` -> ``{"iPad": "Apple", "not_relevant": ""}``; raises
    :class:`LabelledFileError` for a pair without ``=``."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise LabelledFileError(f"--map {pair!r}: write LABEL=BRAND (or LABEL= for no brand)")
        label, brand = pair.split("=", 1)
        out[label.strip()] = brand.strip()
    return out
