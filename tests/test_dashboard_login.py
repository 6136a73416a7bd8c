"""Signing in: named users with bcrypt-hashed passwords, agent and read-only roles, actions under the
signed-in name; through AppTest with streamlit-authenticator's real login form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from dashboard.auth import AuthError, parse_users
from monitor.store import Alert, Correction, make_engine
from tests import fixtures_dashboard as fx
from tests.fixtures_dashboard import Seed, write_config

dash_rw_seed = fx.dash_rw_seed


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": {
        "dana": {"name": "Dana Scully", "role": "agent", "password_hash": hashed("s3cret-dana")},
        "vic": {"name": "Vic Viewer", "role": "read_only", "password_hash": hashed("s3cret-vic")},
    }}), encoding="utf-8")
    return path


def start(seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None,
          **auth: Any) -> AppTest:
    config = write_config(tmp_path, seed.url, auth={"enabled": True, **auth})
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(fx.APP), default_timeout=60)
    if page:
        at.switch_page(f"pages/{page}.py")
        at.query_params["alert"] = str(seed.alert_ids[0])
    return at.run()


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_nothing_shows_before_signing_in_and_a_wrong_password_is_refused(
    dash_rw_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start(dash_rw_seed, tmp_path, monkeypatch, users_file=str(users_file(tmp_path)))
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.metric and not at.dataframe and "Acme" not in " ".join(e.value for e in at.error)
    at = sign_in(at, "dana", "not-her-password")
    assert any(e.value == "Wrong username or password." for e in at.error)
    assert not at.metric
    at = sign_in(at, "nobody", "s3cret-dana")
    assert any(e.value == "Wrong username or password." for e in at.error) and not at.metric


def test_an_agent_signs_in_lands_on_the_linked_alert_and_acts_under_her_name(
    dash_rw_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start(dash_rw_seed, tmp_path, monkeypatch, "alerts", users_file=str(users_file(tmp_path)))
    at = sign_in(at, "dana", "s3cret-dana")
    assert not at.exception
    assert at.header[0].value == "Acme: negative storm"  # the link from the email still lands
    assert "Signed in as **Dana Scully** (agent)" in at.sidebar.caption[0].value
    assert not [t for t in at.sidebar.text_input if t.label == "Your name"]  # no free-text name when signed in
    at.button(key="alert_ack").click().run()
    with Session(make_engine(dash_rw_seed.url)) as s:
        alert = s.get(Alert, dash_rw_seed.alert_ids[0])
    assert alert is not None and alert.acknowledged_by == "dana"


def test_a_read_only_user_can_look_but_not_act(
    dash_rw_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start(dash_rw_seed, tmp_path, monkeypatch, "alerts", users_file=str(users_file(tmp_path)))
    at = sign_in(at, "vic", "s3cret-vic")
    assert at.header[0].value == "Acme: negative storm"
    assert at.button(key="alert_ack").disabled and at.button(key="alert_resolve").disabled
    assert "Read-only: you can look, not act." in [c.value for c in at.caption]
    at.switch_page("pages/mentions.py").run()  # an action a page offers is still refused on the server
    at.segmented_control(key="m_correct_to").set_value("positive").run()
    at.button(key="m_save").click().run()
    assert any("Your account is read-only" in e.value for e in at.error)
    with Session(make_engine(dash_rw_seed.url)) as s:
        alert = s.get(Alert, dash_rw_seed.alert_ids[0])
        assert s.get(Correction, dash_rw_seed.mentions[0].id) is None
    assert alert is not None and alert.acknowledged_by is None


def test_users_can_come_from_the_environment(
    dash_rw_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_USERS", yaml.safe_dump({"users": {"kim": {"role": "agent",
                                                                       "password_hash": hashed("pw-kim")}}}))
    at = start(dash_rw_seed, tmp_path, monkeypatch, users_env="TEAM_USERS")
    at = sign_in(at, "kim", "pw-kim")
    assert at.title[0].value == "What needs me now"


def test_login_on_without_users_explains_how_to_add_one(
    dash_rw_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_DASHBOARD_USERS", raising=False)
    at = start(dash_rw_seed, tmp_path, monkeypatch)
    assert at.error[0].value == "Login is on, but no user is configured."
    assert "monitor add-user" in at.info[0].value and not at.metric


def test_a_plain_password_or_unknown_role_is_refused_with_the_fix() -> None:
    with pytest.raises(AuthError, match=r"users.dana.password_hash: not a bcrypt hash; create one with `monitor"):
        parse_users("users: {dana: {role: agent, password_hash: hunter2}}", "users.yaml")
    with pytest.raises(AuthError, match=r"users.dana.role: 'admin' is not a role; use agent or read_only"):
        parse_users(f"users: {{dana: {{role: admin, password_hash: '{hashed('x')}'}}}}", "users.yaml")
    with pytest.raises(AuthError, match="lower-case"):
        parse_users(f"users: {{Dana: {{password_hash: '{hashed('x')}'}}}}", "users.yaml")
