"""The `monitor` command. Domain errors become user text here, and only here.

Every domain error derives from :class:`monitor.errors.MonitorError`; :class:`MonitorGroup`
turns one into its message and exit code. Exit codes: 0 success, 1 a job failed, 2 bad
config or usage. Commands live beside this file by subject: :mod:`monitor.cli.ops` (the
jobs and the store), :mod:`monitor.cli.model` (train, eval) and
:mod:`monitor.lab.commands` (demo, bench, backtest) and :mod:`monitor.lab.escalation_commands`
(escalation-lab).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from monitor.config import ConfigError
from monitor.context import App
from monitor.errors import MonitorError


class ConfigProblem(click.ClickException):
    """Bad config: one line per problem, exit code 2, nothing stored is touched."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__("\n".join(f"{path}: {p}" if not p.startswith(path) else p for p in problems))

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: invalid config\n{self.format_message()}", err=True)


class UserError(click.ClickException):
    """A :class:`MonitorError` as Click shows it: its message, its exit code."""

    def __init__(self, err: MonitorError) -> None:
        super().__init__(str(err))
        self.exit_code = err.exit_code


class Ctx:
    """Click's context object: loads the config on first use (raises ConfigError)."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App.from_file(self.config_path)
        return self._app


pass_ctx = click.make_pass_decorator(Ctx)


class MonitorCommand(click.Command):
    """Every ``monitor`` command: turns the domain errors it meets into user text and an exit code.

    The one place this happens (groups make their commands with this class, and so does
    :func:`command`), so a command run on its own behaves as it does under ``monitor``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as err:
            obj = ctx.find_object(Ctx)
            raise ConfigProblem(obj.config_path if obj else "config", err.problems) from None
        except MonitorError as err:
            raise UserError(err) from None


class MonitorGroup(click.Group):
    """A group whose commands (and sub-groups) are :class:`MonitorCommand` s."""

    command_class = MonitorCommand
    group_class = type


def command(*args: Any, **kwargs: Any) -> Any:
    """``click.command`` as a :class:`MonitorCommand`, marked for registration on the ``monitor`` group."""
    def wrap(fn: Any) -> click.Command:
        cmd = click.command(*args, cls=MonitorCommand, **kwargs)(fn)
        cmd.monitor_command = True  # type: ignore[attr-defined]
        return cmd
    return wrap


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", "config_path", default="config.yaml", envvar="MONITOR_CONFIG",
              show_default=True, help="Path to config.yaml (or set MONITOR_CONFIG).")
@click.option("--log-level", default="INFO", envvar="MONITOR_LOG_LEVEL", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: str) -> None:
    """Social-media brand-sentiment monitor: collect, score, flag, alert, show."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler.executors", "httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    ctx.obj = Ctx(config_path)


def _register() -> None:
    """The commands, from the modules that hold them (see the module docstring)."""
    import importlib

    for module in ("monitor.cli.ops", "monitor.cli.model", "monitor.lab.commands", "monitor.lab.escalation_commands"):
        mod = importlib.import_module(module)
        for value in vars(mod).values():
            if isinstance(value, click.Command) and getattr(value, "monitor_command", False):
                cli.add_command(value)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="monitor")
