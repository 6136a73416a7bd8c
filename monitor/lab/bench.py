"""`monitor bench`: the figures we quote, measured on the machine it runs on.

Scoring throughput per inference path and batch size on real tweets, ingest throughput
with dedup and where its time goes (:mod:`monitor.lab.bench_scale`), brand matching and
language detection on real brand tweets, dashboard query latency on databases of 1,000,000
and 10,000,000 mentions before and after the rollups, scorer processes sharing a PostgreSQL
backlog and the scoring daemon's memory (:mod:`monitor.lab.bench_workers`), the time from a
mention's arrival to its alert row, and peak memory. Prints figures only; nothing here
asserts a timing.
"""

from __future__ import annotations

import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.config import ModelConfig, parse_config
from monitor.lab import demodata

Row = dict[str, Any]


def _tweets(n: int) -> list[str]:
    """Real tweets from ../shared's TweetEval validation split, else demo texts."""
    from models.data import shared_data_dir

    path = shared_data_dir() / "tweeteval_sentiment/val_text.txt"
    if path.exists():
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return (lines * (n // len(lines) + 1))[:n]
    return list(demodata.iter_texts(n))


def bench_scoring(n: int = 2000, batch_sizes: tuple[int, ...] = (1, 32, 128)) -> list[Row]:
    """Mentions/s per available backend and batch size (batch 1 runs on n/8 texts), and each
    ONNX figure's ratio to torch at the same batch size, measured in the same run."""
    from models.inference import ModelLoadError, load_scorer

    texts = _tweets(n)
    rows: list[Row] = []
    torch_rate: dict[int, float] = {}
    for backend in ("torch", "onnx"):
        for bs in batch_sizes:
            try:
                scorer = load_scorer(ModelConfig(backend=backend, batch_size=bs))
                scorer.score(texts[:64])  # load, warm up
            except ModelLoadError as err:
                rows.append({"what": f"scoring, {backend}", "batch": bs, "value": None, "unit": str(err)})
                break
            sample = texts[: max(n // 8, 16)] if bs == 1 else texts
            start = time.perf_counter()
            scorer.score(sample)
            rate = len(sample) / (time.perf_counter() - start)
            name = getattr(scorer, "backend_name", backend)
            rows.append({"what": f"scoring, {name}", "batch": bs, "value": rate, "unit": "mentions/s"})
            if name == "torch":
                torch_rate[bs] = rate
            elif bs in torch_rate:
                rows.append({"what": f"scoring, {name} / torch", "batch": bs, "value": rate / torch_rate[bs],
                             "unit": "x"})
    return rows


COLD_START = """
import resource, sys, time
t0 = time.perf_counter()
from monitor.context import App
from monitor.config import parse_config
app = App(config=parse_config({"brands": [{"name": "Acme", "keywords": ["acme"]}]}), env={})
app.scorer.score(["first score of the day @acme"])
seconds = time.perf_counter() - t0
import monitor.scheduler, monitor.jobs  # what the daemon imports besides the model
from monitor.escalations.semantic import risk_examples
risk_examples(app.config.escalation.semantic)  # and the escalation rules' sentence embedder
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch" in sys.modules)
"""


def bench_cold_start() -> list[Row]:
    """A fresh process's time to its first score (imports, model load, one mention) and the peak
    memory of a process holding what the daemon holds (the loaded model, the scheduler, the jobs, the
    escalation rules' sentence embedder)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True)
    seconds, rss, torch_loaded = out.stdout.split()
    note = " (torch imported)" if torch_loaded == "True" else " (no torch)"
    return [{"what": "first score in a fresh process (imports, model load, score)", "batch": 1,
             "value": float(seconds), "unit": "s"},
            {"what": f"peak memory, a process with the model loaded{note}", "batch": "", "value": float(rss),
             "unit": "MiB"}]


def _app(tmp: Path, brands: list[dict[str, Any]]) -> Any:
    from monitor.context import App
    from monitor.store.migrate import upgrade

    cfg = parse_config({"brands": brands, "database": {"url": f"sqlite:///{tmp / 'bench.db'}"},
                        "alerts": {"outbox_dir": str(tmp / "outbox")}})
    upgrade(cfg.database.url)
    return App(config=cfg, env={})


MATCH_BRANDS: list[dict[str, Any]] = [
    {"name": "Apple", "keywords": ["Apple"], "products": ["iPhone", "iPad", "iPod", "Mac", "MacBook", "iTunes", "iOS",
     "App Store"], "tickers": ["AAPL"], "handles": ["@Apple"], "exclude": ["apple pie", "big apple"]},
    {"name": "Google", "keywords": ["Google"], "products": ["Android", "Gmail", "Google Maps", "YouTube"],
     "tickers": ["GOOG", "GOOGL"], "handles": ["@Google"]},
]


def _brand_tweets(n: int) -> list[str]:
    """Real brand tweets (the SXSW set in ../shared's brand_sentiment), else TweetEval tweets."""
    import csv

    from models.data import shared_data_dir

    path = shared_data_dir() / "brand_sentiment/sxsw_brands_and_product_emotions.csv"
    if not path.exists():
        return _tweets(n)
    with path.open(encoding="latin-1", newline="") as fh:
        lines = [r["tweet_text"] for r in csv.DictReader(fh) if r["tweet_text"]]
    return (lines * (n // len(lines) + 1))[:n]


def bench_matching(n: int = 20_000) -> list[Row]:
    """Brand matching mentions/s on real brand tweets (two brands with products and tickers), with the
    platform's language given and with the language detected."""
    from monitor.config import BrandConfig
    from monitor.ingest.matching import Matcher

    matcher = Matcher([BrandConfig(**b) for b in MATCH_BRANDS])
    texts = _brand_tweets(n)
    out = []
    for label, language in (("brand matching", "en"), ("brand matching + language detection", None)):
        start = time.perf_counter()
        for text in texts:
            matcher.match(text, language)
        out.append({"what": label, "batch": 1, "value": len(texts) / (time.perf_counter() - start),
                    "unit": "mentions/s"})
    return out


def bench_alert_latency(tmp: Path, days: int = 21) -> list[Row]:
    """Seconds from a storm batch's arrival to its alert row: ingest, score (real model), detect."""
    from sqlalchemy import select

    from collectors.file import row_to_mention
    from monitor import jobs
    from monitor.ingest import ingest_mentions
    from monitor.store import Alert, Mention, Sentiment, session_scope
    from monitor.store.rollups import tracking

    app = _app(tmp, demodata.brand_config())
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    plan = demodata.generate(now, days=days)
    storm_from = plan.storm_start.isoformat()
    history = [r for r in plan.rows if r["created_at"] < storm_from]
    storm = [r for r in plan.rows if r["created_at"] >= storm_from]
    ingest_mentions(app.engine, "bench", [row_to_mention(r) for r in history], app.config.brands)
    demodata.collected_as_written(app.engine)
    planted = {r["id"]: r["label"] for r in history}
    with session_scope(app.engine) as session:  # history is pre-scored from its planted mood: only the storm is timed
        stored = session.execute(select(Mention.id, Mention.native_id)).all()
        with tracking(session, [mid for mid, _ in stored]):  # keeps the rollups exact, as scoring does
            for mid, native_id in stored:
                label = planted[native_id]
                session.add(Sentiment(mention_id=mid, label=label, p_negative=float(label == "negative"),
                                      p_neutral=float(label == "neutral"), p_positive=float(label == "positive"),
                                      model_version="bench-history"))
    jobs.detect(app)  # learn the baseline up to the storm
    app.scorer.score(["warm up"])
    start = time.perf_counter()
    ingest_mentions(app.engine, "bench", [row_to_mention(r) for r in storm], app.config.brands)
    jobs.score(app)
    jobs.detect(app)
    elapsed = time.perf_counter() - start
    with session_scope(app.engine) as session:
        alerts = session.query(Alert).count()
    app.engine.dispose()
    return [{"what": f"arrival to alert row ({len(storm)} storm mentions; alerts: {alerts})", "batch": "",
             "value": elapsed, "unit": "s"}]


def peak_memory_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """This machine in one line: CPU model, cores, the vector extensions int8 inference uses, Python."""
    import os

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", platform.machine()):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    ext = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    vnni = "VNNI" if {"avx512_vnni", "avx_vnni"} & flags else "no VNNI"
    return (f"{model}, {platform.machine()}, {os.cpu_count()} CPU cores ({', '.join(ext) or 'no AVX2'}; {vnni}), "
            f"Python {platform.python_version()}")


def load() -> str:
    """This machine's load average over 1, 5 and 15 minutes and its memory, in one line."""
    import os

    one, five, fifteen = os.getloadavg()
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min), {pages * size / 2**30:.0f} GiB memory"


def run_all(*, million_db: Path | None = None, ten_million_db: Path | None = None, pg_url: str | None = None,
            quick: bool = False) -> list[Row]:
    """Every figure, in the order the README table shows them; PostgreSQL figures only with ``pg_url``
    (its ``public`` schema is dropped and refilled)."""
    from monitor.lab import bench_scale, bench_workers

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        rows += bench_cold_start()
        rows += bench_scoring(n=128, batch_sizes=(1, 32)) if quick else bench_scoring(n=2000)
        rows += bench_scale.bench_ingest(f"sqlite:///{t / 'ingest.db'}", "SQLite", n=2000 if quick else 50_000)
        if pg_url:
            rows += bench_scale.bench_ingest(pg_url, "PostgreSQL", n=2000 if quick else 50_000)
        rows += bench_matching(n=2000 if quick else 20_000)
        sizes = [(million_db or t / "million.db", 5_000 if quick else 1_000_000, "1M" if not quick else "5k")]
        sizes.append((ten_million_db or t / "ten-million.db", 20_000 if quick else 10_000_000,
                      "10M" if not quick else "20k"))
        for path, n, size in sizes:
            rows += bench_scale.bench_big(path, n, size, runs=3 if quick else 20, old_runs=3 if quick else
                                          (20 if n <= 1_000_000 else 5))
        if pg_url:
            rows += bench_workers.bench_workers(pg_url, quick=quick)
        (t / "latency").mkdir()
        rows += bench_alert_latency(t / "latency", days=8 if quick else 21)
        (t / "daemon").mkdir()
        rows += bench_workers.bench_daemon_memory(t / "daemon", n=200 if quick else 2000)
    rows.append({"what": "peak memory (this process)", "batch": "", "value": peak_memory_mb(), "unit": "MiB"})
    return rows
