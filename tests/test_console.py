"""A quiet console: `monitor --help` loads nothing heavy, and the first `monitor score` prints one bar and one line.

Run as real subprocesses (the console script's own start-up), on a real SQLite file and the
shipped model; tests never assert timings (`monitor --help` time is measured by hand, see README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, write_config

HEAVY = ("torch", "transformers", "onnxruntime", "sqlalchemy", "sqlmodel", "alembic", "pandas", "numpy", "rich",
         "pydantic", "yaml", "streamlit", "tweepy", "praw", "requests", "collectors", "models")


def monitor(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full.pop("MONITOR_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, env=full,
                          cwd=cwd, timeout=600)


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys, monitor.cli; from click.testing import CliRunner; CliRunner().invoke(monitor.cli.cli, "
            f"['--help']); print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert json.loads(out.strip().replace("'", '"')) == []
    helped = monitor("--help")
    assert helped.returncode == 0 and "rejected" in helped.stdout and helped.stderr == ""


def test_first_score_with_an_empty_model_cache_prints_one_progress_bar_and_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text("".join(json.dumps({"id": str(i), "text": f"Acme is great {i}",
                                                       "created_at": "2026-11-20T10:00:00Z"}) + "\n"
                                           for i in range(40)), encoding="utf-8")
    env = {"BRAND_MONITOR_CACHE": str(tmp_path / "cache"), "MONITOR_CONFIG": str(config)}
    init = monitor("init", env=env, cwd=tmp_path)
    assert (init.returncode, init.stderr) == (0, ""), init.stderr
    collected = monitor("collect", env=env, cwd=tmp_path)
    assert collected.stdout.splitlines() == ["file: ok, 40 new, 0 duplicate, 0 unmatched"]
    assert collected.stderr == ""
    scored = monitor("score", env=env, cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.splitlines() == ["scored 40 mention(s)"]
    lines = [part.strip() for part in scored.stderr.replace("\r", "\n").splitlines() if part.strip()]
    assert lines and all(line.startswith("score:") for line in lines), lines  # only the one bar: no
    # quantizer chatter, no "Loading weights" bar, no alembic lines
    assert any("40/40" in line for line in lines)
    assert not (tmp_path / "cache" / "onnx").exists()  # the committed ONNX model is used as it is: nothing built
