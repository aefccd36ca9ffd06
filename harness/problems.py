"""Input problems, reported with where they are and what to do about them.

Every loader collects all the problems it can find instead of stopping at the first, so that a user
fixing a suite sees the whole list at once. The CLI prints them and exits with code 2 before writing
anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    line: int | None = None
    field: str | None = None
    record: str | None = None  # a prompt id or a record index, when there is no line

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.record:
            parts.append(f"[{self.record}]")
        if self.field:
            parts.append(f"{self.field}:")
        return " ".join(parts) + " " + self.message


class InputError(Exception):
    """Bad user input: one or more problems. The CLI turns it into exit code 2."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: str | Path, message: str, **kw) -> "InputError":
        return cls([Problem(file=str(file), message=message, **kw)])


def open_binary(path: Path):
    """A user file opened for reading bytes, with a clear problem for the usual failures."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError.single(path, "file not found; check the path") from None
    except IsADirectoryError:
        raise InputError.single(path, "is a directory, expected a file") from None
    except PermissionError:
        raise InputError.single(path, "cannot be read (permission denied)") from None


def read_text(path: Path) -> str:
    """Read a user file as UTF-8, with a clear problem for the usual failures."""
    with open_binary(path) as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError.single(
            path, f"is not UTF-8 (byte 0x{data[err.start]:02x} at byte {err.start}); save the file as UTF-8",
            line=line,
        ) from None


def did_you_mean(word: str, known, *, cutoff: float = 0.6) -> str:
    """'; did you mean 'x'?' for the closest of `known`, else '; known: a, b, c' (for messages about an
    unknown name: a scorer, a field, a --group-by key)."""
    import difflib

    names = sorted(str(k) for k in known)
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(names)}"
