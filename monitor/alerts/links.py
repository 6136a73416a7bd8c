"""Links that land: the dashboard URLs an alert points at, in one place.

The dashboard's pages read the same query parameters (``dashboard/app.py`` names the page
paths), so a link in an email, a chat message or a bookmark opens the same view.
"""

from __future__ import annotations

from urllib.parse import urlencode

ALERTS_PAGE = "alerts"
ESCALATIONS_PAGE = "escalations"
ALERT_PARAM = "alert"
BRAND_PARAM = "brand"
ESCALATION_PARAM = "escalation"


def page_url(base: str, page: str, **params: object) -> str:
    """``base``/``page``?params (parameters with a None value are left out)."""
    query = urlencode({k: str(v) for k, v in params.items() if v is not None})
    return f"{base.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def alert_url(base: str, alert_id: int | None) -> str:
    """The alert's own page: its chart, drivers, top mentions, deliveries, acknowledge and resolve."""
    return page_url(base, ALERTS_PAGE, **{ALERT_PARAM: alert_id})


def escalations_url(base: str, brand: str) -> str:
    """The escalation inbox filtered to ``brand``."""
    return page_url(base, ESCALATIONS_PAGE, **{BRAND_PARAM: brand})


def escalation_url(base: str, escalation_id: int) -> str:
    """One escalation, open in the inbox (its actions, notes and audit trail)."""
    return page_url(base, ESCALATIONS_PAGE, **{ESCALATION_PARAM: escalation_id})
