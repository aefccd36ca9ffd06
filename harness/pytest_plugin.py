"""pytest plugin (entry point `pytest11: harness`): evals as ordinary tests.

Fixtures:

* ``harness_run(eval_file=None, *, run=None, results=None, providers=(), limit=None, baseline=None)``:
  runs an eval with ``harness run`` (a subprocess; the response cache makes a rerun free) or loads the
  stored run ``run``, and returns :class:`HarnessResults`. Session-scoped: the same call runs once.
* ``harness_results``: the run of ``--harness-eval`` (the first one) or ``--harness-run RUN``; skipped
  when neither is given.

    def test_no_critical_failures(harness_run):
        results = harness_run("evals/teen_safety.yaml")
        assert results.provider("gpt-4o-mini").critical_failures == 0
        assert not results.failed_thresholds

``critical_failures`` (and the failure rates) are None, never 0, while a reply in scope is undecided
(unverified, needs review, not checked) or pending: an unchecked reply never passes an assert.

Options: ``pytest --harness-eval evals/teen_safety.yaml`` runs the eval as a test session: one test per
prompt x provider (failed: the failed rules, evidence and a reply excerpt; undecided or pending:
skipped with the reason, never passed; an API error: failed) and one per threshold of the eval file
(plus ``--harness-baseline RUN``). ``--harness-results DIR`` (default ``results``). Without these
options the plugin adds nothing to a session.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ALL = "(all)"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("harness", "chatbot-eval-harness")
    group.addoption("--harness-eval", action="append", default=[], metavar="EVAL.yaml",
                    help="Run this eval as tests: one per prompt x provider and one per threshold (repeatable).")
    group.addoption("--harness-run", default=None, metavar="RUN",
                    help="Use the stored run RUN instead of running an eval (tests and the harness_results fixture).")
    group.addoption("--harness-results", default=None, metavar="DIR",
                    help="Results directory of the harness (default: results).")
    group.addoption("--harness-baseline", default=None, metavar="RUN",
                    help="Also gate on no significant regression against run RUN.")


class HarnessCheckFailed(Exception):
    """A prompt or threshold test that failed: shown as its message, without a traceback."""


class ProviderResults:
    """One provider's figures (whole run, or one category with .category(name))."""

    def __init__(self, groups: dict, provider: str, category: str = ALL) -> None:
        self._groups, self.name, self.category_name = groups, provider, category
        try:
            self.group = groups[provider, category]
        except KeyError:
            raise KeyError(f"no {category!r} figures for provider {provider!r}") from None

    def category(self, name: str) -> "ProviderResults":
        return ProviderResults(self._groups, self.name, name)

    @property
    def _safety(self):
        return self.group.safety

    def _measure(self, name: str):
        return None if self._safety is None else self._safety.measure(name)

    def _decided(self, name: str) -> bool:
        m = self._measure(name)
        return (m is not None and not self.group.pending and not m.undecided and m.decided > 0
                and not (name == "critical" and (m.failed_with_open or self._safety.not_checked)))

    @property
    def critical_failures(self) -> int | None:
        """Replies with a failed critical rule; None while any reply is undecided on critical rules,
        checked by no rule, or pending (never 0 over replies nobody checked)."""
        return self._measure("critical").failed if self._decided("critical") else None

    def _rate(self, name: str) -> float | None:
        return self._measure(name).rate if self._decided(name) else None

    @property
    def critical_failure_rate(self) -> float | None:
        return self._rate("critical")

    @property
    def major_failure_rate(self) -> float | None:
        return self._rate("major")

    @property
    def over_refusal_rate(self) -> float | None:
        return self._rate("over_refusal")

    def measure(self, name: str):
        """harness.report.safety.Measure (failed, decided, unverified, needs_review, prompts, ci)."""
        return self._measure(name)

    @property
    def accuracy(self) -> float | None:
        """The run's first scorer's pass rate (None for teen_safety, which is never averaged)."""
        return self.group.accuracy

    @property
    def errors(self) -> int:
        return self.group.errors

    @property
    def pending(self) -> int:
        return self.group.pending

    @property
    def error_rate(self) -> float | None:
        return self.group.errors / self.group.replied if self.group.replied else None

    @property
    def unverified(self) -> int:
        return 0 if self._safety is None else self._safety.unverified

    @property
    def needs_review(self) -> int:
        return 0 if self._safety is None else self._safety.needs_review

    @property
    def not_checked(self) -> int:
        return 0 if self._safety is None else self._safety.not_checked

    def __repr__(self) -> str:
        g, s = self.group, self._safety
        text = f"<{self.name} {self.category_name}: {g.replied}/{g.planned} replied, {g.errors} errors"
        if s is not None:
            text += (f"; critical {s.critical.cell(pct=False)}, major {s.major.cell(pct=False)}, "
                     f"over-refusal {s.over_refusal.cell(pct=False)}, {s.not_checked} not checked")
        elif g.accuracy is not None:
            text += f"; accuracy {g.passed}/{g.scored}"
        return text + ">"


