"""`monitor bench` for many workers and for the daemon: scoring throughput with 1, 2 and 3 scorer
processes sharing one PostgreSQL backlog, and the memory of ``monitor run --only score`` with the
model loaded.

The scorer processes run the real claim-and-commit path (:func:`monitor.scoring.score_pending`).
With :class:`FixedLatencyScorer` (a fixed time per batch, as a model on a GPU or another
machine takes) the figures show what the claims cost and how work spreads; with the real model
on this machine's CPU cores they show what one machine gains.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.lab import demodata

Row = dict[str, Any]
LABELS = ("negative", "neutral", "positive", "unsupported")


@dataclass(frozen=True)
class FakeScore:
    label: str
    p_negative: float
    p_neutral: float
    p_positive: float


class FixedLatencyScorer:
    """A scorer whose label follows from a hash of the text and ``version`` (a quarter each of
    negative, neutral, positive and unsupported), taking ``delay`` seconds per batch."""

    def __init__(self, version: str = "fixed-latency", delay: float = 0.0) -> None:
        self.version = version
        self.delay = delay

    def score(self, texts: list[str]) -> list[FakeScore]:
        if self.delay:
            time.sleep(self.delay)
        out = []
        for t in texts:
            label = LABELS[hashlib.sha1(f"{self.version}:{t}".encode()).digest()[0] % 4]
            p = {lab: (0.8 if lab == label else 0.1) for lab in LABELS[:3]}
            out.append(FakeScore(label, p["negative"], p["neutral"], p["positive"]))
        return out


WORKER = """
import json, sys, time
from pathlib import Path
from monitor.scoring import score_pending
from monitor.store import make_engine
url, kind, folder, name = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
if kind == "model":
    from monitor.config import ModelConfig
    from models.inference import load_scorer
    scorer = load_scorer(ModelConfig(batch_size=32))
    scorer.score(["warm up"])
else:
    from monitor.lab.bench_workers import FixedLatencyScorer
    scorer = FixedLatencyScorer(name, delay=float(kind))
engine = make_engine(url)
engine.connect().close()
(folder / f"{name}.ready").touch()
while not (folder / "go").exists():
    time.sleep(0.005)
n = score_pending(engine, scorer, batch_size=32 if kind == "model" else 64)
(folder / f"{name}.done").write_text(json.dumps({"n": n, "at": time.time()}))
"""


def _fill(url: str, n: int) -> None:
    """A fresh schema on ``url`` holding ``n`` unscored mentions of the demo brands."""
    from sqlalchemy import text

    from monitor.config import parse_config
    from monitor.ingest import ingest_mentions
    from monitor.lab.bench_scale import dense_mentions
    from monitor.store import make_engine
    from monitor.store.migrate import upgrade

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    brands = parse_config({"brands": demodata.brand_config()}).brands
    mentions = dense_mentions(n)
    for i in range(0, n, 1000):
        ingest_mentions(engine, "bench", mentions[i : i + 1000], brands)
    engine.dispose()


def scorers_at_once(url: str, workers: int, kind: str, n: int) -> float:
    """Mentions/s scoring ``n`` mentions with ``workers`` processes at once (from the common start to
    the last one done; model loading not counted)."""
    _fill(url, n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = [f"w{i}" for i in range(workers)]
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, kind, tmp, name]) for name in names]
        while not all((folder / f"{name}.ready").exists() for name in names):
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a scorer process failed to start")
            time.sleep(0.02)
        start = time.time()
        (folder / "go").touch()
        for p in procs:
            p.wait()
        done = [json.loads((folder / f"{name}.done").read_text()) for name in names]
    assert sum(d["n"] for d in done) == n, done
    return n / (max(d["at"] for d in done) - start)


def bench_workers(url: str, *, quick: bool = False) -> list[Row]:
    """Scoring throughput on PostgreSQL with 1, 2 and 3 scorer processes: a fixed-latency scorer (50 ms a
    batch of 64), then the real model (1 and 2 processes; each uses this machine's cores)."""
    out: list[Row] = []
    n = 640 if quick else 6400
    for workers in (1, 2, 3):
        rate = scorers_at_once(url, workers, "0.05", n)
        out.append({"what": f"scoring on PostgreSQL, {workers} process(es), fixed 50 ms per batch", "batch": 64,
                    "value": rate, "unit": "mentions/s"})
    if not quick:
        for workers in (1, 2):
            rate = scorers_at_once(url, workers, "model", 1024)
            out.append({"what": f"scoring on PostgreSQL, {workers} process(es), the shipped model", "batch": 32,
                        "value": rate, "unit": "mentions/s"})
    return out


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of process ``pid`` in KiB, from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def bench_daemon_memory(tmp: Path, n: int = 2000, timeout: float = 600) -> list[Row]:
    """Start ``monitor run --only score`` on a SQLite file holding ``n`` unscored mentions, wait until it
    has scored them, and read its resident memory (now and at its peak) from /proc."""
    import signal

    import yaml
    from sqlalchemy import func, select

    from monitor.config import parse_config
    from monitor.ingest import ingest_mentions
    from monitor.lab.bench_scale import dense_mentions
    from monitor.store import Sentiment, make_engine
    from monitor.store.migrate import upgrade

    url = f"sqlite:///{tmp / 'daemon.db'}"
    config = {"brands": demodata.brand_config(), "database": {"url": url}, "model": {"interval": "5s"},
              "alerts": {"outbox_dir": str(tmp / "outbox")}}
    (tmp / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    upgrade(url)
    engine = make_engine(url)
    mentions = dense_mentions(n)
    brands = parse_config({"brands": demodata.brand_config()}).brands
    for i in range(0, n, 1000):
        ingest_mentions(engine, "bench", mentions[i : i + 1000], brands)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(tmp / "config.yaml"), "run", "--only",
                             "score"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(Sentiment)).scalar_one() >= n:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"monitor run --only score exited with {proc.returncode}")
            time.sleep(1)
        time.sleep(2)  # let it finish the run and go idle
        mem = _status(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        engine.dispose()
    return [{"what": f"daemon `monitor run --only score`, model loaded, after scoring {n:,}: resident", "batch": "",
             "value": mem["VmRSS"] / 1024, "unit": "MiB"},
            {"what": "daemon `monitor run --only score`: peak resident", "batch": "", "value": mem["VmHWM"] / 1024,
             "unit": "MiB"}]
