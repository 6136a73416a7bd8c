"""Who is using the dashboard: named users with bcrypt-hashed passwords and a role, signed in through
streamlit-authenticator (its login form, and a signed cookie so a reload stays signed in).

Users come from ``dashboard.auth.users_file`` and/or the environment variable
``dashboard.auth.users_env`` (or the file its ``_FILE`` twin names), both YAML::

    users:
      dana:                      # the name every action is recorded under (lower case)
        name: Dana Scully        # shown in the sidebar
        role: agent              # agent: may act; read_only: may only look
        password_hash: "$2b$12$..."   # from `monitor add-user` (bcrypt); never a plain password

With ``dashboard.auth.enabled: false`` (only ``monitor demo`` on loopback does that) nobody
signs in: the sidebar asks for a name, and every action is recorded under it.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from monitor.config import AuthConfig, secret
from monitor.errors import MonitorError

ROLES = ("agent", "read_only")
COOKIE = "brand_monitor_signin"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


class AuthError(MonitorError):
    """The users file or variable cannot be used; the message names the user and the fix."""

    exit_code = 2


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str

    @property
    def can_act(self) -> bool:
        return self.role == "agent"


def parse_users(text: str, where: str) -> dict[str, dict[str, str]]:
    """``users:`` YAML from ``where`` as username -> {name, role, password_hash}.

    Raises :class:`AuthError` naming the entry and the fix for anything unusable.
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise AuthError(f"{where}: not valid YAML ({type(err).__name__}); see the README's users file") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise AuthError(f"{where}: expected a 'users:' mapping of username to name, role and password_hash")
    out: dict[str, dict[str, str]] = {}
    for username, entry in users.items():
        key = f"{where}: users.{username}"
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise AuthError(f"{key}: a username is lower-case letters, digits, '.', '_' or '-'")
        if not isinstance(entry, dict):
            raise AuthError(f"{key}: expected name, role and password_hash")
        role, pw = entry.get("role", "read_only"), str(entry.get("password_hash") or "")
        if role not in ROLES:
            raise AuthError(f"{key}.role: {role!r} is not a role; use agent or read_only")
        if not _BCRYPT.match(pw):
            raise AuthError(f"{key}.password_hash: not a bcrypt hash; create one with `monitor add-user {username}`")
        out[username] = {"name": str(entry.get("name") or username), "role": role, "password_hash": pw}
    return out


def load_users(cfg: AuthConfig, env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Every user from ``cfg.users_file`` and ``cfg.users_env`` (the variable wins for a name in both).

    Raises :class:`AuthError` when a source is unreadable or an entry is unusable.
    """
    users: dict[str, dict[str, str]] = {}
    if cfg.users_file is not None:
        try:
            text = Path(cfg.users_file).expanduser().read_text(encoding="utf-8")
        except OSError as err:
            raise AuthError(f"dashboard.auth.users_file {cfg.users_file}: {err.strerror}; create it with "
                            "`monitor add-user NAME`") from None
        users |= parse_users(text, str(cfg.users_file))
    try:
        text_env = secret(cfg.users_env, env)
    except OSError as err:
        raise AuthError(f"{cfg.users_env}_FILE: {err.strerror}") from None
    if text_env:
        users |= parse_users(text_env, f"${cfg.users_env}")
    return users


@st.cache_resource(show_spinner=False)
def _server_cookie_key() -> str:
    """A random cookie key for this server process (sign-ins end when it restarts)."""
    return secrets.token_urlsafe(32)


def _authenticator(cfg: AuthConfig, users: dict[str, dict[str, str]], env: Mapping[str, str]) -> Any:
    import streamlit_authenticator as stauth

    credentials = {"usernames": {
        u: {"name": e["name"], "password": e["password_hash"], "roles": [e["role"]], "email": ""}
        for u, e in users.items()}}
    key = secret(cfg.cookie_key_env, env) or _server_cookie_key()
    return stauth.Authenticate(copy.deepcopy(credentials), COOKIE, key, cfg.cookie_days, auto_hash=False)


def sign_in(cfg: AuthConfig, env: Mapping[str, str]) -> User | None:
    """The signed-in user; shows the login form and stops the run until someone signs in.

    Returns None when login is off (``dashboard.auth.enabled: false``). Stops the run with
    a message when no user is configured or the users cannot be read.
    """
    if not cfg.enabled:
        return None
    try:
        users = load_users(cfg, env)
    except AuthError as err:
        st.error(f"The dashboard cannot sign anyone in: {err}")
        st.stop()
    if not users:
        st.error("Login is on, but no user is configured.")
        st.info("Add one with `monitor add-user NAME --role agent` (it writes dashboard.auth.users_file), or "
                f"put users in ${cfg.users_env}. See the README's Dashboard login section.")
        st.stop()
    auth = _authenticator(cfg, users, env)
    form_shown = not st.session_state.get("authentication_status")
    if form_shown:
        st.session_state.pop("_signin_cookie_seen", None)
        st.title("Brand monitor", anchor=False)
        auth.login(location="main", key="login",
                   fields={"Form name": "Sign in", "Username": "Username", "Password": "Password",
                           "Login": "Sign in"})
    status, username = st.session_state.get("authentication_status"), st.session_state.get("username")
    if status is False:
        st.error("Wrong username or password.")
    if not status or username not in users:
        st.stop()
    entry = users[username]
    user = User(username=username, name=entry["name"], role=entry["role"])
    st.session_state["_user"] = user
    if not form_shown and not st.session_state.get("_signin_cookie_seen"):
        # The library renders the cookie-setting component once, in the run that signs in; a rerun that
        # comes before the browser ran it (a busy machine, a live page) removes it and the cookie is lost,
        # so a reload asks for the password again. Keep it on the page until the browser has the cookie.
        if auth.cookie_controller.get_cookie():
            st.session_state["_signin_cookie_seen"] = True
        else:
            auth.cookie_controller.set_cookie()
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({'agent' if user.can_act else 'read-only'})")
        auth.logout("Sign out", location="sidebar", key="logout")
    return user


def current_user() -> User | None:
    """The user signed in for this session, or None (login off, or nobody yet)."""
    user = st.session_state.get("_user")
    return user if isinstance(user, User) and st.session_state.get("authentication_status") else None
