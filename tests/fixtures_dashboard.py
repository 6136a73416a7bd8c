"""A seeded SQLite database and config for the dashboard tests.

:func:`seed` writes a few hundred mentions across three brands, three platforms and every
label (plus unscored ones), escalations, alerts and collector states, all relative to ``now``,
and returns what it wrote so tests compute their expected numbers from the seed itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, SQLModel
from streamlit.testing.v1 import AppTest

from monitor.store import (
    Alert,
    AlertDelivery,
    Brand,
    Escalation,
    Mention,
    MentionBrand,
    Sentiment,
    SourceState,
    make_engine,
    utcnow,
)
from monitor.store.rollup_rebuild import rebuild

BRANDS = [("Acme", True), ("Globex", False), ("Initech", False)]
PLATFORMS = ("x", "reddit", "hackernews")
LABELS = ("negative", "neutral", "positive", None)
HOSTILE_TEXT = "<script>alert(1)</script> **markdown** [link](http://x)"
CURRENT = 360  # mentions in the last ~6.3 days, 25 minutes apart
PREVIOUS = 60  # mentions 8 to 13 days ago
TIER_FLOOR = {1: 46, 2: 55, 3: 67, 4: 79}  # the default escalation.tiers


@dataclass(frozen=True)
class SeedMention:
    id: int
    brands: tuple[str, ...]
    platform: str
    label: str | None
    created_at: datetime
    text: str
    escalated: bool = False


@dataclass
class Seed:
    url: str
    now: datetime
    mentions: list[SeedMention] = field(default_factory=list)
    escalation_ids: dict[str, list[int]] = field(default_factory=dict)
    alert_ids: list[int] = field(default_factory=list)
    brand_ids: dict[str, int] = field(default_factory=dict)
    config: Path = Path("config.yaml")

    def count(self, since: datetime, **match: object) -> int:
        """Mentions since ``since``; keyword filters: brand, platform, label, escalated."""
        n = 0
        for m in self.mentions:
            if m.created_at < since:
                continue
            if "brand" in match and match["brand"] not in m.brands:
                continue
            if any(getattr(m, k) != v for k, v in match.items() if k != "brand"):
                continue
            n += 1
        return n


def _mention(i: int, created: datetime, text: str, platform: str) -> Mention:
    return Mention(platform=platform, native_id=f"n{i}", source=platform, text=text, author=f"user{i % 17}",
                   author_reach=100 * (i % 50), likes=i % 9, engagement=i % 31,
                   url=f"https://example.com/{platform}/{i}", language="en", conversation_id=f"c{i}",
                   created_at=created, collected_at=created + timedelta(minutes=1))


def seed(target: Path | str, now: datetime) -> Seed:
    """Create the tables in a new SQLite file at ``target`` (or an empty database at that URL)
    and fill them; returns the :class:`Seed`."""
    url = target if isinstance(target, str) else f"sqlite:///{target}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    out = Seed(url=url, now=now)
    with Session(engine) as s:
        brands = [Brand(name=n, is_own=own) for n, own in BRANDS]
        s.add_all(brands)
        s.flush()
        out.brand_ids = {b.name: int(b.id or 0) for b in brands}
        plan: list[tuple[datetime, str, str, tuple[str, ...], str | None]] = [
            (now - timedelta(minutes=5), HOSTILE_TEXT, "x", ("Acme",), "negative")
        ]
        for i in range(CURRENT + PREVIOUS):
            created = (now - timedelta(minutes=30 + 25 * i) if i < CURRENT
                       else now - timedelta(days=8, minutes=100 * (i - CURRENT)))
            name = BRANDS[i % 3][0]
            names = (name, BRANDS[(i + 1) % 3][0]) if i % 30 == 0 else (name,)
            label = LABELS[(i // 9) % 4]
            platform = PLATFORMS[(i // 3) % 3]
            plan.append((created, f"{names[0]} mention {i} feels {label or 'unclear'}", platform, names, label))
        for i, (created, text, platform, names, label) in enumerate(plan):
            m = _mention(i, created, text, platform)
            s.add(m)
            s.flush()
            mid = int(m.id or 0)
            for n in names:
                s.add(MentionBrand(mention_id=mid, brand_id=out.brand_ids[n], created_at=created,
                                   matched_terms=[n.lower()]))
            if label:
                p = {lab: (0.8 if lab == label else 0.1) for lab in ("negative", "neutral", "positive")}
                s.add(Sentiment(mention_id=mid, label=label, p_negative=p["negative"], p_neutral=p["neutral"],
                                p_positive=p["positive"], model_version="minilm-sentiment@2026-11-01",
                                scored_at=created + timedelta(minutes=2)))
            out.mentions.append(SeedMention(mid, names, platform, label, created, text))
        _work(s, out, now)
        s.commit()
    rebuild(engine)  # the rows above bypass the writers that keep the rollups; count them once
    engine.dispose()
    return out


def _work(s: Session, out: Seed, now: datetime) -> None:
    """Escalations on Acme's negative mentions, alerts and collector states."""
    acme = out.brand_ids["Acme"]
    negatives = [m for m in out.mentions if m.label == "negative" and "Acme" in m.brands][:12]
    statuses = ["open"] * 5 + ["acknowledged"] * 3 + ["resolved"] * 3 + ["dismissed"]
    for k, (m, status) in enumerate(zip(negatives, statuses, strict=True)):
        created = m.created_at + timedelta(minutes=3)
        severity = 1 + k % 4
        esc = Escalation(mention_id=m.id, brand_id=acme, conversation_key=f"x:c{m.id}", severity=severity,
                         priority=TIER_FLOOR[severity] + k, status=status, reasons=["negative 80%", "money: refund"],
                         created_at=created)
        if status != "open":
            esc.acknowledged_at = created + timedelta(minutes=10 * (k + 1))
        if status in ("resolved", "dismissed"):
            esc.resolved_at = created + timedelta(hours=k)
        s.add(esc)
        s.flush()
        out.escalation_ids.setdefault(status, []).append(int(esc.id or 0))
        idx = out.mentions.index(m)
        out.mentions[idx] = SeedMention(m.id, m.brands, m.platform, m.label, m.created_at, m.text, True)
    alerts = [
        Alert(brand_id=acme, kind="negative_volume", is_open=True, window_start=now - timedelta(hours=5),
              window_end=now - timedelta(hours=4), observed=42, expected=6.5, p_value=1.2e-22, severity=3,
              details={"bucket_seconds": 3600, "dispersion": 1.5,
                       "buckets": [{"start": (now - timedelta(hours=5)).isoformat(), "observed": 42, "expected": 6.5}],
                       "rising_terms": [{"term": "outage", "count": 9, "share": 0.4, "baseline_share": 0.02}],
                       "top_mentions": [{"id": out.mentions[0].id, "text": HOSTILE_TEXT, "url": "javascript:alert(2)",
                                         "author": "user0", "platform": "x", "reach": 120_000}]}),
        Alert(brand_id=out.brand_ids["Globex"], kind="negative_volume", is_open=False,
              window_start=now - timedelta(days=3), window_end=now - timedelta(days=3, hours=-1), observed=20,
              expected=4.0, p_value=2e-4, severity=2, details={"rising_terms": ["recall"]}),
    ]
    s.add_all(alerts)
    s.flush()
    out.alert_ids = [int(a.id or 0) for a in alerts]
    s.add_all([
        AlertDelivery(alert_id=out.alert_ids[0], channel="email", status="sent", attempts=1,
                      sent_at=now - timedelta(hours=4), target="smtp.acme.test"),
        AlertDelivery(alert_id=out.alert_ids[0], channel="care-slack", status="failed", attempts=2,
                      last_error="care-slack did not accept the alert: HTTP 500", next_attempt_at=now),
        AlertDelivery(alert_id=out.alert_ids[1], channel="email", status="failed", attempts=5,
                      last_error="SMTP 535 authentication failed"),
    ])
    s.add(SourceState(name="x", last_run_at=now - timedelta(minutes=2), last_success_at=now - timedelta(minutes=2),
                      mentions_collected=250, runs=40))
    s.add(SourceState(name="reddit", last_run_at=now - timedelta(minutes=3), last_error="HTTP 429 rate limited",
                      last_error_at=now - timedelta(minutes=3), last_success_at=now - timedelta(hours=2),
                      mentions_collected=120, runs=38))
    s.add(SourceState(name="hackernews", last_run_at=now - timedelta(minutes=22),  # every 1m: late
                      last_success_at=now - timedelta(minutes=22), mentions_collected=40, runs=9))


