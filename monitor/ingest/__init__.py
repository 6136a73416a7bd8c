"""Ingest: run a source page by page, match each mention to brands, store it with the cursor.

- :mod:`monitor.ingest.collect`: run one source, record its health, pause it on rate limits;
- :mod:`monitor.ingest.pipeline`: normalise, match, de-duplicate, store a page and its cursor at once;
- :mod:`monitor.ingest.matching`: which brands a text mentions;
- :mod:`monitor.ingest.language`: a mention's language, the platform's or detected;
- :mod:`monitor.ingest.brandcheck`: the brand rules over a labelled file (``monitor check-brands``).
"""

from __future__ import annotations

from monitor.ingest.pipeline import IngestResult, ingest_mentions, load_cursor, save_cursor, sync_brands

__all__ = ["IngestResult", "ingest_mentions", "load_cursor", "save_cursor", "sync_brands"]
