"""An LLM judge that any configured provider can play (the local Llama or a cloud model).

Why it looks the way it does (prompt and parsing: harness/scoring/judge_prompt.py):
* Every call uses temperature 0, a fixed seed and a small max_tokens, so verdicts are as repeatable
  as the provider allows, and cheap.
* Two modes. ``per_reply`` (the default) asks every applicable rule of one reply in ONE call with one
  structured answer; ``per_rule`` asks each rule separately (about nine calls per teen-safety reply).
  `harness judge calibrate --mode both` measures the two against human labels on the gold set.
* Where the provider can enforce a JSON schema (providers/structured_output.yaml) the answer is asked
  for in one; a model that rejects the schema (HTTP 400) is asked again without it, once per judge.
* The cache key is a hash of the request as rendered (system prompt, rubric, question, prompt, reply,
  schema, params, judge identity) with the random nonce fixed: editing any wording of the judge
  prompt misses the cache by itself, with no version to bump by hand.
* Only usable verdicts are cached, so an unusable one is retried on the next run. Unusable is never a
  pass: callers treat it as "no judgement".
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
import secrets
import sqlite3
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from harness.providers.base import GenerationParams, Provider, ProviderConfig
from harness.stats import cohen_kappa
from harness.scoring.judge_prompt import (  # noqa: F401 - re-exported: the judge's public surface
    Verdict,
    answer_schema,
    build_messages,
    build_rules_messages,
    looks_like_judge_injection,
    neutralise_delimiters,
    parse_rules,
    parse_score,
    parse_verdict,
    rule_rubric,
    rules_schema,
)
from harness.scoring.judge_reach import Reach, chat_reach
from harness.scoring.judge_usage import JudgeUsage
from harness.types import ErrorKind, Message, Outcome, Reply

if TYPE_CHECKING:
    from harness.scoring.rules import Rule

RAW_LIMIT = 2000  # characters of the judge's text kept with a verdict
DEFAULT_MAX_TOKENS = 200  # room for two sentences of reasoning plus the answer
PER_RULE_TOKENS = 90      # per_reply mode: room per rule for a short reason and the answer
MODES = ("per_reply", "per_rule")
DEFAULT_MODE = "per_reply"
STRUCTURED_FILE = Path(__file__).resolve().parents[1] / "providers" / "structured_output.yaml"
_NONCE_SLOT = "NONCE"
# A 400 that names one of these is about the schema we sent (not, say, a bad temperature).
_SCHEMA_WORDS = re.compile(r"response_format|json_schema|schema|output_config|output_format|response_mime_type|"
                           r"structured", re.IGNORECASE)  # the nonce as it appears in the rendering that is hashed for the cache key


class JudgeParams(GenerationParams):
    """A judge call's parameters: the eval's, plus the JSON schema the answer must follow (adapters
    send it as the provider's structured output). Only judges use it, so reply cache keys of the
    providers under test are unchanged."""

    response_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class JudgeVerdict:
    """One judgement. `verdict` is "yes"/"no" for a yes/no question, "scored" (with `score`) for a
    scale question, "unusable" (with `reason`) when no judgement could be read, and "disagree" when
    two judges contradict each other. What "yes" means for pass/fail depends on the question (for
    "Does the reply give a method…?" yes is a fail)."""

    verdict: Verdict
    judge_model: str
    raw: str = ""
    reason: str | None = None
    score: int | None = None
    cached: bool = False
    injection_suspected: str | None = None

    @property
    def usable(self) -> bool:
        return self.verdict not in ("unusable", "disagree", "abstain")

    @property
    def answer(self) -> bool | None:
        """True for yes, False for no, None otherwise (never a default pass)."""
        return {"yes": True, "no": False}.get(self.verdict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JudgeVerdict:
        return cls(**json.loads(text))


@functools.lru_cache(maxsize=1)
def _structured_table() -> dict[str, Any]:
    return yaml.safe_load(STRUCTURED_FILE.read_text(encoding="utf-8")) or {}


def supports_structured(config: ProviderConfig) -> bool:
    """Whether the provider kind and model can be held to a JSON schema (structured_output.yaml)."""
    entry = _structured_table().get(config.kind)
    if not entry:
        return False
    name = config.model_name.removeprefix("models/")
    return not any(re.match(rx, name) for rx in entry.get("without") or [])


# -- the cache -----------------------------------------------------------------------------------

class JudgeCache:
    """Usable verdicts by cache key, in SQLite (WAL, so concurrent readers of results/ don't block)."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS judge_cache ("
                             "key TEXT PRIMARY KEY, verdict_json TEXT NOT NULL, created_at TEXT NOT NULL)")
            self._db.commit()
            self._db.execute("SELECT key FROM judge_cache LIMIT 1").fetchall()
        except sqlite3.DatabaseError as err:
            self._db.close()
            from harness.cache import is_damage

            if not is_damage(err):
                raise
            raise self._damaged(err) from None

    def _damaged(self, err: BaseException):
        from harness.cache import CacheDamaged

        return CacheDamaged(self.path, err, f"clear it with: harness cache clear --judge --results {self.path.parent} "
                                            "(cached judge verdicts are asked again)")

    def get(self, key: str) -> JudgeVerdict | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT verdict_json FROM judge_cache WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as err:
            from harness.cache import is_damage

            if not is_damage(err):
                raise
            raise self._damaged(err) from None
        return replace(JudgeVerdict.from_json(row[0]), cached=True) if row else None

    def put(self, key: str, verdict: JudgeVerdict) -> None:
        if not verdict.usable:
            return  # an unusable verdict is retried next time, never remembered
        stored = replace(verdict, cached=False, injection_suspected=None)
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO judge_cache (key, verdict_json, created_at) VALUES (?, ?, ?)",
                                 (key, stored.to_json(), datetime.now(timezone.utc).isoformat()))
                self._db.commit()
        except sqlite3.DatabaseError as err:
            from harness.cache import is_damage

            if not is_damage(err):
                raise
            raise self._damaged(err) from None

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM judge_cache").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


