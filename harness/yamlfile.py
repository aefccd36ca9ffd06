"""Reading YAML from untrusted files: one streaming pass over the parser's events, with the checks a
hostile or careless file needs, and pydantic models with every problem at its line and field path.

Suites, rules and eval files come from other people and from the hub, so the reader refuses:

* alias expansion past a bound ("billion laughs": a few hundred bytes that expand to gigabytes);
  aliases may add at most as many nodes as the file itself holds, plus MAX_ALIAS_NODES;
* recursive aliases, nesting deeper than MAX_DEPTH, and tags other than YAML's plain types;
* any one text longer than MAX_FIELD_CHARS;
* a key given twice in one mapping (YAML would silently keep the last value): both lines are named.

Every problem of the file is reported at once. `harness prompts validate` and `harness run` read
through the same function, so they can never disagree about a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.problems import InputError, Problem, read_text

M = TypeVar("M", bound=BaseModel)

#: The longest text one field may hold (a prompt, a target, a metadata value), in characters.
MAX_FIELD_CHARS = 1_000_000
#: Nodes that aliases may add beyond the size of the file itself.
MAX_ALIAS_NODES = 10_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


# Plain scalars starting with one of these characters are always text (no implicit int, float, bool,
# null, timestamp or merge key starts with them), as are quoted and block scalars.
_PLAIN_TEXT = frozenset(chr(c) for c in range(32, 0x3000)) - set(_resolver.yaml_implicit_resolvers)
_QUOTED = frozenset(("'", '"', "|", ">"))


class _Stop(Exception):
    """Reading cannot go on (an alias bomb, too deep): the problems so far are the answer."""


@dataclass
class YamlDoc:
    data: Any
    # Line (1-based) of every mapping value and list item up to `line_depth` levels deep, by path.
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == "tag:yaml.org,2002:merge":
        return "<<"
    build = _constructor.yaml_constructors.get(tag)
    if build is None or tag.startswith("tag:yaml.org,2002:python"):
        raise ValueError(f"the tag {tag!r} is not allowed here; write plain text, numbers or lists")
    return build(_constructor, yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))


def parse_yaml(path: Path, text: str | IO[str], *, line_depth: int = 99,
               on_item: Callable[[int, Any, int, Any, dict], None] | None = None,
               item_paths: tuple[tuple[Any, ...], ...] = ((), ("prompts",))) -> YamlDoc:
    """Parse one YAML document (a text or a text stream) safely; raise InputError listing every problem.

    With `on_item`, each finished item of a list at one of `item_paths` (the top-level list, or the
    `prompts:` list of the top-level mapping) is handed to on_item(index, item, line, document so far)
    instead of being kept (with the lines so far), so a large suite is validated one prompt at a time."""
    problems: list[Problem] = []
    lines: dict[tuple[Any, ...], int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    # Each open container: [kind, value, path, start node count, anchor, pending key, key lines,
    # pending key line, start line, items so far].
    stack: list[list[Any]] = []
    nodes = 0       # nodes as written in the file
    expanded = 0    # nodes that aliases add when the data is used
    root: Any = None
    documents = 0

    def where(event: Any) -> int:
        return event.start_mark.line + 1

    def add(value: Any, line: int) -> None:
        """Put a finished value into the open container (or make it the document)."""
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if top[0] == "seq":
            at = top[2] + (top[9],)
            top[9] += 1
            if on_item is not None and top[2] in item_paths and len(stack) <= 2:
                on_item(at[-1], value, line, stack[0][1] if len(stack) == 2 else None, lines)
                return
            top[1].append(value)
        elif top[5] is _NO_KEY:  # this value is a key
            if isinstance(value, (dict, list)):
                problems.append(Problem(str(path), "a mapping key must be plain text", line=line))
                value = f"<bad key at line {line}>"
            top[5], top[7] = value, line
            return
        else:
            key, line = top[5], top[7]
            top[5] = _NO_KEY
            at = top[2] + (key,)
            if key == "<<" and isinstance(value, (dict, list)):  # a merge key: its entries fill the gaps
                for merged in (value if isinstance(value, list) else [value]):
                    if isinstance(merged, dict):
                        for k, v in merged.items():
                            top[1].setdefault(k, v)
                return
            first = top[6].get(key)
            if first is not None:
                problems.append(Problem(str(path), f"duplicate key {key!r} (also at line {first}): YAML would "
                                        "silently keep only the last value; remove one", line=line,
                                        field=_field(at)))
            else:
                top[6][key] = line
            top[1][key] = value
        if len(at) <= line_depth:
            lines[at] = line

    try:
        loader = _Loader(text)
        next_event = loader.get_event
        ScalarEvent, StreamEnd = yaml.ScalarEvent, yaml.StreamEndEvent
        plain_text = _PLAIN_TEXT
        while True:
            event = next_event()
            kind = type(event)
            if kind is ScalarEvent:
                nodes += 1
                value = event.value
                # Fast path: quoted text, and plain text whose first character no implicit type starts with.
                if event.tag is None and not event.anchor and len(value) <= MAX_FIELD_CHARS and (
                        event.style in _QUOTED or (value and value[0] in plain_text)):
                    if stack:
                        top = stack[-1]
                        if top[0] == "map" and top[5] is _NO_KEY:  # the commonest event: a text key
                            top[5], top[7] = value, event.start_mark.line + 1
                            continue
                    add(value, event.start_mark.line + 1)
                    continue
            elif kind is StreamEnd or event is None:
                break
            if kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                nodes += 1
            if kind is ScalarEvent:
                if len(event.value) > MAX_FIELD_CHARS:
                    problems.append(Problem(str(path), f"a text of {len(event.value):,} characters is longer than "
                                            f"the {MAX_FIELD_CHARS:,} allowed in one field", line=where(event),
                                            field=_field(stack[-1][2] + ((stack[-1][5],) if stack[-1][0] == "map"
                                                                         and stack[-1][5] is not _NO_KEY else ()))
                                            if stack else None))
                    value: Any = ""
                else:
                    try:
                        value = _scalar(event)
                    except (ValueError, yaml.YAMLError) as err:
                        problems.append(Problem(str(path), str(getattr(err, "problem", None) or err), line=where(event)))
                        value = event.value
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                add(value, where(event))
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                is_map = kind is yaml.MappingStartEvent
                if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                    problems.append(Problem(str(path), f"the tag {event.tag!r} is not allowed here", line=where(event)))
                if len(stack) >= MAX_DEPTH:
                    problems.append(Problem(str(path), f"nested more than {MAX_DEPTH} levels deep", line=where(event)))
                    raise _Stop
                parent_path = ()
                if stack:
                    top = stack[-1]
                    parent_path = top[2] + ((top[9],) if top[0] == "seq" else
                                            ((top[5],) if top[5] is not _NO_KEY else ()))
                stack.append(["map" if is_map else "seq", {} if is_map else [], parent_path, nodes + expanded,
                              event.anchor, _NO_KEY, {}, where(event), where(event), 0])
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                top = stack.pop()
                size = nodes + expanded - top[3] + 1
                if top[4]:
                    anchors[top[4]] = (top[1], size)
                add(top[1], top[8])
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    open_anchor = any(s[4] == event.anchor for s in stack)
                    problems.append(Problem(str(path), f"alias *{event.anchor} " + (
                        "refers to a mapping or list that contains it (a recursive structure)" if open_anchor
                        else "has no anchor &" + event.anchor + " before it"), line=where(event)))
                    raise _Stop
                value, size = anchors[event.anchor]
                expanded += size
                if expanded > nodes + MAX_ALIAS_NODES:
                    problems.append(Problem(str(path), f"aliases (*{event.anchor}) expand this file past "
                                            f"{nodes + MAX_ALIAS_NODES:,} nodes; a suite or eval file may repeat "
                                            "itself at most once over through aliases (an alias bomb?)",
                                            line=where(event)))
                    raise _Stop
                add(value, where(event))
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    problems.append(Problem(str(path), "holds more than one YAML document ('---'); use one",
                                            line=where(event)))
                    raise _Stop
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problems.append(Problem(str(path), f"is not valid YAML: {getattr(err, 'problem', None) or err}",
                                line=mark.line + 1 if mark else None))
    except _Stop:
        pass
    if problems:
        raise InputError(problems)
    return YamlDoc(root, lines)


class _NoKey:
    def __repr__(self) -> str:
        return "<no key>"


_NO_KEY = _NoKey()


def read_yaml(path: str | Path, *, line_depth: int = 99) -> YamlDoc:
    path = Path(path)
    return parse_yaml(path, read_text(path), line_depth=line_depth)


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of a pydantic error location that the file has."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1 if lines else None


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The field names a pydantic model accepts at `loc` (its parent's path), for a did-you-mean; []
    when the path leaves the models (a dict, a union)."""
    import typing

    from pydantic import BaseModel

    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        candidates = [annotation, *typing.get_args(annotation)]
        nested = [c for c in candidates for c in [c, *typing.get_args(c)]
                  if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        current = nested[0]
    fields = getattr(current, "model_fields", None) or {}
    return list(fields) + [f.alias for f in fields.values() if f.alias]


def validation_problems(path: Path, err: ValidationError, lines: dict[tuple[Any, ...], int],
                        model: Any = None) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = e["msg"]
        if e["type"] == "extra_forbidden":
            import difflib

            known = _fields_at(model, loc[:-1]) if model is not None and loc else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.7) if known else []
            message = (f"unknown field; did you mean {close[0]!r}?" if close else
                       "unknown field; check the spelling (see the README for the fields allowed here)")
        elif e["type"] == "missing":
            message = "is required"
        problems.append(Problem(file=str(path), line=_line_of(lines, loc), field=_field(loc) or None,
                                message=message))
    return problems


def load_yaml_model(path: str | Path, model: type[M], *, context: dict[str, Any] | None = None,
                    doc: YamlDoc | None = None) -> tuple[M, Any]:
    """Return (validated model, raw data). Raises InputError listing every problem."""
    path = Path(path)
    doc = doc or read_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError.single(path, "must be a YAML mapping (key: value lines)")
    try:
        return model.model_validate(data, context=context), data
    except ValidationError as err:
        raise InputError(validation_problems(path, err, doc.lines, model)) from None
