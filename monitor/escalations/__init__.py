"""Escalations: the rules that flag mentions a person should answer, how urgently, the workflow
people move them through, and the queue's response-time statistics.

- :mod:`monitor.escalations.risk`: the risk categories, their strong phrases and weak terms, negation;
- :mod:`monitor.escalations.priority`: the 0-100 priority (documented there, and only there) and its tiers;
- :mod:`monitor.escalations.rules`: :func:`flag_escalations` and the rules it applies;
- :mod:`monitor.escalations.workflow`: acknowledge, assign, resolve, dismiss, reopen, notes, bulk actions,
  each named, audited and refused when someone else changed the escalation first;
- :mod:`monitor.escalations.stats`: time to acknowledge and to resolve.
"""

from __future__ import annotations

from monitor.escalations.rules import Verdict, addressed_handle, evaluate, flag_escalations
from monitor.escalations.stats import EscalationStats, escalation_stats
from monitor.escalations.workflow import ConflictError, add_note, assign, bulk, transition

__all__ = ["ConflictError", "EscalationStats", "Verdict", "add_note", "addressed_handle", "assign", "bulk",
           "escalation_stats", "evaluate", "flag_escalations", "transition"]
