"""The model capability table (capabilities.yaml): what a model accepts, how it reasons, when it retires.

Provider facts are data, not code: the table is versioned and reviewable beside prices.yaml, and each
entry names its sources. Where an installed SDK carries a fact itself (OpenAI's shutdown dates in
`openai/types/shared/chat_model.py`, Anthropic's API version in `anthropic/_constants.py`) the SDK wins
at run time and tests/test_capabilities.py checks that the table agrees, so that an SDK upgrade that
moves a date fails the build instead of passing silently.
"""
from __future__ import annotations

import ast
import fnmatch
import functools
import importlib.util
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

CAPABILITIES_FILE = Path(__file__).with_name("capabilities.yaml")

#: Values a `params:` entry may take (see the header of capabilities.yaml).
PARAM_RULES = frozenset({"accepted", "rejected", "unsupported", "discouraged", "only_1", "reasoning_none"})
#: Parameters the table speaks for.
TABLE_PARAMS = ("temperature", "seed", "stop")
CONTROLS = frozenset({"none", "reasoning_effort", "thinking", "thinking_level", "thinking_budget"})
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
# Kinds that call another kind's models.
SAME_MODELS = {"gemini-legacy": "gemini"}


@dataclass(frozen=True)
class Reasoning:
    control: str = "none"
    efforts: tuple[str, ...] = ()
    budget_min: int | None = None
    budget_max: int | None = None
    default: str | None = None
    counts_toward: str | None = None
    allowance: int = 0

    @property
    def budget_ok(self) -> bool:
        return self.budget_min is not None


@dataclass(frozen=True)
class ModelCaps:
    """One table entry, as it applies to one model."""

    kind: str
    model: str
    pattern: str
    params: dict[str, str] = field(default_factory=dict)
    reasoning: Reasoning = Reasoning()
    shutdown: date | None = None
    shutdown_source: str = "capabilities.yaml"
    successor: str | None = None
    api: str = "chat"
    sources: tuple[str, ...] = ()

    def rule(self, param: str) -> str:
        return self.params.get(param, "accepted")

    @property
    def reasons(self) -> bool:
        return self.reasoning.control != "none"


@dataclass(frozen=True)
class Table:
    version: str
    sources: dict[str, str]
    entries: dict[str, list[dict[str, Any]]]
    api_versions: dict[str, str]


class TableError(ValueError):
    pass


def _check_entry(kind: str, i: int, entry: Any, sources: dict[str, str]) -> None:
    where = f"capabilities.yaml: providers.{kind}.models[{i}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("match"), list) or not entry["match"]:
        raise TableError(f"{where}: needs match: [patterns]")
    for key in entry.get("source") or []:
        if key not in sources:
            raise TableError(f"{where}: unknown source {key!r}")
    if not entry.get("source"):
        raise TableError(f"{where}: needs source: [...]")
    for param, rule in (entry.get("params") or {}).items():
        if param not in TABLE_PARAMS or rule not in PARAM_RULES:
            raise TableError(f"{where}: params.{param}: {rule!r} (known: {sorted(PARAM_RULES)})")
    reasoning = entry.get("reasoning") or {}
    if reasoning.get("control", "none") not in CONTROLS:
        raise TableError(f"{where}: reasoning.control {reasoning.get('control')!r}")
    for effort in reasoning.get("efforts") or []:
        if effort not in EFFORTS:
            raise TableError(f"{where}: reasoning effort {effort!r}")
    if entry.get("api", "chat") not in ("chat", "responses", "unsupported"):
        raise TableError(f"{where}: api {entry.get('api')!r} (chat, responses or unsupported)")
    shutdown = entry.get("shutdown")
    if shutdown is not None and not isinstance(shutdown, date):
        raise TableError(f"{where}: shutdown must be a YYYY-MM-DD date")


@functools.lru_cache(maxsize=4)
def load_table(path: Path = CAPABILITIES_FILE) -> Table:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sources = {str(k): str(v) for k, v in (data.get("sources") or {}).items()}
    entries: dict[str, list[dict[str, Any]]] = {}
    api_versions: dict[str, str] = {}
    for kind, block in (data.get("providers") or {}).items():
        models = block.get("models") or []
        for i, entry in enumerate(models):
            _check_entry(kind, i, entry, sources)
        entries[kind] = models
        if block.get("api_version"):
            api_versions[kind] = str(block["api_version"])
    return Table(str(data.get("version")), sources, entries, api_versions)


