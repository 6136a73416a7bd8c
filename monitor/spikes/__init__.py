"""Spike detection: negative talk per brand and bucket, judged against what was expected.

- :mod:`monitor.spikes.baseline`, :mod:`monitor.spikes.evidence`, :mod:`monitor.spikes.coverage`
  and :mod:`monitor.spikes.judgement`: the statistics, pure numbers with no database (arrays
  in, verdicts out): the expected count, the one-bucket and accumulated-evidence tests, which
  buckets were collected and which sources are still warming up;
- :mod:`monitor.spikes.counts`: the counts per brand, source and bucket (people and mentions),
  taken from the store in one grouped query;
- :mod:`monitor.spikes.detect`: judges the buckets completed since the last run;
- :mod:`monitor.spikes.alerts`: one alert per storm (open, update, close, cool-down);
- :mod:`monitor.spikes.details`: what drove a spike (top mentions, rising terms) and the one
  sentence that says why it fired.
"""

from __future__ import annotations

from monitor.spikes.detect import detect_spikes

__all__ = ["detect_spikes"]
