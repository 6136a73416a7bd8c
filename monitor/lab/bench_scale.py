"""`monitor bench` at scale: bulk ingest (where the time goes), and the dashboard's queries on
databases of 1,000,000 and 10,000,000 mentions, the queries as they were before the rollups and
as they are now, timed in the same run.

The big databases are SQLite files generated with bulk SQL (a recursive CTE inserts the rows,
the indexes are built afterwards, the rollups recounted once), so 10 million mentions take
minutes, not hours; ``--million-db`` and ``--ten-million-db`` keep them between runs.
"""

from __future__ import annotations

import gc
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.lab import demodata

Row = dict[str, Any]
BIG_END = datetime(2026, 11, 1)
BIG_DAYS = 90


def dense_mentions(n: int, hours: float = 12.0) -> list[Any]:
    """``n`` demo mentions (three brands, four platforms, varied text) posted over the last ``hours``:
    a big brand's stream, hundreds of thousands a day, as a collector's pages bring it."""
    from collectors.file import row_to_mention

    rows: list[dict[str, Any]] = []
    days = 30
    while len(rows) < n:
        rows = demodata.generate(days=days, base_per_hour=6.0).rows
        days *= 2
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    step = timedelta(hours=hours) / n
    out = []
    for i, r in enumerate(rows[:n]):
        out.append(row_to_mention({**r, "id": f"bench-{i}", "created_at": (end - step * (n - i)).isoformat()}))
    return out


def bench_ingest(url: str, where: str, n: int = 50_000, batch: int = 1000) -> list[Row]:
    """Mentions/s stored in batches of ``batch`` into ``url`` (new, then the same again: all
    duplicates), and per step the microseconds per new mention. On PostgreSQL the ``public``
    schema is dropped and made again first."""
    from monitor.config import parse_config
    from monitor.ingest import ingest_mentions
    from monitor.ingest.matching import compiled
    from monitor.ingest.pipeline import Stages
    from monitor.store import make_engine
    from monitor.store.migrate import upgrade

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":  # a database of its own: the public schema, emptied
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade(url)
    brands = parse_config({"brands": demodata.brand_config()}).brands
    mentions = dense_mentions(n + batch)
    gc.collect()
    gc.freeze()  # as the daemon does after start-up (scheduler.run_forever): the collector's page is young,
    # the bench's 50,000 pre-built mentions are not, and a full collection would scan them again and again
    compiled(brands)  # the matcher, compiled once per brand set, as a collector run does
    ingest_mentions(engine, "bench", mentions[n:], brands)  # a first page, then the statistics a live
    if engine.dialect.name == "postgresql":  # database has (autovacuum keeps them): else PostgreSQL's planner
        with engine.begin() as conn:         # takes the tables for empty and scans instead of using the index
            conn.exec_driver_sql("ANALYZE")
    mentions = mentions[:n]
    out: list[Row] = []
    for label in ("new", "all duplicates"):
        stages = Stages()
        start = time.perf_counter()
        for i in range(0, len(mentions), batch):
            ingest_mentions(engine, "bench", mentions[i : i + batch], brands, {"i": i}, stages=stages)
        rate = len(mentions) / (time.perf_counter() - start)
        out.append({"what": f"ingest, {label}, {where}", "batch": batch, "value": rate, "unit": "mentions/s"})
        if label == "new":
            out += [{"what": f"  {where} ingest step: {step}", "batch": batch, "value": s / len(mentions) * 1e6,
                     "unit": "us/mention"} for step, s in stages.seconds.items()]
    engine.dispose()
    gc.unfreeze()  # the benches after this one measure their own heap, as before
    return out