def _entry_caps(kind: str, name: str, pattern: str, entry: dict[str, Any]) -> ModelCaps:
    r = entry.get("reasoning") or {}
    budget = r.get("budget") or {}
    reasoning = Reasoning(
        control=r.get("control", "none"), efforts=tuple(r.get("efforts") or ()),
        budget_min=budget.get("min") if budget else None, budget_max=budget.get("max") if budget else None,
        default=r.get("default"), counts_toward=r.get("counts_toward"), allowance=int(r.get("allowance") or 0))
    return ModelCaps(kind=kind, model=name, pattern=pattern, params=dict(entry.get("params") or {}),
                     reasoning=reasoning, shutdown=entry.get("shutdown"), successor=entry.get("successor"),
                     api=entry.get("api", "chat"), sources=tuple(entry.get("source") or ()))


def table_caps(kind: str, name: str, table: Table | None = None) -> ModelCaps | None:
    """The first table entry whose pattern matches `name`, or None when the model is not in the table."""
    table = table or load_table()
    kind = SAME_MODELS.get(kind, kind)
    name = name.removeprefix("models/")
    for entry in table.entries.get(kind, []):
        for pattern in entry["match"]:
            if fnmatch.fnmatchcase(name, str(pattern)):
                return _entry_caps(kind, name, str(pattern), entry)
    return None


def model_caps(kind: str, name: str, table: Table | None = None) -> ModelCaps | None:
    """The table's entry, with the installed SDK's own facts where it carries them (OpenAI shutdown dates)."""
    caps = table_caps(kind, name, table)
    if caps is None or SAME_MODELS.get(kind, kind) != "openai":
        return caps
    sdk_date = openai_shutdowns().get(caps.model)
    if sdk_date is not None:
        from dataclasses import replace

        return replace(caps, shutdown=sdk_date, shutdown_source="openai SDK (types/shared/chat_model.py)")
    return caps


# -- facts the installed SDKs carry -------------------------------------------------------------------
def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec is not None and spec.origin else None


def _literal_names(tree: ast.Module, alias: str) -> tuple[list[str], str | None]:
    """The string literals of `alias: TypeAlias = Literal[...]` (or Union[..., Literal[...]]) and the
    docstring that follows the assignment."""
    body = tree.body
    for i, node in enumerate(body):
        target = getattr(node, "target", None) or (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == alias:
            names = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            doc = None
            if i + 1 < len(body) and isinstance(body[i + 1], ast.Expr) and isinstance(body[i + 1].value, ast.Constant):
                doc = body[i + 1].value.value
            return names, doc
    return [], None


@functools.lru_cache(maxsize=1)
def openai_chat_models() -> tuple[list[str], dict[str, date]]:
    """(ChatModel names, shutdown dates) from the installed openai SDK's source, ([], {}) without it.

    The dates live only in the docstring under `ChatModel` ("- "gpt-5", "o3": Announced shutdown date:
    2026-12-11."), so the file is parsed, never imported for its text."""
    path = _module_file("openai.types.shared.chat_model")
    if path is None:
        return [], {}
    names, doc = _literal_names(ast.parse(path.read_text(encoding="utf-8")), "ChatModel")
    dates: dict[str, date] = {}
    for item in re.split(r"\n\s*-\s+", "\n" + (doc or "")):
        text = " ".join(item.split())
        m = re.search(r"shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})", text)
        if not m:
            continue
        for model in re.findall(r'"([^"]+)"', text.split(":", 1)[0]):
            dates[model] = date.fromisoformat(m.group(1))
    return names, dates


def openai_shutdowns() -> dict[str, date]:
    return openai_chat_models()[1]


@functools.lru_cache(maxsize=1)
def openai_responses_only() -> list[str]:
    """Models the installed SDK lists for the Responses API but not for Chat Completions."""
    path = _module_file("openai.types.shared.responses_model")
    if path is None:
        return []
    names, _ = _literal_names(ast.parse(path.read_text(encoding="utf-8")), "ResponsesModel")
    chat = set(openai_chat_models()[0])
    return [n for n in names if n not in chat]


def anthropic_api_version() -> str | None:
    """The `anthropic-version` header the installed SDK sends, or None without the SDK."""
    try:
        from anthropic import _constants
    except ImportError:
        return None
    return getattr(_constants, "ANTHROPIC_API_VERSION", None)
