"""Statistics, below scoring and report (nothing here imports from the rest of harness): Wilson and
Newcombe intervals, the exact McNemar test, Holm-Bonferroni, agreement and Cohen's kappa, percentiles.
Standard library only."""
from harness.stats.agreement import agreement, cohen_kappa, confusion_matrix, format_confusion
from harness.stats.describe import median, percentile
from harness.stats.intervals import Z95, newcombe_paired_ci, wilson
from harness.stats.tests import holm, mcnemar_exact

__all__ = ["Z95", "agreement", "cohen_kappa", "confusion_matrix", "format_confusion", "holm", "mcnemar_exact",
           "median", "newcombe_paired_ci", "percentile", "wilson"]
