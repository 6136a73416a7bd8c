"""`monitor dashboard` never serves an open dashboard beyond this machine; `monitor add-user` stores only hashes."""

from __future__ import annotations

import stat
from pathlib import Path

import bcrypt
import yaml
from click.testing import CliRunner

from dashboard.auth import parse_users
from monitor.cli import cli
from monitor.cli.ops import is_loopback
from tests.conftest import write_config


def test_loopback_addresses() -> None:
    assert all(is_loopback(a) for a in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(a) for a in ("0.0.0.0", "192.168.1.4", "::", "example.com"))


def test_dashboard_refuses_a_public_address_without_login(tmp_path: Path) -> None:
    config = write_config(tmp_path, dashboard={"auth": {"enabled": False}})
    result = CliRunner().invoke(cli, ["--config", str(config), "dashboard", "--address", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to serve the dashboard on 0.0.0.0 without login" in result.output
    assert "monitor add-user" in result.output


def test_dashboard_with_login_on_and_no_user_says_how_to_add_one(tmp_path: Path) -> None:
    config = write_config(tmp_path)  # login is on by default
    result = CliRunner().invoke(cli, ["--config", str(config), "dashboard"], env={"MONITOR_DASHBOARD_USERS": ""})
    assert result.exit_code == 2 and "no user is configured: add one with `monitor add-user" in result.output


def test_add_user_stores_a_bcrypt_hash_only_readable_by_its_owner(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    config = write_config(tmp_path, dashboard={"auth": {"users_file": str(users)}})
    runner = CliRunner()
    args = ["--config", str(config), "add-user", "dana", "--name", "Dana Scully", "--password-stdin"]
    result = runner.invoke(cli, args, input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    runner.invoke(cli, ["--config", str(config), "add-user", "vic", "--role", "read_only", "--password-stdin"],
                  input="another pass phrase\n")
    text = users.read_text(encoding="utf-8")
    assert "correct horse" not in text and stat.S_IMODE(users.stat().st_mode) == 0o600
    entries = parse_users(text, str(users))
    assert (entries["dana"]["name"], entries["dana"]["role"], entries["vic"]["role"]) == ("Dana Scully", "agent",
                                                                                           "read_only")
    assert bcrypt.checkpw(b"correct horse battery", entries["dana"]["password_hash"].encode())
    short = runner.invoke(cli, ["--config", str(config), "add-user", "kim", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    bad = runner.invoke(cli, ["--config", str(config), "add-user", "Kim!", "--password-stdin"], input="long enough\n")
    assert bad.exit_code == 2 and "lower-case" in bad.output
    assert set(yaml.safe_load(users.read_text())["users"]) == {"dana", "vic"}
