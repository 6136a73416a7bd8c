"""What every job and command gets: the parsed config, the engine, the environment.

Built once per process (by the CLI, the scheduler or the dashboard) and passed in;
nothing reads config or the environment at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from monitor.config import Config, load_config
from monitor.store import make_engine


@dataclass
class App:
    """A loaded config plus lazily created engine and scorer."""

    config: Config
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    config_path: Path | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> App:
        """Load ``path`` (``database.url_env`` read from ``env``); raises :class:`monitor.config.ConfigError`."""
        env = os.environ if env is None else env
        return cls(config=load_config(path, env), env=env, config_path=Path(path))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database.url)

    @cached_property
    def scorer(self) -> Any:
        """The sentiment scorer, loaded on first use; raises ``models.ModelLoadError``."""
        from models.inference import load_scorer

        return load_scorer(self.config.model)

    @cached_property
    def models(self) -> Any:
        """The scorers a scoring run routes mentions to by language (:class:`monitor.scoring.Models`)."""
        from models.inference import load_scorer
        from monitor.scoring import Models

        multi = self.config.model.multilingual_model()
        langs = self.scorer.languages
        return Models(self.scorer, frozenset(langs) if langs is not None else None,
                      load_scorer(multi) if multi is not None else None)
