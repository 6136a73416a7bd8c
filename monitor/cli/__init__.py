"""The `monitor` command. Domain errors become user text here, and only here.

Every domain error derives from :class:`monitor.errors.MonitorError`; :class:`MonitorGroup`
turns one into its message and exit code. Exit codes: 0 success, 1 a job failed, 2 bad
config or usage. Commands live beside this file by subject: :mod:`monitor.cli.ops` (the
jobs and the store), :mod:`monitor.cli.rejected` (the dead-letter table), :mod:`monitor.cli.model`
(train, eval), :mod:`monitor.cli.brands` (check-brands), :mod:`monitor.lab.commands` (demo, bench,
backtest) and :mod:`monitor.lab.escalation_commands` (escalation-lab).

``monitor --help`` imports only click and these modules: every command imports what it
needs (the store, the model, rich) when it runs. The console stays quiet: each job prints
one result line; libraries log at WARNING (:mod:`monitor.cli.console`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from monitor.cli.console import configure_logging
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.context import App


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
        self.log_level: str | None = None
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            from monitor.context import App

            self._app = App.from_file(self.config_path)
        return self._app

    def app_with_database(self) -> App:
        """:attr:`app`, once its database has been initialised; raises ``NotInitialised`` (exit 2) before
        `monitor init`, creating nothing."""
        from monitor.store.migrate import require_schema

        require_schema(self.app.config.database.url)
        return self.app


pass_ctx = click.make_pass_decorator(Ctx)


def _user_error(ctx: click.Context, err: MonitorError) -> click.ClickException:
    """The one place a domain error becomes what Click shows: its message and its exit code."""
    from monitor.config import ConfigError

    if isinstance(err, ConfigError):
        obj = ctx.find_object(Ctx)
        return ConfigProblem(obj.config_path if obj else "config", err.problems)
    return UserError(err)


class MonitorCommand(click.Command):
    """Every ``monitor`` command: turns the domain errors it meets into user text and an exit code.

    Groups make their commands with this class, and so does :func:`command`, so a command run
    on its own behaves as it does under ``monitor``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as err:
            raise _user_error(ctx, err) from None


class MonitorGroup(click.Group):
    """A group whose commands (and sub-groups) are :class:`MonitorCommand` s; its own callback's
    domain errors are turned into text the same way."""

    command_class = MonitorCommand
    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as err:
            raise _user_error(ctx, err) from None


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
@click.option("--log-level", default=None, envvar="MONITOR_LOG_LEVEL",
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="The monitor's own log level (default: WARNING; INFO for `monitor run`). Libraries log at "
                   "WARNING unless DEBUG.")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: str | None) -> None:
    """Social-media brand-sentiment monitor: collect, score, flag, alert, show."""
    configure_logging(log_level)
    ctx.obj = Ctx(config_path)
    ctx.obj.log_level = log_level


def _register() -> None:
    """The commands, from the modules that hold them (see the module docstring)."""
    import importlib

    for module in ("monitor.cli.ops", "monitor.cli.rejected", "monitor.cli.model", "monitor.cli.brands",
                   "monitor.lab.commands", "monitor.lab.escalation_commands"):
        mod = importlib.import_module(module)
        for value in vars(mod).values():
            if isinstance(value, click.Command) and getattr(value, "monitor_command", False):
                cli.add_command(value)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="monitor")
