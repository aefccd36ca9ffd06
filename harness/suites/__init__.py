"""Prompt suites: files of prompts, loaded and validated with line-accurate problems."""
from harness.suites.load import Suite, load_suite, load_suites, suite_hash
from harness.suites.edit import add_prompt

__all__ = ["Suite", "add_prompt", "load_suite", "load_suites", "suite_hash"]