def write_config(tmp_path: Path, db_url: str, **dashboard: object) -> Path:
    """A config.yaml in ``tmp_path`` for the seeded brands over ``db_url``; returns its path."""
    data = {
        "brands": [
            {"name": "Acme", "keywords": ["acme"], "competitors": ["Globex", "Initech"]},
            {"name": "Globex", "keywords": ["globex"], "is_own": False},
            {"name": "Initech", "keywords": ["initech"], "is_own": False},
        ],
        "database": {"url": db_url},
        "sources": {"x": {"enabled": True, "interval": "5m"}, "reddit": {"enabled": True, "interval": "5m"},
                    "hackernews": {"enabled": True, "interval": "1m"}},
        "dashboard": {"refresh": "60s", "cache_ttl": "30s", "page_size": 25, "auth": {"enabled": False},
                      **dashboard},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def dash_seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """A seeded database and its config, shared by a module's read-only tests."""
    tmp = tmp_path_factory.mktemp("dash")
    data = seed(tmp / "monitor.db", utcnow())
    data.config = write_config(tmp, data.url)
    return data


@pytest.fixture
def dash_rw_seed(tmp_path: Path) -> Seed:
    """A seeded database of its own, for a test that writes."""
    data = seed(tmp_path / "monitor.db", utcnow())
    data.config = write_config(tmp_path, data.url)
    return data


def open_app(config: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    """Run the dashboard on ``config`` (via $MONITOR_CONFIG), switched to ``pages/<page>.py``."""
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at
