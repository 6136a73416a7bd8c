"""The one base class of the problems a user can fix, and its user-facing form.

Every domain error (a bad config, a model that cannot load, a refused workflow move, a
collector that is not configured, ...) derives from :class:`MonitorError`. Its ``str`` is
one line fit to show as it is; ``exit_code`` is what the CLI exits with. The CLI
(``monitor.cli``) and the dashboard (``dashboard.ui.act``) turn it into text, each in
one place. This module imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations


class MonitorError(Exception):
    """A problem the user can fix: ``str(err)`` says what and how, in one line per problem."""

    exit_code: int = 1
    """1: a job or action failed; 2: bad config or usage (see the README's exit codes)."""

    @property
    def lines(self) -> list[str]:
        """The message, one problem per line."""
        return str(self).splitlines() or [type(self).__name__]


class UsageError(MonitorError):
    """The command was asked for something that does not exist (an unknown source, say)."""

    exit_code = 2


class WorkflowError(MonitorError):
    """A person's action that does not apply (unknown row, a move the state machine forbids)."""
