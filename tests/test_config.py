"""Every config error path gives one line naming the key path and the fix."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ConfigError, load_config, masked_dump, parse_config, secret
from tests.conftest import config_dict, write_config


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def test_valid_config_is_frozen_and_has_defaults(tmp_path: Path) -> None:
    cfg = parse_config(config_dict(tmp_path))
    assert cfg.database.url.startswith("sqlite:///")
    assert cfg.spikes.bucket.total_seconds() == 3600
    assert list(cfg.sources.enabled()) == ["file"]
    assert cfg.brands[1].is_own is False
    with pytest.raises(Exception):  # noqa: B017  (pydantic's frozen-instance error)
        cfg.brands[0].name = "Other"  # type: ignore[misc]


def test_repository_config_yaml_is_valid() -> None:
    cfg = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    assert cfg.model.name == "default"
    assert cfg.alerts.smtp is None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("brands"), "brands: Field required (add it)"),
        (lambda d: d.update(brands=[]), "brands: List should have at least 1 item"),
        (lambda d: d["brands"][0].pop("name"), "brands[0].name: Field required (add it)"),
        (lambda d: d["brands"][0].update(keyword=["x"]), "brands[0].keyword: unknown key (did you mean 'keywords'?)"),
        (lambda d: d["brands"][1].update(keywords=[], handles=[]), "brands[1]: has no keywords, aliases, products, tickers or handles"),
        (lambda d: d["brands"][0].update(handles=["not a handle"]), "brands[0].handles: 'not a handle' is not a handle"),
        (lambda d: d["brands"][0].update(languages=["English"]), "brands[0].languages: 'English' is not an ISO 639-1"),
        (lambda d: d["brands"][0].update(tickers=["AAPL US"]), "brands[0].tickers: 'AAPL US' is not a stock ticker"),
        (lambda d: d["brands"][0].update(keywords=["Acme", "  "]), "brands[0].keywords: contains an empty term"),
        (lambda d: d["brands"][0].update(competitors=["Initech"]), "brands[0].competitors: 'Initech' is not a configured"),
        (lambda d: d["brands"].append({"name": "acme", "keywords": ["x"]}), "'acme' is used twice"),
        (lambda d: d["sources"]["file"].update(interval="soon"), "sources.file.interval: 'soon' is not a duration"),
        (lambda d: d["sources"]["file"].update(interval="2s"), "sources.file.interval: must be at least 10s"),
        (lambda d: d["sources"].update(twitter={}), "sources.twitter: unknown key"),
        (lambda d: d["sources"]["file"].update(enabled="maybe"), "sources.file.enabled: Input should be a valid boolean"),
        (lambda d: d.update(database={"url": "mysql://x"}), "database.url: must start with sqlite:/// or postgresql://"),
        (lambda d: d.update(model={"labels": {0: "negative", 1: "negative", 2: "positive"}}), "model.labels: must map"),
        (lambda d: d.update(model={"backend": "tensorrt"}), "model.backend: Input should be 'auto', 'onnx' or 'torch'"),
        (lambda d: d.update(model={"batch_size": 0}), "model.batch_size: Input should be greater than or equal to 1"),
        (lambda d: d.update(spikes={"p_value": 2}), "spikes.p_value: Input should be less than 1"),
        (lambda d: d.update(escalation={"min_priority": 150}), "escalation.min_priority: Input should be less"),
        (lambda d: d.update(escalation={"sarcasm_tone": 1.5}), "escalation.sarcasm_tone: Input should be less"),
        (lambda d: d.update(escalation={"sarcasm_tone": "high"}), "escalation.sarcasm_tone: Input should be a valid"),
        (lambda d: d["alerts"].update(recipients=["not-an-email"]), "alerts.recipients[0]: String should match pattern"),
        (lambda d: d["alerts"].update(smtp={"port": 25}), "alerts.smtp.host: Field required (add it)"),
        (lambda d: d["alerts"].update(smtp={"host": "h", "port": 70000}), "alerts.smtp.port: Input should be less"),
        (lambda d: d["alerts"].update(smtp={"host": "h", "password_env": "has space"}), "alerts.smtp.password_env"),
        (lambda d: d["alerts"].update(smtp={"host": "h", "password": "hunter2"}), "alerts.smtp.password: unknown key"),
    ],
)
def test_each_problem_names_key_path_and_fix(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = config_dict(tmp_path)
    mutate(data)
    lines = problems(data)
    assert any(expected in line for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_several_problems_give_one_line_each(tmp_path: Path) -> None:
    data = config_dict(tmp_path)
    data["brands"][0]["keyword"] = ["x"]
    data["sources"]["file"]["interval"] = "often"
    data["model"] = {"backend": "gpu"}
    assert len(problems(data)) == 3


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["brands"]) == ["(top level): config must be a mapping of keys (see README)"]


def test_missing_file_and_yaml_syntax_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("brands:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+ \(fix the YAML syntax there\)"):
        load_config(bad)


def test_secrets_come_from_env_or_file_and_are_masked(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file-secret\n", encoding="utf-8")
    assert secret("X_BEARER_TOKEN", {"X_BEARER_TOKEN": " abc "}) == "abc"
    assert secret("X_BEARER_TOKEN", {"X_BEARER_TOKEN_FILE": str(token_file)}) == "from-file-secret"
    assert secret("X_BEARER_TOKEN", {}) is None
    cfg = parse_config(config_dict(tmp_path, alerts={"smtp": {"host": "smtp.example.com"}}))
    dumped = yaml.safe_dump(masked_dump(cfg, {"SMTP_PASSWORD": "hunter2", "X_BEARER_TOKEN": "tok-123"}))
    assert "hunter2" not in dumped and "tok-123" not in dumped
    assert "SMTP_PASSWORD (********)" in dumped
    assert "SMTP_USERNAME (unset)" in dumped


def test_check_config_cli_masks_secrets(tmp_path: Path) -> None:
    path = write_config(tmp_path, alerts={"smtp": {"host": "smtp.example.com"}})
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"],
                                env={"SMTP_PASSWORD": "hunter2"})
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "password_env: SMTP_PASSWORD (********)" in result.output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_config_exits_2_and_touches_nothing_stored(app: Any, tmp_path: Path) -> None:
    db_file = Path(app.config.database.url.removeprefix("sqlite:///"))
    runner = CliRunner()
    ok = runner.invoke(cli, ["--config", str(tmp_path / "config.yaml"), "init"])
    assert ok.exit_code == 0, ok.output
    app.engine.dispose()
    before = _digest(db_file)
    data = config_dict(tmp_path)
    data["brands"][0]["keyword"] = ["x"]
    data["sources"]["file"]["interval"] = "often"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    for command in (["init"], ["collect"], ["run", "--once"], ["status"], ["check-config"], ["db", "upgrade"]):
        result = runner.invoke(cli, ["--config", str(bad), *command])
        assert result.exit_code == 2, (command, result.output)
        assert "brands[0].keyword: unknown key (did you mean 'keywords'?)" in result.output
        assert "sources.file.interval: 'often' is not a duration" in result.output
        assert "Traceback" not in result.output
    assert _digest(db_file) == before


def test_collectors_read_secrets_from_a_file_too(tmp_path: Path) -> None:
    from collectors.base import NotConfigured
    from collectors.x import XCollector, XSource

    token = tmp_path / "x-token"
    token.write_text("AAAA-from-file\n", encoding="utf-8")
    collector = XCollector(XSource(enabled=True), [], {"X_BEARER_TOKEN_FILE": str(token)})
    assert collector.require_env("X_BEARER_TOKEN") == "AAAA-from-file"
    with pytest.raises(NotConfigured, match="environment variable X_BEARER_TOKEN is not set"):
        XCollector(XSource(enabled=True), [], {}).require_env("X_BEARER_TOKEN")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is a binary file, not YAML text"),
        ("brands:\n  - name: Café\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 21); save it as UTF-8"),
        (b"[" * 5000 + b"\n", "nested too deeply"),
        (b"- brands\n", "(top level): config must be a mapping of keys"),
        (b"brands: !!python/object:os.system ls\n", "could not determine a constructor"),
    ],
)
def test_an_unreadable_config_file_is_one_line_and_exit_2(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == "Error: invalid config" and len(lines) == 2, result.output
    assert expected in lines[1] and "Traceback" not in result.output


def test_a_config_cut_off_mid_line_or_after_a_section_header_does_not_load(tmp_path: Path) -> None:
    whole = (Path(__file__).resolve().parent.parent / "config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config.yaml"
    cut = whole.index("\nsources:") + len("\nsources:\n  file:            # JSONL")
    path.write_text(whole[:cut], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ends mid-line \(line \d+: '  file: {12}# JSONL'\), as a file cut off"):
        load_config(path)
    path.write_text(whole[: whole.index("\nsources:") + len("\nsources:\n")], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^sources: is empty \(write its keys, or remove the line; if the file"):
        load_config(path)


def test_the_database_url_can_come_from_the_environment_and_its_password_is_never_printed(
        tmp_path: Path, pg_url: str) -> None:
    secret_url = pg_url.replace("monitor@", "monitor:s3cr3t-pw@")
    path = write_config(tmp_path, database={"url_env": "MONITOR_DATABASE_URL"})
    cfg = load_config(path, {"MONITOR_DATABASE_URL": secret_url})
    assert cfg.database.url == secret_url
    with pytest.raises(ConfigError, match=r"database\.url_env: environment variable MONITOR_DATABASE_URL is not set"):
        load_config(path, {})
    url_file = tmp_path / "db-url"
    url_file.write_text(secret_url + "\n", encoding="utf-8")
    assert load_config(path, {"MONITOR_DATABASE_URL_FILE": str(url_file)}).database.url == secret_url
    runner = CliRunner()
    env = {"MONITOR_DATABASE_URL": secret_url}
    for command in (["check-config"], ["init"], ["status"]):
        result = runner.invoke(cli, ["--config", str(path), *command], env=env)
        assert result.exit_code == 0, result.output
        assert "s3cr3t-pw" not in result.output
    shown = runner.invoke(cli, ["--config", str(path), "check-config"], env=env).output
    assert "url: postgresql://monitor:***@127.0.0.1" in shown
    assert "url_env: MONITOR_DATABASE_URL (********)" in shown


def test_a_password_written_in_database_url_is_masked_when_printed(tmp_path: Path) -> None:
    cfg = parse_config(config_dict(tmp_path, database={"url": "postgresql://app:hunter2@db.internal:5432/monitor"}))
    dumped = yaml.safe_dump(masked_dump(cfg, {}))
    assert "hunter2" not in dumped and "postgresql://app:***@db.internal:5432/monitor" in dumped
