"""Promoting a trained run to the shipped artifact, by a rule decided on the dev folds only.

A run replaces the shipped model only when, on the dev folds both were selected on:

1. its dev criterion (the mean dev macro-recall of the brand and sentiment heads) is higher;
2. its brand head, the one the monitor stores and counts, keeps neutral recall within ``tolerance`` of the
   shipped model's (calling neutral mentions negative is what inflated the dashboard's negative share);
3. and keeps negative precision within ``tolerance`` (what the spike and escalation counts rest on).

Validation and the brand test split are never read here: they are reported by ``monitor eval`` after the
decision. The rule is the one run C was judged by (the model card, "What each choice did"), as code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.artifact import META, WEIGHTS, ModelLoadError, read_meta
from models.inference import ONNX_FILE

TOLERANCE = 0.01
SAME_FOLDS = ("dev_fraction", "brand_data", "emotion_data")
"""Settings that decide which tweets the dev folds hold: both runs must agree on them to be compared."""


@dataclass(frozen=True)
class Check:
    """One line of the rule: the candidate's figure, the shipped one's, the bar and whether it passed."""

    name: str
    candidate: float
    shipped: float
    bar: float
    strict: bool
    """The candidate must be above the bar (else at least at it)."""

    @property
    def passed(self) -> bool:
        return self.candidate > self.bar if self.strict else self.candidate >= self.bar


@dataclass(frozen=True)
class Verdict:
    """The rule's answer: ``promote`` when every check passed."""

    checks: list[Check] = field(default_factory=list)

    @property
    def promote(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def _dev(meta: dict[str, Any], where: str) -> tuple[float, dict[str, float]]:
    dev = meta.get("dev") or {}
    brand = dev.get("brand") or {}
    if "criterion" not in dev or "recall_1" not in brand or "precision_0" not in brand:
        raise ModelLoadError(f"{where}: meta.json has no dev-fold figures for the brand head; it must come "
                             "from `monitor train` with a brand head (or `monitor soup`)")
    return float(dev["criterion"]), brand


def judge(candidate: dict[str, Any], shipped: dict[str, Any], *, tolerance: float = TOLERANCE,
          names: tuple[str, str] = ("candidate", "shipped")) -> Verdict:
    """The rule applied to two artifacts' ``meta.json``; raises ModelLoadError when they cannot be compared."""
    for key in SAME_FOLDS:
        a, b = (m.get("settings", {}).get(key) for m in (candidate, shipped))
        if a != b:
            raise ModelLoadError(f"settings.{key} differs ({a!r} in {names[0]}, {b!r} in {names[1]}): their "
                                 "dev folds hold other tweets, so their dev figures cannot be compared; retrain "
                                 "with the same setting")
    c_crit, c_brand = _dev(candidate, names[0])
    s_crit, s_brand = _dev(shipped, names[1])
    neutral, negative = float(s_brand["recall_1"]), float(s_brand["precision_0"])
    return Verdict([
        Check("dev criterion (mean of brand and sentiment macro-recall)", c_crit, s_crit, s_crit, strict=True),
        Check("brand head, dev neutral recall", float(c_brand["recall_1"]), neutral, neutral - tolerance,
              strict=False),
        Check("brand head, dev negative precision", float(c_brand["precision_0"]), negative, negative - tolerance,
              strict=False),
    ])


def promote(run: Path, into: Path, *, tolerance: float = TOLERANCE, dry_run: bool = False,
            log: Callable[[str], None] = print) -> Verdict:
    """Judge ``run`` against the artifact in ``into``; when the rule says so (and not ``dry_run``), write the
    run's ONNX file if it has none (:func:`models.release.release`) and replace ``into``'s weights, meta.json
    and model.onnx with the run's, all three or none. Returns the verdict."""
    candidate, shipped = read_meta(run), read_meta(into)
    verdict = judge(candidate, shipped, tolerance=tolerance, names=(str(run), str(into)))
    if not verdict.promote or dry_run:
        return verdict
    if not (run / ONNX_FILE).exists():
        from models.release import release

        log(f"{run} has no {ONNX_FILE}: choosing its precision on the dev folds first ...")
        release(run, log=log)
    staging = Path(tempfile.mkdtemp(prefix=".promote-", dir=into))
    try:
        for name in (WEIGHTS, META, ONNX_FILE):
            shutil.copy2(run / name, staging / name)
        for name in (ONNX_FILE, META, WEIGHTS):  # meta.json names the weights' version: weights last,
            os.replace(staging / name, into / name)  # so a crash between leaves a mismatch the loader refuses
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"promoted {candidate.get('version')} into {into}")
    return verdict
