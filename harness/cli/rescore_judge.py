"""`harness rescore RUN --judge provider/model`: put a stored run's replies to a judge.

The replies come from the store; no provider of the run is called. The judge is asked exactly as
during a run (harness.scoring.judged.JudgedScorers, the same questions, temperature 0, fixed seed)
through the judge cache of the results directory, so a second rescoring with the same judge asks
nothing. A judge that cannot start, or that gives no usable answer at all, is an error (exit 2) and
nothing is written: a scoring whose every verdict is `needs_review` would measure nothing.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.problems import InputError
from harness.redact import redact
from harness.types import Outcome, Prompt, Score



@dataclass
class JudgeSetup:
    config: Any            # ProviderConfig of the judge
    fmt: str               # chat | llama-guard
    cache_path: Path
    asked: int = 0         # judge verdicts in the new scoring
    unusable: int = 0      # ... of which without a usable answer

    @classmethod
    def build(cls, model: str, base_url: str | None, api_key_env: str | None, fmt: str | None,
              names: list[str], results_dir: Path) -> JudgeSetup:
        from harness.cli.judge import _judge_config
        from harness.scoring.llamaguard import judge_format_for

        from harness.scoring.traits import rule_verdict_scorers

        if not rule_verdict_scorers(names) and "graded" not in names:   # the judge refines rule verdicts, grades graded
            raise InputError.single("--judge", f"a judge is used by the teen_safety and graded scorers; this run's "
                                    f"scorers are {', '.join(names)} (add -s teen_safety)")
        config = _judge_config(model, base_url)
        if api_key_env:
            config = config.model_copy(update={"api_key_env": api_key_env})
        try:
            resolved = judge_format_for(config.model, fmt)
        except ValueError as err:
            raise InputError.single("--judge-format", str(err)) from None
        return cls(config=config, fmt=resolved, cache_path=Path(results_dir) / "judge_cache.db")

    def score_all(self, names: list[str], rows: list) -> list[list[Score]]:
        """Today's scores of every stored reply, refined by the judge; in the order of `rows`."""
        return asyncio.run(self._score_all(names, rows))

    async def _score_all(self, names: list[str], rows: list) -> list[list[Score]]:
        from harness.cli.rescore import stored_reply
        from harness.providers.errors import ProviderError
        from harness.scoring import score_reply
        from harness.scoring.judge import JudgeCache
        from harness.scoring.judged import JudgedScorers
        from harness.scoring.llamaguard import make_judge
        from harness.scoring.rules import default_ruleset
        from harness.scoring.traits import rule_verdict_scorers

        cache = JudgeCache(self.cache_path)
        judge = make_judge(self.config, self.fmt, cache, self.config.params.seed or 0)
        try:
            try:
                await judge.provider.start()
            except ProviderError as err:
                raise InputError.single("--judge", f"judge {self.config.model} could not start: "
                                        f"{redact(err.message)}") from None
            except (ImportError, OSError, ValueError) as err:
                raise InputError.single("--judge", f"judge {self.config.model} could not start: "
                                        f"{redact(str(err))}") from None
            judged = JudgedScorers(judge, default_ruleset(), rules=rule_verdict_scorers(names), graded="graded" in names,
                                   concurrency=self.config.concurrency)

            async def one(row) -> list[Score]:
                prompt = Prompt.model_validate_json(row["prompt_json"])
                reply = stored_reply(row)
                scores = score_reply(names, prompt, reply)
                if reply.outcome is Outcome.ERROR:
                    return scores
                try:
                    return await judged.score(prompt, reply, scores)
                except Exception as err:  # noqa: BLE001 - as during a run: keep the signal scores, say so
                    return scores + [Score(scorer="judge", passed=None, label="judge_error",
                                           explanation=f"judging failed: {type(err).__name__}: {redact(str(err))}")]

            out = list(await asyncio.gather(*(one(row) for row in rows)))
        finally:
            await judge.provider.aclose()
            cache.close()
        verdicts = [s for scores in out for s in scores   # the evaluator question is a flag, not a verdict
                    if s.scorer.startswith("judge:") and s.scorer != "judge:addresses_evaluator"
                    or s.scorer in ("judge", "graded") and s.label != "not_applicable"]
        self.asked = len(verdicts)
        self.unusable = sum(1 for s in verdicts if s.passed is None and s.label in ("unusable", "judge_error"))
        if self.asked and self.unusable == self.asked:
            first = next(s.explanation for s in verdicts)
            raise InputError.single("--judge", f"judge {self.config.model} gave no usable answer on any of "
                                    f"{self.asked} questions: {redact(first)}; nothing was written")
        return out
