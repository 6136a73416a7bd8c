"""``monitor check-brands FILE``: what config.yaml's brand rules match and miss in a labelled file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli import Ctx, command, pass_ctx

if TYPE_CHECKING:
    from monitor.ingest.brandcheck import BrandReport, CheckReport


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _short(text: str, width: int = 110) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _echo_brand(b: BrandReport, top: int) -> None:
    click.echo(f"\n{b.name}: {b.labelled} labelled, {b.matched} matched; recall {_pct(b.recall)} "
               f"({b.correct} found, {b.missed} missed), precision {_pct(b.precision)} "
               f"({b.wrong} matched rows labelled about other brands or none)")
    if b.dropped_language:
        click.echo(f"  {b.dropped_language} row(s) matched but were dropped for language (brands[].languages)")
    if b.rules:
        click.echo("  rules that fired (rows): " + ", ".join(f"{r} ({n})" for r, n in b.rules.most_common(top)))
        click.echo("  forms found (rows): " + ", ".join(f"{f} ({n})" for f, n in b.forms.most_common(top)))
    for title, examples in (("missed", b.missed_examples), ("matched wrongly", b.wrong_examples)):
        for line, text, why in examples:
            click.echo(f"  {title}{f' ({why})' if why else ''}, line {line}: {_short(text)}")


def _echo(report: CheckReport, top: int) -> None:
    click.echo(f"{report.rows} row(s), {report.unlabelled} not labelled")
    if report.unknown_labels:
        names = ", ".join(f"{n!r} ({c})" for n, c in report.unknown_labels.most_common(10))
        click.echo(f"labels that are no configured brand (counted as about none of them; map them "
                   f"with --map LABEL=BRAND): {names}")
    for b in report.brands:
        _echo_brand(b, top)


@command("check-brands")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", default="text", show_default=True, help="Column holding the mention's text.")
@click.option("--label-column", default="brands", show_default=True,
              help="Column naming the brand(s) each row is about, separated by ';' (empty: none).")
@click.option("--map", "pairs", multiple=True, metavar="LABEL=BRAND",
              help="Read a label as brand(s): 'iPad=Apple', 'not_relevant=' (none), \"I can't tell=?\" "
                   "(not labelled). Repeatable.")
@click.option("--blank-unknown", is_flag=True,
              help="An empty label means 'not labelled' rather than 'about no brand'.")
@click.option("--encoding", default="utf-8", show_default=True, help="The file's text encoding.")
@click.option("--examples", default=5, show_default=True, help="Missed and wrong rows shown per brand.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the full report as JSON here.")
@pass_ctx
def check_brands_cmd(ctx: Ctx, file: Path, text_column: str, label_column: str, pairs: tuple[str, ...],
                     blank_unknown: bool, encoding: str, examples: int, json_out: Path | None) -> None:
    """Report, per configured brand, what the rules match and miss in FILE, a labelled CSV, TSV or
    JSONL of mentions, and which rules fired: tune keywords before going live. Stores nothing."""
    from monitor.ingest.brandcheck import check_brands, parse_mapping, read_labelled

    rows = read_labelled(file, text_column=text_column, label_column=label_column,
                         mapping=parse_mapping(pairs), blank_unknown=blank_unknown, encoding=encoding)
    report = check_brands(rows, ctx.app.config.brands, examples=examples)
    _echo(report, top=12)
    if json_out is not None:
        json_out.write_text(json.dumps(report.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        click.echo(f"\nfull report: {json_out}")
