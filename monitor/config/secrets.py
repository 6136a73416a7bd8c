"""Secrets from the environment: the value of ``VAR``, or the contents of the file named by ``VAR_FILE``.

A leaf module: the config, the collectors' framework and the alert channels all read secrets
through :func:`secret`, so ``<VAR>_FILE`` works everywhere. Values are never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def secret(var: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """Return the secret held in environment variable ``var``, or in the file ``<var>_FILE``.

    Returns None when neither is set. Raises OSError when ``<var>_FILE`` names a file that
    cannot be read. Never logs the value.
    """
    if not var:
        return None
    env = os.environ if env is None else env
    value = env.get(var)
    if value:
        return value.strip()
    path = env.get(f"{var}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return None
