"""The same code on PostgreSQL: migrations, idempotent ingest, detection and the dashboard's SQL.

A throwaway PostgreSQL server is started on loopback for the session (Debian's postgresql
package, which .ci/run installs); the suite fails, not skips, when it is not there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from collectors.base import Mention
from monitor.context import App
from monitor.ingest import ingest_mentions
from monitor.store import Mention as MentionRow
from monitor.store import Sentiment, session_scope


def _mention(i: int, when: datetime, text: str = "Acme is down, I want a refund @acme") -> Mention:
    return Mention(platform="x", native_id=str(i), text=text, created_at=when, author=f"u{i}",
                   author_reach=50_000 if i == 0 else 10, conversation_id=f"c{i}")


def test_migrations_ingest_and_dedup_on_postgres(pg_app: App) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with pg_app.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    now = datetime.now(UTC)
    batch = [_mention(i, now - timedelta(minutes=i)) for i in range(20)]
    assert ingest_mentions(pg_app.engine, "x", batch, pg_app.config.brands, {"since_id": "19"}).stored == 20
    again = ingest_mentions(pg_app.engine, "x", batch, pg_app.config.brands, {"since_id": "19"})
    assert (again.stored, again.duplicates) == (0, 20)
    with Session(pg_app.engine) as s:
        assert s.execute(select(func.count()).select_from(MentionRow)).scalar_one() == 20


def test_detection_and_dashboard_queries_on_postgres(pg_app: App) -> None:
    from dashboard import queries
    from monitor.jobs import run_detection

    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    history = [_mention(1000 + i, now - timedelta(hours=1 + i % 300), "Acme is fine") for i in range(300)]
    storm = [_mention(i, now - timedelta(minutes=1 + i)) for i in range(25)]
    ingest_mentions(pg_app.engine, "x", history + storm, pg_app.config.brands)
    with session_scope(pg_app.engine) as s:
        for row in s.execute(select(MentionRow.id, MentionRow.native_id)).all():
            neg = int(row.native_id) < 1000
            s.add(Sentiment(mention_id=row.id, label="negative" if neg else "neutral", p_negative=0.97 if neg else 0.02,
                            p_neutral=0.02 if neg else 0.96, p_positive=0.01 if neg else 0.02, model_version="t"))
    report = run_detection(pg_app.engine, pg_app.config)
    assert report is not None
    with Session(pg_app.engine) as s:
        escalations = s.execute(text("SELECT count(*) FROM escalation")).scalar_one()
    assert escalations >= 1
    src = queries.Source(url=str(pg_app.engine.url.render_as_string(hide_password=False)), ttl_seconds=0)
    totals: Any = queries.brand_totals.__wrapped__(src, (now - timedelta(days=30)).replace(tzinfo=None),
                                                   (now + timedelta(hours=1)).replace(tzinfo=None))
    assert int(totals["mentions"].sum()) == 325
    series: Any = queries.brand_series.__wrapped__(src, (now - timedelta(days=30)).replace(tzinfo=None),
                                                   (now + timedelta(hours=1)).replace(tzinfo=None), 3600)
    assert int(series["mentions"].sum()) == 325 and series["bucket"].nunique() > 100
