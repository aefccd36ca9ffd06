"""Load a YAML file into a pydantic model, reporting every problem with its line and field path."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.problems import InputError, Problem, read_text

M = TypeVar("M", bound=BaseModel)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to the deepest line we can find."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node = match[1]
            line = match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml_model(path: str | Path, model: type[M], *, context: dict[str, Any] | None = None) -> tuple[M, Any]:
    """Return (validated model, raw data). Raises InputError listing every problem."""
    path = Path(path)
    text = read_text(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError.single(path, f"is not valid YAML: {getattr(err, 'problem', None) or err}",
                                line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise InputError.single(path, "must be a YAML mapping (key: value lines)")
    try:
        return model.model_validate(data, context=context), data
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            message = e["msg"]
            if e["type"] == "extra_forbidden":
                message = "unknown field; check the spelling (see the README for the fields allowed here)"
            elif e["type"] == "missing":
                message = "is required"
            problems.append(Problem(file=str(path), line=_line_of(node, loc), field=_field(loc) or None,
                                    message=message))
        raise InputError(problems) from None
