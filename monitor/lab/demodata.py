"""Believable synthetic mention history for `monitor demo` and `monitor bench`.

Four weeks for three fictional brands (two of ours, one competitor) across X, Reddit,
Hacker News and RSS: volume follows a daily rhythm (quiet at night, busy afternoons) and a
weekly one (quieter weekends); text is composed from varied templates with a mood drawn
per mention; one negative storm (an outage) is planted at the end, with a handful of
high-reach, risk-term complaints that should become escalations.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BRANDS = [
    {"name": "Nimbus", "keywords": ["Nimbus", "Nimbus Cloud"], "handles": ["@nimbus", "@nimbushelp"],
     "products": ["Nimbus Cloud", "the Nimbus app", "Nimbus Drive", "Nimbus sync"], "competitors": ["Stratus"],
     "weight": 1.0},
    {"name": "Kettle", "keywords": ["Kettle", "Kettle Coffee"], "handles": ["@kettlecoffee"],
     "exclude": ["kettle corn", "pot calling the kettle"],
     "products": ["Kettle Coffee", "the Kettle app", "Kettle's cold brew", "the Kettle loyalty card"],
     "competitors": [], "weight": 0.7},
    {"name": "Stratus", "keywords": ["Stratus", "Stratus Storage"], "handles": ["@stratus"], "is_own": False,
     "products": ["Stratus Storage", "the Stratus app", "Stratus backup"], "competitors": [], "weight": 0.8},
]

POSITIVE = [
    "honestly {p} has been great this week", "{p} just saved my whole afternoon, thank you",
    "shoutout to {p}, support fixed it in five minutes", "switched to {p} and not looking back 🙌",
    "{p} update is smooth, love the new design", "been using {p} for a year and it just works ❤️",
    "{p} is lowkey the best thing I pay for", "wow {p} actually listened to feedback, nice",
    "the new {p} feature slaps", "big fan of how fast {p} is now 🚀",
]
NEUTRAL = [
    "anyone know if {p} works on linux?", "{p} announced new pricing today", "trying {p} for the first time",
    "is {p} down for anyone or just me?", "how do I export my data from {p}", "{p} vs the others, thoughts?",
    "reading the {p} changelog", "{p} is hiring in Berlin apparently", "what's the {p} student discount",
    "{p} has a webinar on Thursday",
]
NEGATIVE = [
    "{p} keeps logging me out, so annoying", "why is {p} so slow today 😤", "{p} support has not replied in 3 days",
    "the {p} update broke my settings", "paying for {p} and still seeing ads??", "{p} charged me twice this month",
    "{p} app crashes every time I open it", "not impressed with {p} lately tbh", "{p} customer service is a joke",
    "getting really tired of {p} bugs",
]
STORM = [
    "{p} is down AGAIN, nothing loads", "{p} outage for hours now and zero communication",
    "lost all my files?? {p} what is going on", "{p} down, my whole team is blocked", "is {p} ever coming back up 😡",
    "{p} status page says green but nothing works", "worst outage ever, {p} you owe us a refund",
    "day ruined by the {p} outage", "{p} still broken, cancelling my subscription", "{p} down and support is silent",
]
ESCALATIONS = [
    "@{h} your outage cost my company a day of work, we are talking to our lawyer",
    "@{h} I want a full refund for this month, this outage is unacceptable",
    "Data breach? @{h} my account shows logins from another country. Please respond",
    "@{h} cancelling all 40 seats today unless someone calls me back",
    "@{h} three days without access, filing a chargeback with my bank",
]
TAILS = ["", "", "", " #fail", " lol", " 🙃", " smh", " #tech", " (again)", " anyone else?", " !!!"]
PLATFORMS = [("x", 0.55), ("reddit", 0.25), ("hackernews", 0.1), ("rss", 0.1)]


@dataclass(frozen=True)
class DemoPlan:
    """What :func:`generate` produces: the rows, the storm's window and the brand it hits."""

    rows: list[dict[str, Any]]
    storm_start: datetime
    storm_end: datetime
    storm_brand: str


def _rate(t: datetime, base: float) -> float:
    """Mentions per hour: a daily curve peaking mid-afternoon UTC, weekends at 60%."""
    daily = 0.35 + 0.65 * math.exp(-((t.hour - 15) ** 2) / 18)
    weekly = 0.6 if t.weekday() >= 5 else 1.0
    return base * daily * weekly