def build_big(path: Path, n: int) -> Path:
    """A SQLite database of ``n`` scored mentions over 90 days (three brands, four platforms, 200,000
    authors, some corrections and emotions), with its rollups; reused when it already holds ``n``."""
    from monitor.store.engine import make_engine
    from monitor.store.migrate import upgrade
    from monitor.store.rollup_rebuild import rebuild_on

    if path.exists():
        with sqlite3.connect(path) as conn:
            have = conn.execute("SELECT count(*) FROM mention").fetchone()[0]
            built = conn.execute("SELECT count(*) FROM rollup_hour").fetchone()[0]
        if have == n and built:
            return path
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('mention', 'mention_brand', 'sentiment')").fetchall()
    for name, _ in indexes:  # rows first, indexes after: many times faster
        conn.execute(f"DROP INDEX {name}")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO brand (id, name, is_own, created_at) VALUES (?, ?, ?, ?)",
                     [(i + 1, b["name"], b.get("is_own", True), BIG_END) for i, b in enumerate(demodata.BRANDS)])
    conn.execute("CREATE TEMP TABLE texts (k INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO texts VALUES (?, ?)", enumerate(demodata.iter_texts(500)))
    end = int((BIG_END - datetime(1970, 1, 1)).total_seconds())
    conn.execute(f"""
        INSERT INTO mention (id, platform, native_id, source, text, author, author_reach, likes, replies, reposts,
                             quotes, engagement, url, language, language_source, created_at, collected_at, raw)
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}),
        timed AS (SELECT i, strftime('%Y-%m-%d %H:%M:%S', {end} - (i * 2654435761) % {BIG_DAYS * 86400},
                                     'unixepoch') || '.000000' AS t FROM seq)
        SELECT i, CASE i % 4 WHEN 0 THEN 'x' WHEN 1 THEN 'reddit' WHEN 2 THEN 'hackernews' ELSE 'rss' END,
               'b' || i, 'bench', texts.text, CASE WHEN i % 50 = 0 THEN '' ELSE 'user' || ((i * 7919) % 200000) END,
               (i * 31) % 5000, i % 7, i % 3, i % 5, 0, i % 15, '', 'en', 'platform', t, t, '{{}}'
        FROM timed JOIN texts ON texts.k = i % 500""")
    conn.execute("""INSERT INTO mention_brand (mention_id, brand_id, created_at, matched_terms)
                    SELECT id, 1 + id % 3, created_at, '[]' FROM mention""")
    conn.execute("""
        INSERT INTO sentiment (mention_id, label, p_negative, p_neutral, p_positive, model_version, scored_at,
                               emotion)
        SELECT id, CASE (id * 40503) % 97 % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral' ELSE 'positive' END,
               0.33, 0.34, 0.33, 'bench', created_at,
               CASE (id * 613) % 5 WHEN 0 THEN 'anger' WHEN 1 THEN 'joy' WHEN 2 THEN 'optimism'
                                   WHEN 3 THEN 'sadness' END
        FROM mention""")
    conn.execute("INSERT INTO correction (mention_id, label, corrected_by, corrected_at) "
                 "SELECT id, 'negative', 'bench', created_at FROM mention WHERE id % 211 = 0")
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.close()
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as sa_conn:
        rebuild_on(sa_conn)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")
    return path


def percentiles(fn: Callable[[int], Any], runs: int) -> tuple[float, float]:
    """p50 and p95 milliseconds of ``fn(run)`` over ``runs`` runs."""
    times = []
    for run in range(runs):
        start = time.perf_counter()
        fn(run)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def bench_queries(db: Path, size: str, runs: int = 20, old_runs: int | None = None) -> list[Row]:
    """p50/p95 ms of the dashboard's overview (7 days and the 7 before, per brand) and trends (30 days,
    daily) on ``db``, uncached: the queries as they were (``old_runs`` times) and on the rollups now.

    Each run's window ends at a different minute that is not on the hour, as the dashboard's do.
    """
    from dashboard import queries
    from monitor.lab.bench_old import old_brand_series, old_brand_totals

    src = queries.Source(url=f"sqlite:///{db}", ttl_seconds=0)
    totals = queries.brand_totals.__wrapped__  # type: ignore[attr-defined]  # the SQL, not Streamlit's cache
    series = queries.brand_series.__wrapped__  # type: ignore[attr-defined]

    def end(k: int) -> datetime:
        return BIG_END - timedelta(hours=k, minutes=17 + k)

    ways: list[tuple[str, Callable[..., Any], Callable[..., Any], int]] = [
        ("before (raw)", old_brand_totals, old_brand_series, old_runs or runs),
        ("rollups", totals, series, runs)]
    out = []
    for how, total_fn, series_fn, n in ways:
        def overview(k: int, total_fn: Callable[..., Any] = total_fn) -> None:
            stop = end(k)
            total_fn(src, stop - timedelta(days=7), stop)
            total_fn(src, stop - timedelta(days=14), stop - timedelta(days=7))

        def trends(k: int, series_fn: Callable[..., Any] = series_fn) -> None:
            stop = end(k)
            series_fn(src, stop - timedelta(days=30), stop, 86400)

        for label, fn in (("overview (7d + previous 7d)", overview), ("trends (30d, daily)", trends)):
            p50, p95 = percentiles(fn, n)
            out.append({"what": f"dashboard {label}, {size}, {how}, p50", "batch": "", "value": p50, "unit": "ms"})
            out.append({"what": f"dashboard {label}, {size}, {how}, p95", "batch": "", "value": p95, "unit": "ms"})
    return out


def bench_big(path: Path, n: int, size: str, *, runs: int, old_runs: int) -> list[Row]:
    """Build (or reuse) the ``n``-mention database at ``path`` and time the dashboard on it."""
    started = time.perf_counter()
    reused = path.exists()
    build_big(path, n)
    built = time.perf_counter() - started
    rows = [] if reused else [
        {"what": f"generate the {size}-mention database with its rollups", "batch": "", "value": built, "unit": "s"}]
    return rows + bench_queries(path, size, runs=runs, old_runs=old_runs)
