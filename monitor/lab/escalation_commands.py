"""`monitor escalation-lab`: the escalation queue before and after priorities, on real tweets, as figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitor.cli import command, pass_ctx

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "data"
"""``../shared/data`` beside the repository, as ``models.data.shared_data_dir`` finds it."""
TIER_SHARES = (0.04, 0.15, 0.35)
"""The shares the default tier cuts were chosen for, on the tuning part."""
GOALS = "goals: precision >= 0.90, planted risk complaints escalated >= 95%, top tier <= 5% of the queue"


def lab_config(base: Any, **escalation: Any) -> Any:
    """``base`` (a Config) with the lab's six brands and ``escalation`` keys changed."""
    from monitor.config import parse_config
    from monitor.lab.escalation_data import brand_config

    data = {"brands": brand_config(), "escalation": {**base.escalation.model_dump(exclude={"overrides"}), **escalation}}
    return parse_config(data)


def run_lab(scorer: Any, base: Any, data_dir: Path, *, mixes: tuple[str, ...] = ("care", "natural"),
            part: str = "report", limit: int | None = None, bars: tuple[int, ...] = (),
            sets: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Figures per mix, before and after (and at each priority bar in ``bars``), on one part of the data
    (only the planted sets named in ``sets``, when given; the real tweets and every time stay as they are).

    Raises :class:`monitor.lab.escalation_data.LabDataError` when the data is missing.
    """
    from monitor.lab.escalation_data import build
    from monitor.lab.escalation_lab import measure_queue, score_mentions

    config = lab_config(base)
    out: dict[str, list[Any]] = {}
    for mix in mixes:
        mentions = [m for m in build(data_dir, mix=mix, limit=limit) if m.gold.part == part
                    and (not sets or m.gold.planted is None or m.gold.source.removeprefix("planted ") in sets)]
        scores = score_mentions(mentions, scorer)
        variants = {f"bar {b}": lab_config(base, min_priority=b) for b in bars}
        # the report part's misses are counted, never shown: a rule written after reading them would be fitted
        # to the set that is meant to measure how the rules generalise
        out[mix] = measure_queue(mentions, scores, config, variants=variants, with_missed=part == "tune")
    return out


ROWS = (
    ("escalated", lambda f: f"{f.escalated:,}"),
    ("per day", lambda f: f"{f.per_day:g}"),
    ("precision (negative or risky)", lambda f: _pct(f.precision)),
    ("precision, real tweets only", lambda f: _pct(f.real_precision)),
    ("real negatives escalated", lambda f: _pct(f.negatives_caught)),
    ("planted risk complaints escalated", lambda f: f"{f.planted_caught}/{f.planted} ({_pct(f.coverage)})"),
    ("  of them sarcastic", lambda f: f"{f.sarcastic_caught}/{f.sarcastic}"),
    ("planted traps escalated", lambda f: f"{f.controls_escalated}/{f.controls}"),
    ("top tier (4)", lambda f: f"{f.top_tier} ({_pct(f.top_tier_share)})"),
    ("tiers 1/2/3/4", lambda f: "/".join(str(f.tiers.get(t, 0)) for t in (1, 2, 3, 4))),
)


def print_lab(results: dict[str, list[Any]], part: str) -> None:
    """One table per mix: a row per figure, a column per rule; then the planted complaints missed (their
    texts on the tuning part, only their categories on the report part) and, on the tuning part, the tier
    cuts that give :data:`TIER_SHARES`."""
    from rich.console import Console
    from rich.table import Table

    from monitor.lab.escalation_lab import cut_for_share

    console = Console()
    for mix, figures in results.items():
        first = figures[0]
        table = Table(title=f"Escalation queue, {mix} mix, {part} part: {first.mentions:,} mentions over "
                            f"{first.days:g} days")
        table.add_column("")
        for f in figures:
            table.add_column(f.rule, justify="right")
        for label, cell in ROWS:
            table.add_row(label, *(cell(f) for f in figures))
        console.print(table)
        for text in figures[1].missed:
            console.print(f"  missed by {figures[1].rule}: {text}")
        if part != "tune" and figures[1].missed_kinds:
            console.print(f"  missed by {figures[1].rule} (texts not shown on the report part): "
                          + ", ".join(f"{k} {n}" for k, n in figures[1].missed_kinds.items()))
        if part == "tune":
            cuts = [cut_for_share(figures[1].priorities, share) for share in TIER_SHARES]
            console.print(f"  tier cuts that put at most {', '.join(f'{s:.0%}' for s in TIER_SHARES)} of this queue "
                          f"in urgent, high and up, medium and up: {', '.join(map(str, cuts))}")
    console.print(GOALS)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


@command("escalation-lab")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default=True, help="The shared data folder (TweetEval, brand_sentiment).")
@click.option("--part", type=click.Choice(["report", "tune"]), default="report", show_default=True,
              help="Which half to measure: tune (to choose settings) or report (to quote).")
@click.option("--mix", "mixes", type=click.Choice(["care", "natural"]), multiple=True,
              help="Mix of real tweets (default both): care (60% negative) or natural (as in the data sets).")
@click.option("--bar", "bars", type=int, multiple=True, help="Also measure at this min_priority (repeatable).")
@click.option("--limit", type=click.IntRange(50), default=None,
              help="Use only this many real tweets (a quick check; figures not comparable).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures to this JSON file.")
@click.option("--set", "sets", multiple=True, metavar="NAME",
              help="Only this set of planted complaints (repeatable; A to E are the tune part's, F to H the report's).")
@pass_ctx
def escalation_lab(ctx: Any, data_dir: Path, part: str, mixes: tuple[str, ...], bars: tuple[int, ...],
                   limit: int | None, json_out: Path | None, sets: tuple[str, ...]) -> None:
    """Measure the escalation queue on real tweets scored by the model: before and after, same data, same run."""
    from monitor.lab.escalation_cases import PARTS

    wrong = [name for name in sets if PARTS.get(name.upper()) != part]
    if wrong:
        names = ", ".join(sorted(n for n, p in PARTS.items() if p == part))
        raise click.BadParameter(f"{', '.join(wrong)} is not a set of the {part} part; use {names}",
                                 param_hint="--set")
    app = ctx.app
    results = run_lab(app.scorer, app.config, data_dir, mixes=mixes or ("care", "natural"), part=part,
                      bars=bars, limit=limit, sets=tuple(n.upper() for n in sets))
    print_lab(results, part)
    if json_out:
        payload = {mix: [f.as_dict() for f in figs] for mix, figs in results.items()}
        json_out.write_text(json.dumps({"part": part, "results": payload}, indent=2), encoding="utf-8")
