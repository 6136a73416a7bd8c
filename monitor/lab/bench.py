"""`monitor bench`: the figures we quote, measured on the machine it runs on.

Scoring throughput per inference path and batch size on real tweets, ingest throughput
into SQLite with dedup, brand matching and language detection on real brand tweets,
dashboard query latency on a database of 1,000,000 mentions, the time from a mention's
arrival to its alert row, and peak memory. Prints figures only;
nothing here asserts a timing.
"""

from __future__ import annotations

import platform
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch" in sys.modules)
"""


def bench_cold_start() -> list[Row]:
    """A fresh process's time to its first score (imports, model load, one mention) and the peak
    memory of a process holding what the daemon holds (the loaded model, the scheduler, the jobs)."""
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


def bench_ingest(tmp: Path, n: int = 50_000, batch: int = 1000) -> list[Row]:
    """Mentions/s stored in batches of ``batch``, then the same again (all duplicates)."""
    from collectors.file import row_to_mention
    from monitor.ingest import ingest_mentions

    app = _app(tmp, demodata.brand_config())
    rows = demodata.generate(days=max(1, n // 300), base_per_hour=4.0).rows[:n]
    mentions = [row_to_mention(r) for r in rows]
    out = []
    for label in ("ingest, new", "ingest, all duplicates"):
        start = time.perf_counter()
        for i in range(0, len(mentions), batch):
            ingest_mentions(app.engine, "bench", mentions[i : i + batch], app.config.brands, {"i": i})
        out.append({"what": label, "batch": batch, "value": len(mentions) / (time.perf_counter() - start),
                    "unit": "mentions/s"})
    app.engine.dispose()
    return out


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


def build_million(path: Path, n: int = 1_000_000, seed: int = 1) -> Path:
    """A SQLite database with ``n`` scored mentions over 90 days for three brands (reused if present)."""
    from monitor.store.migrate import upgrade

    if path.exists():
        with sqlite3.connect(path) as conn:
            if conn.execute("SELECT count(*) FROM mention").fetchone()[0] >= n:
                return path
        path.unlink()
    upgrade(f"sqlite:///{path}")
    rng = random.Random(seed)
    end = datetime(2026, 11, 1)
    span = 90 * 86400
    texts = list(demodata.iter_texts(500))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany("INSERT OR IGNORE INTO brand (id, name, is_own, created_at) VALUES (?, ?, ?, ?)",
                     [(i + 1, b["name"], b.get("is_own", True), end) for i, b in enumerate(demodata.BRANDS)])
    platforms = ["x", "reddit", "hackernews", "rss"]
    labels = ["negative", "neutral", "positive"]
    chunk = 50_000
    for base in range(0, n, chunk):
        m, mb, s = [], [], []
        for i in range(base, min(base + chunk, n)):
            t = end - timedelta(seconds=rng.randrange(span))
            m.append((i + 1, platforms[i % 4], str(i), "bench", texts[i % 500], "", 0, 0, 0, 0, 0, 0, "", "en",
                      t, t, "{}"))
            mb.append((i + 1, 1 + i % 3, t, "[]"))
            p = rng.random()
            s.append((i + 1, labels[int(p * 3)], p / 3, 1 / 3, 1 - p / 3 - 1 / 3, "bench", t))
        conn.executemany(
            "INSERT INTO mention (id, platform, native_id, source, text, author, author_reach, likes, replies, "
            "reposts, quotes, engagement, url, language, created_at, collected_at, raw) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", m)
        conn.executemany("INSERT INTO mention_brand (mention_id, brand_id, created_at, matched_terms) "
                         "VALUES (?,?,?,?)", mb)
        conn.executemany("INSERT INTO sentiment (mention_id, label, p_negative, p_neutral, p_positive, "
                         "model_version, scored_at) VALUES (?,?,?,?,?,?,?)", s)
        conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return path


def _percentiles(fn: Callable[[int], Any], runs: int) -> tuple[float, float]:
    times = []
    for run in range(runs):
        start = time.perf_counter()
        fn(run)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def bench_queries(db: Path, runs: int = 20) -> list[Row]:
    """p50/p95 ms of the dashboard's overview and trends queries (uncached) on ``db``."""
    from dashboard import queries

    src = queries.Source(url=f"sqlite:///{db}", ttl_seconds=0)
    end = datetime(2026, 11, 1)
    totals = queries.brand_totals.__wrapped__  # the SQL itself, not Streamlit's cache
    series = queries.brand_series.__wrapped__

    def overview(k: int) -> None:
        stop = end - timedelta(hours=k)
        totals(src, stop - timedelta(days=7), stop)
        totals(src, stop - timedelta(days=14), stop - timedelta(days=7))

    def trends(k: int) -> None:
        stop = end - timedelta(hours=k)
        series(src, stop - timedelta(days=30), stop, 86400)

    out = []
    for label, fn in (("dashboard overview (7d + previous 7d)", overview), ("dashboard trends (30d, daily)", trends)):
        p50, p95 = _percentiles(fn, runs)
        out.append({"what": f"{label}, p50", "batch": "", "value": p50, "unit": "ms"})
        out.append({"what": f"{label}, p95", "batch": "", "value": p95, "unit": "ms"})
    return out


def bench_alert_latency(tmp: Path, days: int = 21) -> list[Row]:
    """Seconds from a storm batch's arrival to its alert row: ingest, score (real model), detect."""
    from sqlalchemy import select

    from collectors.file import row_to_mention
    from monitor import jobs
    from monitor.ingest import ingest_mentions
    from monitor.store import Alert, Mention, Sentiment, session_scope

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
        for mid, native_id in session.execute(select(Mention.id, Mention.native_id)).all():
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


def run_all(*, million_db: Path | None = None, quick: bool = False) -> list[Row]:
    """Every figure, in the order the README table shows them."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        rows += bench_cold_start()
        rows += bench_scoring(n=128, batch_sizes=(1, 32)) if quick else bench_scoring(n=2000)
        (t / "ingest").mkdir()
        rows += bench_ingest(t / "ingest", n=2000 if quick else 50_000)
        rows += bench_matching(n=2000 if quick else 20_000)
        db = million_db or Path(tmp) / "million.db"
        rows += bench_queries(build_million(db, n=5000 if quick else 1_000_000), runs=3 if quick else 20)
        (t / "latency").mkdir()
        rows += bench_alert_latency(t / "latency", days=8 if quick else 21)
    rows.append({"what": "peak memory (this process)", "batch": "", "value": peak_memory_mb(), "unit": "MiB"})
    return rows