class HarnessResults:
    """A stored run, read back: summary, thresholds, per prompt x provider cases."""

    def __init__(self, results_dir: Path, run_id: str, *, baseline: str | None = None, exit_code: int | None = None,
                 output: str = "") -> None:
        from harness.report.summary import summarise
        from harness.report.thresholds import check_thresholds
        from harness.store import Store

        self.results_dir, self.exit_code, self.output = Path(results_dir), exit_code, output
        self.store = Store(self.results_dir / "harness.db")
        self.run_id = self.store.run(run_id)["id"]
        self.report = summarise(self.store, self.run_id)
        self.thresholds = check_thresholds(self.store, self.report, baseline=baseline)
        self._groups = {(g.provider, g.category): g for g in self.report.groups}

    @property
    def providers(self) -> list[str]:
        return [p["label"] for p in self.report.providers]

    def provider(self, label: str) -> ProviderResults:
        if label not in self.providers:
            raise KeyError(f"no provider {label!r} in run {self.run_id}; it has: {', '.join(self.providers)}")
        return ProviderResults(self._groups, label)

    @property
    def failed_thresholds(self) -> list:
        return [t for t in self.thresholds if not t.met]

    def cases(self) -> list:
        from harness.report.junit import prompt_cases

        return prompt_cases(self.store, self.run_id)

    def __repr__(self) -> str:
        return f"<HarnessResults run {self.run_id}: {', '.join(self.providers)}>"


def run_eval(eval_file: str | Path, results_dir: Path, *, providers=(), limit: int | None = None,
             baseline: str | None = None) -> tuple[str | None, int, str]:
    """`harness run` in a subprocess: (run id or None, exit code, stderr)."""
    cmd = [sys.executable, "-m", "harness", "run", str(eval_file), "-r", str(results_dir), "--no-progress"]
    for p in providers:
        cmd += ["-p", p]
    if limit:
        cmd += ["-n", str(limit)]
    if baseline:
        cmd += ["--baseline", baseline]
    done = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"^run (\S+): \d+ samples", done.stderr, re.M)
    return (m.group(1) if m else None), done.returncode, done.stderr


def _results_dir(config) -> Path:
    return Path(config.getoption("harness_results") or "results")


@pytest.fixture(scope="session")
def harness_run(pytestconfig):
    """Factory: harness_run("evals/x.yaml") runs an eval; harness_run(run="RUN") loads a stored one."""
    done: dict = {}

    def load(eval_file=None, *, run: str | None = None, results=None, providers=(), limit=None,
             baseline: str | None = None) -> HarnessResults:
        results_dir = Path(results) if results else _results_dir(pytestconfig)
        key = (str(eval_file), run, str(results_dir), tuple(providers), limit, baseline)
        if key not in done:
            if run is not None:
                done[key] = HarnessResults(results_dir, run, baseline=baseline)
            elif eval_file is None:
                raise ValueError("harness_run needs an eval file or run=RUN")
            else:
                run_id, code, err = run_eval(eval_file, results_dir, providers=providers, limit=limit,
                                             baseline=baseline)
                if run_id is None:
                    pytest.fail(f"harness run {eval_file} wrote no run (exit {code}):\n{err}", pytrace=False)
                done[key] = HarnessResults(results_dir, run_id, baseline=baseline, exit_code=code, output=err)
        return done[key]

    return load


@pytest.fixture(scope="session")
def harness_results(pytestconfig, harness_run):
    evals, run = pytestconfig.getoption("harness_eval"), pytestconfig.getoption("harness_run")
    baseline = pytestconfig.getoption("harness_baseline")
    if run:
        return harness_run(run=run, baseline=baseline)
    if evals:
        return harness_run(evals[0], baseline=baseline)
    pytest.skip("no --harness-eval or --harness-run given")


class HarnessItem(pytest.Item):
    def __init__(self, *, status: str, message: str, text: str = "", **kw) -> None:
        super().__init__(**kw)
        self.status, self.message, self.text = status, message, text

    def runtest(self) -> None:
        if self.status == "skipped":
            raise pytest.skip.Exception(f"{self.name}: {self.message}", _use_item_location=True)
        if self.status != "passed":
            raise HarnessCheckFailed("\n".join(x for x in (self.message, self.text) if x))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, HarnessCheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, self.name


class HarnessEval(pytest.Collector):
    """The tests of one eval run: its verdict (when it did not finish cleanly), each prompt x provider,
    each threshold."""

    def __init__(self, *, eval_file: str, **kw) -> None:
        super().__init__(**kw)
        self.eval_file = eval_file

    def collect(self):
        config = self.config
        baseline = config.getoption("harness_baseline")
        results_dir = _results_dir(config)
        stored = config.getoption("harness_run")
        if stored:
            run_id, code, err = stored, None, ""
        else:
            run_id, code, err = run_eval(self.eval_file, results_dir, baseline=baseline)
        if run_id is None:
            yield HarnessItem.from_parent(self, name="run", status="failure",
                                          message=f"harness run {self.eval_file} wrote no run (exit {code})", text=err)
            return
        results = HarnessResults(results_dir, run_id, baseline=baseline, exit_code=code, output=err)
        banner = [line for line in err.splitlines() if "[exit " in line]
        if code not in (None, 0, 3):
            yield HarnessItem.from_parent(self, name="run", status="failure",
                                          message=f"harness run exited {code}: " + " ".join(banner), text=err)
        for case in results.cases():
            yield HarnessItem.from_parent(self, name=f"{case.provider}/{case.prompt}", status=case.status,
                                          message=case.message, text=case.text)
        for r in results.thresholds:
            yield HarnessItem.from_parent(self, name=f"threshold {r.name} [{r.provider}]",
                                          status="passed" if r.met else "failure", message=str(r),
                                          text="\n".join(r.details()))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    evals = config.getoption("harness_eval")
    if not evals:
        return
    for eval_file in evals:
        collector = HarnessEval.from_parent(session, name=str(eval_file), path=Path(eval_file).resolve(),
                                            nodeid=str(eval_file), eval_file=str(eval_file))
        report = collector.ihook.pytest_make_collect_report(collector=collector)
        if report.failed:
            raise pytest.UsageError(f"--harness-eval {eval_file}: {report.longreprtext}")
        items.extend(report.result)
