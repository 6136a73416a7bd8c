"""Many workers on one PostgreSQL: three scorer processes share the backlog (each mention scored once,
by one of them, all three at work at the same time), detection and delivery run in one instance at
a time, and `monitor run --only ROLE` runs just that role.

The scorers run the real claim-and-commit path (:func:`monitor.scoring.score_pending`) with a
fast scorer that takes a fixed time per batch, as a model on a GPU or another machine would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlmodel import Session

from monitor import jobs
from monitor.cli import cli
from monitor.context import App
from monitor.ingest import ingest_mentions
from monitor.store import Sentiment
from monitor.store.locks import exclusive
from tests import fixtures_rollups as fx
from tests.conftest import ROOT, config_dict
from tests.fixtures_rollups import config_for, open_engine, random_mentions, recount, stored

pg_database = fx.pg_database  # the fixture, for pytest to find

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from monitor import scoring
    from monitor.store import make_engine
    from tests.fixtures_rollups import FakeScorer

    url, name, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    engine = make_engine(url)
    batches = []

    class Recording(FakeScorer):
        def score(self, texts):
            began = time.time()
            out = super().score(texts)
            batches.append({"from": began, "to": time.time(), "n": len(texts)})
            return out

    original = scoring._score_chunk
    scored = []
    def chunk(session, scorer, rows, *, replace):
        scored.extend(int(r[0]) for r in rows)
        return original(session, scorer, rows, replace=replace)
    scoring._score_chunk = chunk
    engine.connect().close()
    (folder / f"{name}.ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    total = scoring.score_pending(engine, Recording(name, delay=0.05), batch_size=20)
    (folder / f"{name}.json").write_text(json.dumps({"total": total, "ids": scored, "batches": batches}))
    """
)


def test_three_scorer_processes_share_the_backlog_and_score_each_mention_once(pg_database: str,
                                                                              tmp_path: Path) -> None:
    engine = open_engine(pg_database)
    config = config_for(tmp_path, pg_database)
    import random

    rng = random.Random(7)
    for page in range(6):
        ingest_mentions(engine, "x", random_mentions(rng, 100, page * 100), config.brands)
    with Session(engine) as s:
        backlog = s.execute(select(func.count()).select_from(fx.MentionRow)).scalar_one()
    names = ["w1", "w2", "w3"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, pg_database, n, str(tmp_path)], env=env, cwd=ROOT)
             for n in names]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"{n}.ready").exists() for n in names):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a worker did not start"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    for p in procs:
        assert p.wait(timeout=180) == 0
    reports = {n: json.loads((tmp_path / f"{n}.json").read_text()) for n in names}

    ids = [set(r["ids"]) for r in reports.values()]
    assert sum(len(i) for i in ids) == backlog == len(set().union(*ids))  # every mention scored, none twice
    with Session(engine) as s:
        by_worker = dict(s.execute(select(Sentiment.model_version, func.count()).group_by(Sentiment.model_version)).all())
        rows = {n: set(s.execute(select(Sentiment.mention_id).where(Sentiment.model_version == n)).scalars())
                for n in names}
    assert sum(by_worker.values()) == backlog
    for n in names:  # each worker's rows are exactly the mentions it scored: none was scored in vain
        assert rows[n] == set(reports[n]["ids"]) and reports[n]["total"] == len(rows[n]) > 0
    # throughput grows with workers: the batches of all three were being scored at the same moment
    events = sorted((b[k], +1 if k == "from" else -1) for r in reports.values() for b in r["batches"]
                    for k in ("from", "to"))
    busy = peak = 0
    for _, step in events:
        busy += step
        peak = max(peak, busy)
    assert peak == 3
    assert stored(engine) == recount(engine)  # the rollups stayed exact under three writers
    engine.dispose()


def test_detection_and_delivery_run_in_one_instance_at_a_time(pg_database: str, tmp_path: Path) -> None:
    app = App(config=config_for(tmp_path, pg_database), env={})
    with exclusive(app.engine, "detect") as first:
        assert first
        with exclusive(app.engine, "detect") as second:
            assert not second
        assert jobs.detect(app) == "not run: another instance is detecting"
    with exclusive(app.engine, "deliver") as held:
        assert held
        assert str(jobs.send_alerts(app)) == "not run: another instance is delivering alerts"
    assert "new escalation(s)" in jobs.detect(app)  # released: it runs again
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from monitor.store import make_engine
        from monitor.store.locks import exclusive
        with exclusive(make_engine({pg_database!r}), "detect") as mine:
            print(mine, flush=True)
            time.sleep(60)
        """)], env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
    assert jobs.detect(app) == "not run: another instance is detecting"
    holder.kill()  # a process that dies holding the lock frees it
    holder.wait()
    deadline = time.monotonic() + 10
    while jobs.detect(app).startswith("not run"):
        assert time.monotonic() < deadline, "the dead holder's lock was not released"
        time.sleep(0.1)
    app.engine.dispose()


def test_sqlite_instances_take_turns_too(app: App) -> None:
    with exclusive(app.engine, "detect") as first:
        assert first
        with exclusive(app.engine, "detect") as second:
            assert not second
    with exclusive(app.engine, "detect") as again:
        assert again


@pytest.mark.parametrize("role", ["score", "collect"])
def test_run_only_runs_one_role(tmp_path: Path, role: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps({"id": "1", "text": "Acme is down", "created_at": "2026-11-20T10:00:00Z",
                                               "platform": "x"}) + "\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(config_dict(tmp_path)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "run", "--once", "--only", role])
    assert result.exit_code == 0, result.output
    if role == "score":
        assert result.output.strip() == "scored 0 mention(s)"  # nothing collected, nothing detected or sent
    else:
        assert result.output.startswith("file: ok, 1 new") and "scored" not in result.output
        assert "detect" not in result.output and "send-alerts" not in result.output


def test_the_daemons_later_runs_search_from_near_the_newest_scored_and_find_every_new_mention(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from sqlalchemy import delete

    from monitor.scoring import score_pending
    from monitor.store import claims, session_scope

    monkeypatch.setattr(claims, "SCAN_SLACK", 10)
    rng = random.Random(2)
    ingest_mentions(app.engine, "x", random_mentions(rng, 50, 0), app.config.brands)
    assert score_pending(app.engine, fx.FakeScorer(), batch_size=16) == 50
    assert claims.scan_floor(app.engine) == 40  # ten below the newest scored mention
    ingest_mentions(app.engine, "x", random_mentions(rng, 30, 50), app.config.brands)
    assert score_pending(app.engine, fx.FakeScorer(), batch_size=16, full=False) == 30  # every new one
    with session_scope(app.engine) as s:  # a score lost far below the newest: only a full search finds it
        s.execute(delete(Sentiment).where(Sentiment.mention_id == 5))
    assert score_pending(app.engine, fx.FakeScorer(), full=False) == 0
    assert score_pending(app.engine, fx.FakeScorer()) == 1  # `monitor score` and the daemon's first run
