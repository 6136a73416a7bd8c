"""How the monitor starts the dashboard: one place for the `streamlit run` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(config_path: Path, *, port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The argv that serves the dashboard for ``config_path`` (headless, no usage stats, house theme)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.port", str(port), "--server.address", address, "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
            "--theme.primaryColor", "#264653",
            "--", "--config", str(config_path.resolve())]


def serve(config_path: Path, *, port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the dashboard in the foreground until it exits or Ctrl-C; returns its exit code."""
    try:
        return subprocess.call(streamlit_command(config_path, port=port, address=address))
    except KeyboardInterrupt:
        return 0
