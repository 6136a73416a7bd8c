"""The rollups stay exact: after random ingest, scoring, correction, re-scoring and emotion
sequences (and writers running at once on PostgreSQL) they equal a recount of the stored rows,
on SQLite and PostgreSQL; the reads built on them equal a recount of any window; and
`monitor db rebuild-rollups` finds and repairs rollups that a bypassing write left behind.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.cli import cli
from monitor.ingest import ingest_mentions
from monitor.scoring import correct_sentiment, rescore, score_pending
from monitor.store import Correction, MentionBrand, Sentiment, session_scope
from monitor.store import Mention as MentionRow
from monitor.store.rollup_reads import bucket_counts, emotion_counts, label_counts, people_counts
from monitor.store.rollup_rebuild import differences, rebuild
from monitor.store.rollups import tracking
from tests import fixtures_rollups as fx
from tests.fixtures_rollups import EMOTIONS, T0, FakeScorer, config_for, open_engine, random_mentions, recount, stored

pg_database = fx.pg_database  # the fixture, for pytest to find


def _mention_ids(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return [int(i) for i in s.execute(select(MentionRow.id).order_by(MentionRow.id)).scalars()]


def _set_emotions(engine: Engine, ids: list[int], rng: random.Random) -> None:
    """Give scored mentions an emotion the way a model with an emotion head would, through tracking."""
    with session_scope(engine) as s:
        scored = [i for i in s.execute(select(Sentiment.mention_id).where(Sentiment.mention_id.in_(ids))).scalars()]
        with tracking(s, scored):
            for mid in scored:
                emotion = rng.choice([*EMOTIONS, None])
                s.execute(update(Sentiment).where(Sentiment.mention_id == mid).values(emotion=emotion))


def _random_sequence(engine: Engine, tmp_path: Path, seed: int, steps: int = 40) -> None:
    config = config_for(tmp_path, str(engine.url.render_as_string(hide_password=False)))
    rng = random.Random(seed)
    scorers = [FakeScorer("fake-1"), FakeScorer("fake-2")]
    next_id = 0
    for step in range(steps):
        action = rng.choice(["ingest", "ingest", "score", "correct", "rescore", "emotion"])
        if action == "ingest" or step == 0:
            batch = random_mentions(rng, rng.randint(1, 40), next_id)
            if next_id and rng.random() < 0.5:  # some mentions again: duplicates change nothing
                batch += random_mentions(random.Random(seed), 5, 0)
            next_id += len(batch)
            ingest_mentions(engine, "x", batch, config.brands)
        elif action == "score":
            score_pending(engine, rng.choice(scorers), batch_size=rng.choice([3, 16, 64]),
                          limit=rng.choice([None, 10]))
        elif action == "correct":
            ids = _mention_ids(engine)
            for mid in rng.sample(ids, min(len(ids), 5)):  # scored or not
                correct_sentiment(engine, mid, rng.choice(["negative", "neutral", "positive"]), by="t")
        elif action == "rescore":
            rescore(engine, rng.choice(scorers), batch_size=rng.choice([4, 50]))
        else:
            ids = _mention_ids(engine)
            _set_emotions(engine, rng.sample(ids, min(len(ids), 15)), rng)
        if step % 10 == 9:
            assert stored(engine) == recount(engine), f"after step {step} ({action})"


def _assert_exact(engine: Engine) -> None:
    expected = recount(engine)
    assert expected["rollup_hour"] and expected["rollup_author"], "the sequence stored nothing"
    assert expected["rollup_emotion"] and any(k[3] == "negative" for k in expected["rollup_hour"])
    assert any(k[3] == "unsupported" for k in expected["rollup_hour"])
    assert stored(engine) == expected
    assert list(differences(engine)) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequences_keep_the_rollups_exact_on_sqlite(tmp_path: Path, seed: int) -> None:
    engine = open_engine(fx.sqlite_database(tmp_path))
    _random_sequence(engine, tmp_path, seed)
    _assert_exact(engine)
    engine.dispose()


@pytest.mark.parametrize("seed", [4, 5])
def test_random_sequences_keep_the_rollups_exact_on_postgres(pg_database: str, tmp_path: Path, seed: int) -> None:
    engine = open_engine(pg_database)
    _random_sequence(engine, tmp_path, seed)
    _assert_exact(engine)
    engine.dispose()


def test_writers_at_once_on_postgres_neither_lose_nor_double_a_count(pg_database: str, tmp_path: Path) -> None:
    """Two collectors (overlapping pages), two scorers and a person correcting, all in threads."""
    engine = open_engine(pg_database)
    config = config_for(tmp_path, pg_database)
    errors: list[BaseException] = []
    done = threading.Event()

    def guarded(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as err:  # reported by the assertion below
                errors.append(err)
        return run

    def collector(seed: int) -> None:
        rng = random.Random(seed)
        for page in range(15):
            ingest_mentions(engine, "x", random_mentions(rng, 30, 1000 * (page % 8)), config.brands)

    def scorer(version: str) -> None:
        while not done.is_set():
            score_pending(engine, FakeScorer(version), batch_size=8)
        score_pending(engine, FakeScorer(version), batch_size=8)

    def person() -> None:
        rng = random.Random(9)
        while not done.is_set():
            ids = _mention_ids(engine)
            if ids:
                correct_sentiment(engine, rng.choice(ids), rng.choice(["negative", "positive"]), by="ana")

    collectors = [threading.Thread(target=guarded(lambda s=s: collector(s))) for s in (1, 2)]
    others = [threading.Thread(target=guarded(lambda v=v: scorer(v))) for v in ("fake-a", "fake-b")]
    others.append(threading.Thread(target=guarded(person)))
    for t in collectors + others:
        t.start()
    for t in collectors:
        t.join()
    done.set()
    for t in others:
        t.join()
    assert not errors, errors
    with Session(engine) as s:
        unscored = s.execute(select(MentionRow.id).outerjoin(Sentiment, Sentiment.mention_id == MentionRow.id)
                             .where(Sentiment.mention_id.is_(None))).all()
    assert unscored == []
    assert stored(engine) == recount(engine)
    engine.dispose()


def _python_window(engine: Engine, start: datetime, end: datetime, size: int) -> tuple[Counter[Any], dict[Any, Any],
                                                                                        Counter[Any]]:
    """Links per (brand, bucket, platform, label), people per (brand, bucket, platform), emotions per
    (brand, bucket, emotion) in [start, end), counted in Python."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(MentionBrand.brand_id, MentionBrand.created_at, MentionRow.id, MentionRow.platform,
                   MentionRow.author, Sentiment.label, Sentiment.emotion, Correction.label)
            .join(MentionRow, MentionRow.id == MentionBrand.mention_id)
            .outerjoin(Sentiment, Sentiment.mention_id == MentionBrand.mention_id)
            .outerjoin(Correction, Correction.mention_id == MentionBrand.mention_id)).all()
    labels: Counter[Any] = Counter()
    emotions: Counter[Any] = Counter()
    people: dict[Any, list[set[Any]]] = defaultdict(lambda: [set(), set()])
    for brand, created, mid, platform, author, model, emotion, corrected in rows:
        if not start <= created < end:
            continue
        bucket = int((created - datetime(1970, 1, 1)).total_seconds() // size)
        label = corrected or model or "unscored"
        labels[(brand, bucket, platform, label)] += 1
        if emotion:
            emotions[(brand, bucket, emotion)] += 1
        person = author or f"anonymous mention {mid}"
        people[(brand, bucket, platform)][0].add(person)
        if label == "negative":
            people[(brand, bucket, platform)][1].add(person)
    return labels, {k: (len(a), len(n)) for k, (a, n) in people.items()}, emotions


@pytest.mark.parametrize("size", [3600, 6 * 3600, 86400, 1800])
def test_reads_equal_a_recount_of_any_window(tmp_path: Path, size: int) -> None:
    _check_reads(open_engine(fx.sqlite_database(tmp_path)), tmp_path, size)


@pytest.mark.parametrize("size", [3600, 86400, 1800])
def test_reads_equal_a_recount_of_any_window_on_postgres(pg_database: str, tmp_path: Path, size: int) -> None:
    _check_reads(open_engine(pg_database), tmp_path, size)


def _check_reads(engine: Engine, tmp_path: Path, size: int) -> None:
    _random_sequence(engine, tmp_path, seed=11, steps=30)
    rng = random.Random(size)
    for _ in range(6):  # windows starting and ending mid-hour, mid-bucket, or on the hour
        start = T0.replace(tzinfo=None) + timedelta(minutes=rng.randrange(0, 40 * 60, 7))
        end = start + timedelta(minutes=rng.choice([59, 60, 61, 6 * 60 + 13, 30 * 60]))
        labels, people, emotions = _python_window(engine, start, end, size)
        with engine.connect() as conn:
            got = {(c.brand_id, c.bucket, c.platform, c.label): c.mentions
                   for c in label_counts(conn, start, end, size, by_platform=True)}
            assert got == dict(labels)
            for raw in (False, True):  # the old way, from the mentions only, agrees too
                total = Counter()
                for c in label_counts(conn, start, end, None, raw=raw):
                    total[(c.brand_id, c.label)] += c.mentions
                expected = Counter()
                for (b, _, _, lab), n in labels.items():
                    expected[(b, lab)] += n
                assert total == expected
            assert {(p.brand_id, p.bucket, p.platform): (p.authors, p.negative_authors)
                    for p in people_counts(conn, start, end, size)} == people
            assert {(e.brand_id, e.bucket, e.emotion): e.mentions
                    for e in emotion_counts(conn, start, end, size)} == dict(emotions)
            for row in bucket_counts(conn, start, end, size):
                assert row.mentions == labels[(row.brand_id, row.bucket, row.platform, row.label)]
                want = people[(row.brand_id, row.bucket, row.platform)][1] if row.label == "negative" else None
                assert row.authors == want
    engine.dispose()


def test_rebuild_rollups_finds_and_repairs_what_a_bypassing_write_left(tmp_path: Path) -> None:
    url = fx.sqlite_database(tmp_path)
    engine = open_engine(url)
    config = config_for(tmp_path, url)
    ingest_mentions(engine, "x", random_mentions(random.Random(3), 30, 0), config.brands)
    score_pending(engine, FakeScorer())
    with session_scope(engine) as s:  # a hand-made fix that bypasses monitor.scoring
        s.execute(update(Sentiment).values(label="negative"))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"brands": [{"name": "Acme", "keywords": ["acme"]}],
                                                          "database": {"url": url}}), encoding="utf-8")
    runner = CliRunner()
    args = ["--config", str(tmp_path / "config.yaml"), "db", "rebuild-rollups"]
    check = runner.invoke(cli, [*args, "--check"])
    assert check.exit_code == 1, check.output
    assert "rollup_hour" in check.output and "run `monitor db rebuild-rollups`" in check.output
    fixed = runner.invoke(cli, args)
    assert fixed.exit_code == 0, fixed.output
    assert "rollups rebuilt" in fixed.output and "rollup_hour rows" in fixed.output
    again = runner.invoke(cli, [*args, "--check"])
    assert again.exit_code == 0 and "0 rollup row(s) differ" in again.output
    assert stored(engine) == recount(engine)
    rebuild(engine)  # rebuilding exact rollups changes nothing
    assert stored(engine) == recount(engine)
    engine.dispose()
