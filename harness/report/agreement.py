"""Kept for callers of the old path: agreement and Cohen's kappa live in harness.stats.agreement."""
from harness.stats.agreement import agreement, cohen_kappa, confusion_matrix, format_confusion

__all__ = ["agreement", "cohen_kappa", "confusion_matrix", "format_confusion"]
