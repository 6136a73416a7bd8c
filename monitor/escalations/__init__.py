"""Escalations: the rules that flag mentions a person should answer, the workflow people move
them through, and the queue's response-time statistics.

- :mod:`monitor.escalations.rules`: :func:`flag_escalations` and the rules it applies;
- :mod:`monitor.escalations.workflow`: acknowledge, assign, resolve, dismiss, reopen;
- :mod:`monitor.escalations.stats`: time to acknowledge and to resolve.
"""

from __future__ import annotations

from monitor.escalations.rules import Verdict, addressed_handle, evaluate, flag_escalations
from monitor.escalations.stats import EscalationStats, escalation_stats
from monitor.escalations.workflow import assign, transition

__all__ = ["EscalationStats", "Verdict", "addressed_handle", "assign", "escalation_stats", "evaluate",
           "flag_escalations", "transition"]
