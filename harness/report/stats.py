"""Kept for callers of the old path: the statistics live in harness.stats."""
from harness.stats import Z95, median, percentile, wilson

__all__ = ["Z95", "median", "percentile", "wilson"]
