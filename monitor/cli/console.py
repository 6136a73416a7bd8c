"""The console's logging: one line per job result, libraries quiet.

The monitor's own loggers (``monitor``, ``collectors``, ``models``, ``dashboard``) log at the
chosen level: WARNING by default, since each command prints its own result line; INFO for
the daemon (`monitor run`), whose log is its output. Every other library logs at WARNING,
and the ONNX Runtime quantizer's root-logger chatter (about 40 lines the first time a model
is scored) and the Hugging Face progress bars are silenced, unless the level is DEBUG,
which shows everything.
"""

from __future__ import annotations

import logging
import os
import sys

OURS = ("monitor", "collectors", "models", "dashboard")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Console(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to whatever ``sys.stderr`` is now (Click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _QuietLibraries(logging.Filter):
    """Drops what libraries log through the root logger (onnxruntime's quantizer does) below DEBUG."""

    def __init__(self) -> None:
        super().__init__()
        self.debug = False

    def filter(self, record: logging.LogRecord) -> bool:
        return self.debug or not (record.name == "root" and "onnxruntime" in record.pathname)


_handler: _Console | None = None
_filter = _QuietLibraries()


def configure_logging(level: str | None, *, daemon: bool = False) -> None:
    """Set up the console log for ``level`` (None: WARNING, or INFO for the daemon). Safe to call again."""
    global _handler
    chosen = (level or ("INFO" if daemon else "WARNING")).upper()
    debug = chosen == "DEBUG"
    root = logging.getLogger()
    if _handler is None:
        _handler = _Console()
        _handler.setFormatter(logging.Formatter(FORMAT))
        _handler.addFilter(_filter)
        root.addHandler(_handler)
    _filter.debug = debug
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for name in OURS:
        logging.getLogger(name).setLevel(chosen)
    if not debug:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