def _mention(rng: random.Random, i: int, brand: dict[str, Any], t: datetime, mood: str,
             text: str | None = None, reach: int | None = None) -> dict[str, Any]:
    platform = rng.choices([p for p, _ in PLATFORMS], weights=[w for _, w in PLATFORMS])[0]
    product = rng.choice(brand["products"])
    pool = {"positive": POSITIVE, "neutral": NEUTRAL, "negative": NEGATIVE, "storm": STORM}[mood]
    body = text or (rng.choice(pool).format(p=product) + rng.choice(TAILS))
    author = f"{rng.choice(['sam', 'alex', 'kim', 'jo', 'ria', 'max', 'lee', 'ana'])}{rng.randint(1, 9999)}"
    url = {
        "x": f"https://x.com/{author}/status/{10**17 + i}",
        "reddit": f"https://www.reddit.com/r/{brand['name'].lower()}/comments/{i:x}/",
        "hackernews": f"https://news.ycombinator.com/item?id={40_000_000 + i}",
        "rss": f"https://news.example.com/{brand['name'].lower()}/{i}",
    }[platform]
    row = {
        "platform": platform, "id": f"demo-{i}", "text": body, "created_at": t.isoformat(),
        "author": author, "author_reach": reach if reach is not None else int(rng.paretovariate(1.2) * 80),
        "url": url, "language": "en", "likes": int(rng.expovariate(1 / 6)), "replies": int(rng.expovariate(1 / 2)),
        "reposts": int(rng.expovariate(1 / 3)), "conversation_id": f"conv-{i}",
        "label": "negative" if mood == "storm" else mood,  # the intended mood, for backtests and benches
    }
    if platform == "rss":
        row["title"] = f"{brand['name']} in the news: {body[:60]}"
    return row


def generate(now: datetime | None = None, *, days: int = 28, base_per_hour: float = 4.0,
             seed: int = 7) -> DemoPlan:
    """History of ``days`` days ending at ``now``, with a storm over its last three hours."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days)
    storm_start, storm_end = now - timedelta(hours=3), now
    rows: list[dict[str, Any]] = []
    moods = ["positive", "neutral", "negative"]
    t = start
    while t < now:
        for brand in BRANDS:
            lam = _rate(t, base_per_hour * brand["weight"])
            n = _poisson(rng, lam)
            for _ in range(n):
                when = t + timedelta(seconds=rng.randrange(3600))
                mood = rng.choices(moods, weights=[0.35, 0.4, 0.25])[0]
                rows.append(_mention(rng, len(rows), brand, when, mood))
        t += timedelta(hours=1)
    storm_brand = BRANDS[0]
    minutes = int((storm_end - storm_start).total_seconds() // 60)
    for _ in range(22 * 3):  # most of the storm piles into a few threads under the brand's status posts
        when = storm_start + timedelta(minutes=rng.randrange(minutes), seconds=rng.randrange(60))
        row = _mention(rng, len(rows), storm_brand, when, "storm")
        if rng.random() < 0.8:
            row["conversation_id"] = f"storm-thread-{rng.randrange(4)}"
        rows.append(row)
    for k, template in enumerate(ESCALATIONS):
        when = storm_start + timedelta(minutes=20 + 25 * k)
        rows.append(_mention(rng, len(rows), storm_brand, when, "storm",
                             text=template.format(h=storm_brand["handles"][1].lstrip("@")),
                             reach=rng.choice([15_000, 48_000, 120_000, 22_000, 9_000])))
    rows.sort(key=lambda r: r["created_at"])
    return DemoPlan(rows, storm_start, storm_end, storm_brand["name"])


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as JSON Lines (the file source's format); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def brand_config() -> list[dict[str, Any]]:
    """The demo brands as config.yaml entries."""
    keys = ("name", "keywords", "handles", "exclude", "competitors", "is_own")
    return [{k: b[k] for k in keys if k in b} | {"languages": ["en"]} for b in BRANDS]


def iter_texts(n: int, seed: int = 3) -> Iterator[str]:
    """``n`` varied demo texts (for benchmarks that need believable mentions)."""
    rng = random.Random(seed)
    for i in range(n):
        brand = BRANDS[i % len(BRANDS)]
        yield _mention(rng, i, brand, datetime(2026, 1, 1, tzinfo=UTC), rng.choice(["positive", "neutral",
                                                                                    "negative"]))["text"]


def collected_as_written(engine: Any) -> None:
    """Mark every stored mention as collected when it was written, as if the sources had run all along.

    Generated history is imported in one go; without this, detection would treat it as
    backfill (see ``monitor/spikes/coverage.py``) and stay warming up.
    """
    from sqlalchemy import update

    from monitor.store import Mention

    with engine.begin() as conn:
        conn.execute(update(Mention).values(collected_at=Mention.created_at))