# -- the judge -----------------------------------------------------------------------------------

# Identity fields that do not change what the model answers: kept out of the cache key so that an SDK
# upgrade or a switch to streaming does not throw away every cached verdict.
_VOLATILE_IDENTITY = {"sdk_version", "stream"}


def _nonce(*texts: str) -> str:
    nonce = secrets.token_hex(8)
    while any(nonce in t for t in texts):  # astronomically unlikely; cheap to rule out
        nonce = secrets.token_hex(8)
    return nonce


def failed_call(reply: Reply, truncated: str = "judge answer truncated at max_tokens") -> str | None:
    """Why a judge call gave no answer to read (error, block, truncation: `truncated` says it), or None."""
    if reply.outcome is Outcome.ERROR:
        kind = reply.error_kind.value if reply.error_kind else "error"
        return f"judge provider error ({kind}): {reply.reason or ''}".strip()
    if reply.outcome is Outcome.PROVIDER_BLOCKED:
        return f"judge reply blocked by the provider ({reply.reason or 'blocked'})"
    if reply.outcome is Outcome.TRUNCATED:
        # The answer comes last, so a cut-off answer cannot be trusted to contain it.
        return truncated
    return None


class Judge:
    """Asks `provider` questions about replies. The caller starts and closes the provider (or uses
    `async with judge:`); start it before asking, since a local model's identity (file hash) is only
    known once it is loaded and the cache key depends on it."""

    def __init__(self, provider: Provider, *, cache: JudgeCache | None, seed: int = 0,
                 max_tokens: int = DEFAULT_MAX_TOKENS, mode: str = DEFAULT_MODE,
                 structured: bool | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"judge mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.provider = provider
        self.cache = cache
        self.mode = mode
        self.max_tokens = max_tokens
        self.seed = seed
        # Temperature 0, the seed and a small max_tokens where the judge's model accepts them, resolved
        # like any provider's (a Claude judge under API 2026-10-21 takes no temperature at all).
        from harness.providers.resolve import judge_params

        self.params, self.resolution = judge_params(provider.config, seed=seed, max_tokens=max_tokens)
        self.structured = supports_structured(provider.config) if structured is None else structured
        self.structured_refused: str | None = None  # why the provider rejected a schema, once it did
        self.usage = JudgeUsage(self.judge_model, mode=mode)
        self.usage.attach(provider)

    @property
    def judge_model(self) -> str:
        return self.provider.config.model

    async def start(self) -> None:
        await self.provider.start()

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def __aenter__(self) -> Judge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- requests ------------------------------------------------------------------------------

    def _params(self, schema: dict[str, Any] | None, max_tokens: int) -> JudgeParams:
        """The call's parameters: the judge's own (`self.params`: temperature 0, the seed, a small budget),
        the budget raised to `max_tokens` (a per_reply answer covers every rule), and the schema."""
        base = self.params.model_dump()
        if base.get("max_tokens") is not None:
            base["max_tokens"] = max(base["max_tokens"], max_tokens)
        return JudgeParams(**base, response_schema=schema if self.structured else None)

    def _key(self, messages: list[Message], params: JudgeParams) -> str:
        identity = {k: v for k, v in self.provider.identity().items() if k not in _VOLATILE_IDENTITY}
        material = {"judge": self.judge_model, "identity": identity, "params": params.model_dump(),
                    "messages": [m.model_dump() for m in messages]}
        return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()

    async def _send(self, render, schema: dict[str, Any] | None, max_tokens: int,
                    texts: tuple[str, ...]) -> tuple[Reply, str | None]:
        """One call with a fresh nonce; (reply, why it is unreadable or None). A schema the provider
        rejects with HTTP 400 is dropped: the same question is asked once more without it."""
        nonce = _nonce(*texts)
        reply = await self.provider.complete(render(nonce), self._params(schema, max_tokens))
        if (self.structured and schema is not None and reply.outcome is Outcome.ERROR
                and reply.error_kind is ErrorKind.BAD_REQUEST and _SCHEMA_WORDS.search(reply.reason or "")):
            self.structured, self.structured_refused = False, reply.reason
            reply = await self.provider.complete(render(nonce), self._params(schema, max_tokens))
        return reply, failed_call(reply)

    def cache_key(self, question: str, prompt_text: str, reply_text: str, rubric: str | None,
                  scale: tuple[int, int] | None) -> str:
        """The key of one question: the rendered request with the nonce slot fixed."""
        messages = build_messages(question, prompt_text, reply_text, rubric, scale, _NONCE_SLOT)
        return self._key(messages, self._params(answer_schema(scale), self.max_tokens))

    async def ask(self, question: str, prompt_text: str, reply_text: str, *, rubric: str | None = None,
                  scale: tuple[int, int] | None = None) -> JudgeVerdict:
        """Judge one reply. Never raises for provider failures: those come back as "unusable"."""
        injection = looks_like_judge_injection(reply_text)
        key = self.cache_key(question, prompt_text, reply_text, rubric, scale)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.usage.cached += 1
            return replace(hit, injection_suspected=injection)

        reply, failed = await self._send(
            lambda n: build_messages(question, prompt_text, reply_text, rubric, scale, n),
            answer_schema(scale), self.max_tokens, (prompt_text, reply_text))
        raw = (reply.text or "")[:RAW_LIMIT]
        base = JudgeVerdict(verdict="unusable", judge_model=self.judge_model, raw=raw,
                            injection_suspected=injection)
        if failed:
            return replace(base, reason=failed)
        if scale:
            score, reason = parse_score(reply.text, scale)
            verdict = replace(base, verdict="scored" if score is not None else "unusable", score=score, reason=reason)
        else:
            value, reason = parse_verdict(reply.text)
            verdict = replace(base, verdict=value, reason=reason)
        if self.cache is not None:
            self.cache.put(key, verdict)
        return verdict

    async def addresses_evaluator(self, prompt_text: str, reply_text: str):
        """The separate question whether the reply talks to its grader (harness.scoring.judge_evaluator):
        its own call, never part of a rule's prompt. Returns an EvaluatorCheck."""
        from harness.scoring.judge_evaluator import ask

        return await ask(self, prompt_text, reply_text)

    def reach(self, rule: Rule) -> Reach:
        """What this judge can decide about `rule` (harness.scoring.judge_reach): any yes/no question."""
        return chat_reach(rule)

    async def judge_rules(self, rules: list[Rule], prompt_text: str, reply_text: str) -> dict[str, JudgeVerdict]:
        """One verdict per rule id: in per_reply mode from one call for all rules, in per_rule mode
        from one call per rule (concurrently). A rule without a yes/no question is not asked: its
        verdict is unusable."""
        unique = list({r.id: r for r in rules}.values())
        out = {r.id: JudgeVerdict(verdict="unusable", judge_model=self.judge_model,
                                  reason=f"rule {r.id} has no yes/no judge question")
               for r in unique if self.reach(r) is Reach.NOT_ASKED}
        asked = [r for r in unique if r.id not in out]
        if not asked:
            return out
        if self.mode == "per_rule" or len(asked) == 1:
            verdicts = await asyncio.gather(*(self.ask(r.judge_question, prompt_text, reply_text,
                                                       rubric=rule_rubric(r)) for r in asked))
            out.update({r.id: v for r, v in zip(asked, verdicts)})
        else:
            out.update(await self._ask_rules(asked, prompt_text, reply_text))
        return {r.id: out[r.id] for r in unique}

    async def _ask_rules(self, rules: list[Rule], prompt_text: str, reply_text: str) -> dict[str, JudgeVerdict]:
        """per_reply: every rule in one call, one structured answer; each rule's verdict cached on its own."""
        injection = looks_like_judge_injection(reply_text)
        ids = [r.id for r in rules]
        schema = rules_schema(ids)
        max_tokens = max(self.max_tokens, 60 + PER_RULE_TOKENS * len(rules))
        key = self._key(build_rules_messages(rules, prompt_text, reply_text, _NONCE_SLOT),
                        self._params(schema, max_tokens))
        if self.cache is not None:
            hits = {rid: self.cache.get(f"{key}:{rid}") for rid in ids}
            if all(hits.values()):
                self.usage.cached += len(ids)
                return {rid: replace(v, injection_suspected=injection) for rid, v in hits.items()}
        reply, failed = await self._send(lambda n: build_rules_messages(rules, prompt_text, reply_text, n),
                                         schema, max_tokens, (prompt_text, reply_text))
        base = JudgeVerdict(verdict="unusable", judge_model=self.judge_model, raw=(reply.text or "")[:RAW_LIMIT],
                            injection_suspected=injection)
        if failed:
            return {rid: replace(base, reason=failed) for rid in ids}
        parsed, why = parse_rules(reply.text, ids)
        if not parsed:
            return {rid: replace(base, reason=why) for rid in ids}
        out = {}
        for rid, (value, reason, said) in parsed.items():
            raw = json.dumps({"rule": rid, "reason": said, "answer": value.upper()}, ensure_ascii=False)
            out[rid] = replace(base, verdict=value, reason=reason, raw=raw)
            if self.cache is not None:
                self.cache.put(f"{key}:{rid}", out[rid])
        return out


# -- agreement -----------------------------------------------------------------------------------

def agreement(pairs: list[tuple[bool | None, bool | None]]) -> dict[str, Any]:
    """How often the judge and the signal-based scorer agree, over the items both could judge.

    Pairs are (judge, signals); None on either side (unusable, not applicable) drops the pair from the
    comparison and is counted in `skipped`, so missing judgements never inflate agreement."""
    both = [(j, s) for j, s in pairs if j is not None and s is not None]
    n = len(both)
    out: dict[str, Any] = {
        "n_total": len(pairs), "n_compared": n, "skipped": len(pairs) - n,
        "both_true": sum(j and s for j, s in both), "both_false": sum(not j and not s for j, s in both),
        "judge_only_true": sum(j and not s for j, s in both), "signals_only_true": sum(s and not j for j, s in both),
        "agree_pct": None, "kappa": None,
    }
    if n:
        judge, signals = [j for j, _ in both], [s for _, s in both]
        out["agree_pct"] = 100.0 * sum(j == s for j, s in both) / n
        out["kappa"] = cohen_kappa(signals, judge)
    return out
