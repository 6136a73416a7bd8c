"""Brand matching on real brand tweets (../shared/data/brand_sentiment), through `monitor check-brands`.

The Apple set was collected with ``#AAPL OR @Apple``: every relevant row is about Apple, so a
sensible Apple config must find nearly all of them. In the SXSW set, a row labelled with an
emotion toward iPad, iPhone, Apple, Google, Android, ... must be found for its brand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import BrandConfig
from monitor.ingest.brandcheck import CheckReport, check_brands, read_labelled

APPLE: dict[str, Any] = {
    "name": "Apple", "keywords": ["Apple"],
    "products": ["iPhone", "iPad", "iPod", "Mac", "MacBook", "iMac", "iTunes", "iCloud", "iOS", "App Store"],
    "tickers": ["AAPL"], "handles": ["@Apple", "@AppleSupport"],
    "exclude": ["apple pie", "apple juice", "apple cider", "big apple", "apple sauce", "applesauce"],
}
GOOGLE: dict[str, Any] = {
    "name": "Google", "keywords": ["Google"],
    "products": ["Android", "Gmail", "Google Maps", "Google Circles", "YouTube", "Chrome"],
    "tickers": ["GOOG", "GOOGL"], "handles": ["@Google", "@Android"],
}
SXSW_LABELS = {"iPad": "Apple", "iPad or iPhone App": "Apple", "iPhone": "Apple",
               "Other Apple product or service": "Apple", "Other Google product or service": "Google",
               "Android App": "Google", "Android": "Google"}


@pytest.fixture(scope="module")
def apple_report() -> CheckReport:
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "brand_sentiment" / "apple_twitter_sentiment.csv"
    assert path.exists(), f"{path} is missing: the real-tweet matching tests need ../shared/data"
    rows = read_labelled(path, label_column="sentiment", encoding="cp1252",
                         mapping={"1": "Apple", "3": "Apple", "5": "Apple", "not_relevant": ""})
    return check_brands(rows, [BrandConfig(**APPLE)])


@pytest.fixture(scope="module")
def sxsw_report() -> CheckReport:
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "brand_sentiment" / "sxsw_brands_and_product_emotions.csv"
    assert path.exists(), f"{path} is missing: the real-tweet matching tests need ../shared/data"
    rows = read_labelled(path, text_column="tweet_text", label_column="emotion_in_tweet_is_directed_at",
                         mapping=SXSW_LABELS, blank_unknown=True, encoding="latin-1")
    return check_brands(rows, [BrandConfig(**APPLE), BrandConfig(**GOOGLE)])


def test_apple_stream_is_found_whole(apple_report: CheckReport) -> None:
    apple = apple_report.brands[0]
    assert (apple_report.rows, apple.labelled) == (3886, 3804)
    assert apple.recall is not None and apple.recall >= 0.998  # measured 1.000 (1 miss: "@apple pie")


def test_apple_stream_tickers_are_found(apple_report: CheckReport) -> None:
    apple = apple_report.brands[0]
    assert apple.rules["ticker: AAPL"] >= 1000  # measured 1,040 rows
    assert apple.forms["#aapl"] >= 1000 and apple.forms["$aapl"] >= 300


def test_apple_stream_products_plurals_and_versions_are_found(apple_report: CheckReport) -> None:
    forms = apple_report.brands[0].forms
    assert forms["iphones"] > 0 and forms["iphone6"] > 0 and forms["ipads"] > 0


def test_apple_stream_exclusions_still_win(apple_report: CheckReport) -> None:
    assert apple_report.brands[0].missed_examples == [
        (105, "Perfome @apple pie.. http://t.co/eHsgVdej9N", "excluded by 'apple pie'")]


def test_sxsw_products_are_found_for_their_brand(sxsw_report: CheckReport) -> None:
    apple, google = sxsw_report.brands
    assert (apple.labelled, google.labelled) == (2409, 882)
    # The misses are mostly rows labelled "iPad or iPhone App" that only say "app".
    assert apple.recall is not None and apple.recall >= 0.99  # measured 0.993
    assert google.recall is not None and google.recall >= 0.99  # measured 0.995
    assert apple.forms["ipad2"] >= 400 and apple.forms["ipads"] > 0 and apple.forms["ipad2s"] > 0
    assert google.forms["googlecircles"] > 0 and google.forms["android"] > 0


def test_check_brands_command_on_a_labelled_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "brands": [APPLE | {"languages": ["en"]}, GOOGLE],
        "database": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"},
    }), encoding="utf-8")
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        {"text": "my iPhone4S died again", "brands": "Apple"},
        {"text": "$AAPL and #GOOG both up", "brands": ["Apple", "Google"]},
        {"text": "pineapple on pizza is fine", "brands": ""},
        {"text": "apple pie recipe with my iPhone", "brands": ""},
        {"text": "Time for an Android", "brands": "Google"},
        {"text": "the new macbook pro is great", "brands": "Apple"},
        {"text": "saw a big apple at the market", "brands": "Apple"},  # wrongly labelled: shows as missed
        {"text": "Mi iPhone se apaga solo cuando la batería está baja", "brands": "Apple"},
        {"text": "Googled it, nothing", "brands": "?"},
        {"text": "Google Maps sent me the wrong way", "brands": "Bing"},
    ]
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["--config", str(config), "check-brands", str(labelled), "--json", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "10 row(s), 1 not labelled" in result.output
    assert "'Bing' (1)" in result.output
    assert "Apple: 5 labelled, 3 matched; recall 60.0% (3 found, 2 missed), precision 100.0%" in result.output
    assert "1 row(s) matched but were dropped for language" in result.output
    assert "missed (excluded by 'big apple'), line 7: saw a big apple at the market" in result.output
    assert "missed (language es (detected)), line 8: Mi iPhone se apaga" in result.output
    assert "Google: 2 labelled, 3 matched; recall 100.0% (2 found, 0 missed), precision 66.7%" in result.output
    assert "matched wrongly, line 10: Google Maps sent me the wrong way" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    apple = report["brands"][0]
    assert apple["rules"] == {"product: iPhone": 1, "ticker: AAPL": 1, "product: MacBook": 1}
    assert apple["forms"] == {"iphone4s": 1, "$aapl": 1, "macbook": 1}


def test_check_brands_reads_csv_with_other_columns_and_labels(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brands": [APPLE], "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}}))
    labelled = tmp_path / "stream.csv"
    labelled.write_text("tweet,relevant\n$AAPL up,yes\nAAPL down,yes\napple pie,no\n", encoding="cp1252")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-brands", str(labelled), "--text-column",
                                      "tweet", "--label-column", "relevant", "--map", "yes=Apple", "--map", "no="])
    assert result.exit_code == 0, result.output
    assert "Apple: 2 labelled, 2 matched; recall 100.0%" in result.output


@pytest.mark.parametrize(("content", "args", "message"), [
    ("text,brands\nhi,Apple\n", ["--label-column", "about"], "no 'about' column; name it with --text-column/"),
    ('{"text": "hi", "brands": "Apple"}\nnot json\n', [], ":2: not JSON"),
    ("text,brands\nhi,Apple\n", ["--map", "Apple"], "--map 'Apple': write LABEL=BRAND"),
])
def test_check_brands_names_what_to_fix(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brands": [APPLE], "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}}))
    suffix = ".jsonl" if content.startswith("{") else ".csv"
    labelled = tmp_path / f"labelled{suffix}"
    labelled.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-brands", str(labelled), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_check_brands_says_which_encoding_to_pass(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brands": [APPLE], "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}}))
    labelled = tmp_path / "latin.csv"
    labelled.write_bytes("text,brands\ncaf\xe9 iPhone,Apple\n".encode("latin-1"))
    result = CliRunner().invoke(cli, ["--config", str(config), "check-brands", str(labelled)])
    assert result.exit_code == 2 and "pass --encoding" in result.output
    ok = CliRunner().invoke(cli, ["--config", str(config), "check-brands", str(labelled), "--encoding", "latin-1"])
    assert ok.exit_code == 0 and "recall 100.0%" in ok.output
