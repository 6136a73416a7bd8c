"""Brand matching and language through the real ingest, on SQLite and PostgreSQL: every written
form stored with the terms that matched, the language stored with where it came from, and a
mention dropped for language counted (and shown in the collect summary), never silently lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlmodel import Session

from collectors.base import Mention
from monitor.config import parse_config
from monitor.context import App
from monitor.ingest import ingest_mentions
from monitor.store import Brand, MentionBrand
from monitor.store import Mention as MentionRow
from monitor.store.migrate import upgrade
from tests.conftest import config_dict

BRANDS: list[dict[str, Any]] = [
    {"name": "Apple", "keywords": ["Apple"], "products": ["iPhone", "iPad"], "tickers": ["AAPL"],
     "handles": ["@Apple"], "exclude": ["apple pie"], "languages": ["en"]},
    {"name": "Time Warner", "keywords": ["Time Warner Cable"], "aliases": ["Time Warner"]},
    {"name": "Google", "keywords": ["Google"], "products": ["Android"]},
]

FORMS = [  # (text, platform language, brand -> stored matched terms)
    ("$AAPL up 3% today", "en", {"Apple": ["$aapl"]}),
    ("#AAPL and AAPL at the close", "en", {"Apple": ["#aapl", "aapl"]}),
    ("the iPhones of Apple's fans", "en", {"Apple": ["iphones", "apple"]}),
    ("waited all night for an iPad2", "en", {"Apple": ["ipad2"]}),
    ("my iPhone4S is dying", "en", {"Apple": ["iphone4s"]}),
    ("the iPad 2 is out", "en", {"Apple": ["ipad"]}),
    ("Androids everywhere", "en", {"Google": ["androids"]}),
    ("timewarner is down", "en", {"Time Warner": ["timewarner"]}),
    ("time-warner cable outage again", "en", {"Time Warner": ["time-warner cable"]}),
    ("the Time/Warner deal", "en", {"Time Warner": ["time/warner"]}),
    ("#AppleStore with my Android", "en", {"Apple": ["apple"], "Google": ["android"]}),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    sqlite = f"sqlite:///{tmp_path / 'monitor.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("pg_url")
    application = App(config=parse_config(config_dict(tmp_path, brands=BRANDS, database={"url": url})), env={})
    if request.param == "postgresql":
        with application.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    yield application
    application.engine.dispose()


def _mention(i: int, body: str, language: str | None = None) -> Mention:
    return Mention(platform="x", native_id=str(i), text=body, created_at=datetime(2026, 11, 20, 12, i % 60, tzinfo=UTC),
                   language=language)


def _stored(app: App) -> dict[str, dict[str, list[str]]]:
    """Mention text -> brand -> matched terms, as stored."""
    with Session(app.engine) as s:
        rows = s.execute(select(MentionRow.text, Brand.name, MentionBrand.matched_terms)
                         .join(MentionBrand, MentionBrand.mention_id == MentionRow.id)
                         .join(Brand, Brand.id == MentionBrand.brand_id)).all()
    out: dict[str, dict[str, list[str]]] = {}
    for body, brand, terms in rows:
        out.setdefault(body, {})[brand] = list(terms)
    return out


def _languages(app: App) -> dict[str, tuple[str | None, str | None]]:
    with Session(app.engine) as s:
        rows = s.execute(select(MentionRow.text, MentionRow.language, MentionRow.language_source)).all()
    return {body: (lang, source) for body, lang, source in rows}


def test_every_written_form_is_stored_with_its_matched_terms(app: App) -> None:
    batch = [_mention(i, body, lang) for i, (body, lang, _) in enumerate(FORMS)]
    batch += [_mention(100, "apple pie with my iPhone", "en"), _mention(101, "pineapple and $AAPLX", "en")]
    result = ingest_mentions(app.engine, "x", batch, app.config.brands)
    assert (result.stored, result.unmatched, result.language_dropped) == (len(FORMS), 2, 0)
    assert _stored(app) == {body: expected for body, _, expected in FORMS}


def test_language_is_stored_with_its_source(app: App) -> None:
    batch = [
        _mention(1, "Apple event today", "en-GB"),                               # the platform's, normalised
        _mention(2, "Google announced a new phone for the holidays, finally", None),  # detected
        _mention(3, "Google Maps ist heute wieder völlig kaputt, keine Ahnung warum", "und"),  # X's "undetermined"
        _mention(4, "Google 👍", None),                                          # too little to tell
    ]
    assert ingest_mentions(app.engine, "x", batch, app.config.brands).stored == 4
    assert _languages(app) == {
        "Apple event today": ("en", "platform"),
        "Google announced a new phone for the holidays, finally": ("en", "detected"),
        "Google Maps ist heute wieder völlig kaputt, keine Ahnung warum": ("de", "detected"),
        "Google 👍": (None, "detected"),
    }


def test_a_mention_dropped_for_language_is_counted_not_stored(app: App) -> None:
    batch = [
        _mention(1, "Mi iPhone se apaga solo cuando la batería está baja, qué desastre", None),  # detected es
        _mention(2, "Apple launches a new iPhone", "fr"),                                        # platform fr
        _mention(3, "Mi iPhone y mi Android se apagan solos cuando la batería está baja", None),
        _mention(4, "my iPhone died", "en"),
        _mention(5, "nothing about any brand", "en"),
    ]
    result = ingest_mentions(app.engine, "x", batch, app.config.brands)
    assert (result.stored, result.language_dropped, result.unmatched) == (2, 2, 1)
    # Apple watches English only; Google every language: the Spanish mention is kept for Google alone.
    stored = _stored(app)
    assert stored["Mi iPhone y mi Android se apagan solos cuando la batería está baja"] == {"Google": ["android"]}
    assert stored["my iPhone died"] == {"Apple": ["iphone"]}


def test_collect_summary_shows_the_mentions_dropped_for_language(tmp_path: Path) -> None:
    from monitor.cli import cli

    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(config_dict(tmp_path, brands=BRANDS)), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [{"id": "1", "text": "my iPhone died", "created_at": "2026-11-20T10:00:00Z"},
            {"id": "2", "text": "Mi iPhone se apaga solo cuando la batería está baja", "created_at": "2026-11-20T10:01:00Z"},
            {"id": "3", "text": "Mon iPhone ne charge plus depuis la mise à jour", "created_at": "2026-11-20T10:02:00Z",
             "language": "fr"}]
    (inbox / "batch.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "init"], catch_exceptions=False).exit_code == 0
    result = runner.invoke(cli, ["--config", str(config), "collect", "file"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "file: ok, 1 new, 0 duplicate, 0 unmatched, 2 dropped for language" in result.output


def test_the_migration_marks_languages_already_stored_as_the_platforms(app: App) -> None:
    url = app.config.database.url  # start again at 0001, with rows stored before detection existed
    if url.startswith("postgresql"):
        with app.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        app.engine.dispose()
        Path(url.removeprefix("sqlite:///")).unlink()
    upgrade(url, "0001")
    with app.engine.begin() as conn:
        for i, lang in ((1, "en"), (2, None)):
            conn.execute(text("INSERT INTO mention (platform, native_id, source, text, author, author_reach, likes, "
                              "replies, reposts, quotes, engagement, url, language, created_at, collected_at, raw) "
                              "VALUES ('x', :i, 'x', 'old', '', 0, 0, 0, 0, 0, 0, '', :lang, :t, :t, '{}')"),
                         {"i": str(i), "lang": lang, "t": datetime(2026, 1, 1)})
    upgrade(url, "0015")
    with app.engine.connect() as conn:
        got = conn.execute(text("SELECT native_id, language, language_source FROM mention ORDER BY native_id")).all()
    assert [tuple(r) for r in got] == [("1", "en", "platform"), ("2", None, None)]
