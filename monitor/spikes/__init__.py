"""Spike detection: negative talk per brand and bucket, judged against what was expected.

- :mod:`monitor.spikes.baseline` and :mod:`monitor.spikes.judgement`: the statistics, pure
  numbers with no database (arrays in, verdicts out);
- :mod:`monitor.spikes.detect`: counts per bucket from the store, judged each run;
- :mod:`monitor.spikes.alerts`: one alert per storm (open, update, close, cool-down);
- :mod:`monitor.spikes.details`: what drove a spike (top mentions, rising terms).
"""

from __future__ import annotations

from monitor.spikes.detect import detect_spikes

__all__ = ["detect_spikes"]
