"""Fitting a table to a terminal width without ever splitting a number or an id.

Rich, left to itself, folds any cell that does not fit: at 80 columns `300` became `30` over `0`.
Here every column's width is chosen before rich sees the table:

* a cell may wrap only at spaces (`80.0% [49%-94%]` over `(8/10)`), never inside a word: a column is
  never narrower than the longest word it holds, and numbers and ids are single words;
* in the compact layout (the default in a terminal) the columns marked optional are added, most
  useful first, only while the table still fits without wrapping; the required ones are always
  shown (the counts of undecided teen-safety verdicts are required, so they never go missing);
* `wide` shows every column; unbounded (`width=None`, output piped to a file) shows every column at
  its natural width, one line per row;
* when even the narrowest layout of the required columns does not fit, the table is shown as records
  (one block per row, one line per column: psql's expanded display), which fits any terminal wider than
  its longest word; only when even that does not fit is the table rendered wider than the terminal (the
  terminal wraps the line) rather than cutting a value: `Fitted.width` says how wide, and
  `print_fitted` widens the console for that one table.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report.escape import md_escape, terminal_text


@dataclass
class Col:
    header: str
    justify: str = "right"
    optional: int = 0        # 0: always shown; 1, 2, ...: in the compact layout, added in this order if room
    no_wrap: bool = False    # True: the cells never wrap, not even at spaces (ids, a run's timestamp)
    style: str | None = None
    label: bool = False      # the header is a label (a provider's name): it breaks at spaces only


@dataclass
class Fitted:
    table: Table
    width: int                            # the width the table needs, borders included
    hidden: list[str] = field(default_factory=list)   # headers left out by the compact layout


def _plain(cell: Text | str) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _lines(cell: Text | str) -> list[str]:
    return _plain(cell).splitlines() or [""]


def natural_width(cells: Sequence[Text | str]) -> int:
    return max((cell_len(line) for c in cells for line in _lines(c)), default=0)


def word_width(cells: Sequence[Text | str]) -> int:
    """The longest word (run of non-spaces) in the cells: the narrowest a column may be."""
    return max((cell_len(w) for c in cells for line in _lines(c) for w in line.split()), default=0)


def table_width(widths: Sequence[int]) -> int:
    """Rendered width of a rich Table with the default box, edges and padding: each column's content
    plus one space each side, plus one border between and around the columns."""
    return sum(widths) + 3 * len(widths) + 1


def _header_pieces(word: str) -> list[str]:
    """A header word's pieces: it may break after a hyphen or a slash (`over-` `refused`, `err/`
    `pend`). Only headers break there; a cell never does (`0/3` is a number)."""
    return re.findall(r"[^/-]*[/-]|[^/-]+", word) or [word]


def _header_width(header: str, label: bool = False) -> int:
    if label:
        return word_width([header])
    return max((cell_len(p) for w in header.split() for p in _header_pieces(w)), default=1)


def wrap_header(header: str, width: int, label: bool = False) -> str:
    """The header in lines of at most `width` (wider only for a piece that cannot break)."""
    lines: list[str] = []
    line = ""
    for word in header.split():
        pieces = [word] if label else _header_pieces(word)
        for k, piece in enumerate(pieces):
            glue = "" if k or not line else " "
            if line and cell_len(line + glue + piece) > width:
                lines.append(line)
                line, glue = "", ""
            line += glue + piece
    return "\n".join(lines + [line])


def _bounds(col: Col, cells: list[Text | str]) -> tuple[int, int, int]:
    """(narrowest, cells unwrapped, natural) content widths of a column: the header wraps before any
    cell does; a cell wraps at spaces only, and a no_wrap cell never."""
    natural = max(natural_width(cells), cell_len(col.header), 1)
    unwrapped = max(natural_width(cells), _header_width(col.header, col.label), 1)
    narrowest = unwrapped if col.no_wrap else max(word_width(cells), _header_width(col.header, col.label), 1)
    return narrowest, unwrapped, natural


def _shrink(widths: list[int], mins: list[int], target: int) -> list[int]:
    """Narrow the widest columns that can still narrow until the table fits `target` (or cannot)."""
    widths = list(widths)
    while table_width(widths) > target:
        slack = [i for i, (w, m) in enumerate(zip(widths, mins)) if w > m]
        if not slack:
            break
        widest = max(slack, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def fit_table(cols: Sequence[Col], rows: Sequence[Sequence[Text | str]], width: int | None, *,
              wide: bool = False, title: str | Text | None = None, caption: str | Text | None = None,
              sections: Sequence[int] = (), row_styles: Sequence[str | None] | None = None,
              min_widths: dict[int, int] | None = None) -> Fitted:
    """A rich Table of `rows` under `cols`, laid out for `width` columns (None: unbounded).
    `sections`: row indexes before which a separator line goes; `min_widths`: column index -> a
    minimum content width (to keep a word-wrapped cell such as `0/18 +2 undecided` readable)."""
    # Text from user files and model replies is untrusted: control and bidi characters are made
    # visible before any width is measured, in every cell, header and title.
    cols = [replace(c, header=terminal_text(c.header)) for c in cols]
    rows = [[_clean(cell) for cell in row] for row in rows]
    title = _clean(title) if title is not None else None
    caption = _clean(caption) if caption is not None else None
    columns = [[r[i] for r in rows] for i in range(len(cols))]
    bounds = []
    for i, col in enumerate(cols):
        lo, mid, hi = _bounds(col, columns[i])
        lo = min(max(lo, (min_widths or {}).get(i, 0)), mid)
        bounds.append((lo, mid, hi))
    keep = list(range(len(cols)))
    hidden: list[str] = []
    if width is not None and not wide:
        keep = [i for i, c in enumerate(cols) if not c.optional]
        for i in sorted((i for i, c in enumerate(cols) if c.optional), key=lambda i: cols[i].optional):
            trial = sorted(keep + [i])
            if table_width([bounds[j][1] for j in trial]) <= width:   # fits with no cell wrapped
                keep = trial
        hidden = [cols[i].header for i in range(len(cols)) if i not in keep]
        if hidden and caption is not None:   # a footnote names only the columns shown
            plain = caption.plain if isinstance(caption, Text) else str(caption)
            for h in hidden:
                plain = plain.replace(f" (column '{h}')", f" (column '{h}', left out here: --wide shows it)")
            caption = Text(plain)
    widths = [bounds[i][2] for i in keep]
    if width is not None:   # first wrap the headers, then the cells (at spaces), widest column first
        widths = _shrink(widths, [bounds[i][1] for i in keep], width)
        widths = _shrink(widths, [bounds[i][0] for i in keep], width)
        if table_width(widths) > width and not wide:
            stacked = _stacked(cols, rows, width, title, caption, row_styles)
            if stacked is not None:
                return stacked
    table = Table(title=_text(title), caption=_text(caption), caption_justify="left")
    for i, w in zip(keep, widths):
        col = cols[i]
        table.add_column(Text(wrap_header(col.header, w, col.label)), justify=col.justify, width=w, no_wrap=col.no_wrap,
                         overflow="fold", style=col.style)
    starts = set(sections)
    for n, row in enumerate(rows):
        if n in starts and n:
            table.add_section()
        style = row_styles[n] if row_styles is not None else None
        table.add_row(*(_cell(row[i]) for i in keep), style=style)
    return Fitted(table, table_width(widths), hidden)


def _stacked(cols: Sequence[Col], rows: Sequence[Sequence[Text | str]], width: int, title, caption,
             row_styles: Sequence[str | None] | None) -> Fitted | None:
    """The table as records (psql's expanded display): one block per row, one line per column with its
    header and its value, every column shown. For when even the narrowest layout of the required
    columns is wider than `width`: nothing is split (a value wraps at spaces only), nothing is dropped.
    None when even this does not fit (a single word wider than the terminal): the caller widens."""
    headers = [c.header for c in cols]
    left = max((cell_len(h) for h in headers), default=1)
    values = [row[i] for row in rows for i in range(len(cols))]
    right = min(max(natural_width(values), 1), max(width - left - 7, 1))
    if word_width(values) > right or table_width([left, right]) > width:
        return None
    table = Table(title=_text(title), caption=_text(caption), caption_justify="left", show_header=False)
    table.add_column(width=left, no_wrap=True, style="bold")
    table.add_column(width=right, overflow="fold")
    for n, row in enumerate(rows):
        if n:
            table.add_section()
        style = row_styles[n] if row_styles is not None else None
        for col, value in zip(cols, row):
            table.add_row(Text(col.header), _cell(value), style=style)
    return Fitted(table, table_width([left, right]), [])


def _text(value: str | Text | None) -> Text | None:
    return None if value is None else value if isinstance(value, Text) else Text(value)


def _clean(value: Text | str) -> Text | str:
    if isinstance(value, Text):
        plain = terminal_text(value.plain)
        return value if plain == value.plain else Text(plain, style=value.style)
    return terminal_text(value)


def _cell(value: Text | str) -> Text:
    return value if isinstance(value, Text) else Text(value)


def print_fitted(console: Console, fitted: Fitted) -> None:
    """Print a fitted table; wider than the console only when it cannot fit (never cropped)."""
    if fitted.width <= console.width:
        console.print(fitted.table)
        return
    wide = Console(file=console.file, width=fitted.width, color_system=console.color_system,
                   force_terminal=console.is_terminal, highlight=False)
    wide.print(fitted.table)


def short_labels(names: Sequence[str], width: int | None, *, wide: bool = False) -> dict[str, str]:
    """name -> a short label, for the provider ids too long for a table `width` columns wide (a model id
    is one word: a column is never narrower than it). The label is the id's last path part cut at a
    hyphen, dot or underscore, with `~N` (its place in `names`) when that is not unique; a legend line
    (`legend`) says what each stands for. Nothing is shortened unbounded, with --wide, or when all fit."""
    if width is None or wide:
        return {}
    limit = max(10, width // 7)
    out: dict[str, str] = {}
    taken = {n for n in names if cell_len(n) <= limit}
    for i, name in enumerate(names, start=1):
        if cell_len(name) <= limit:
            continue
        part = name.rstrip("/").rsplit("/", 1)[-1] or name
        if cell_len(part) > limit:
            cut = [m.start() for m in re.finditer(r"[-._]", part) if 4 <= m.start() <= limit]
            part = part[:cut[-1]] if cut else part[:limit - 2]
        label = part if part not in taken else f"{part[:limit - 1 - len(str(i))]}~{i}"
        taken.add(label)
        out[name] = label
    return out


def legend(aliases: dict[str, str]) -> str | None:
    """The line that says what each short label stands for."""
    if not aliases:
        return None
    return "providers shown by short labels:\n" + "\n".join(f"  {short} = {name}" for name, short in aliases.items())


def hidden_note(hidden: Sequence[str]) -> str | None:
    if not hidden:
        return None
    return f"(columns left out to fit the terminal: {', '.join(hidden)}; --wide shows them)"


# After md_escape: a `<` or `>` next to a digit, a space or the end of the cell cannot open or close
# an HTML tag in CommonMark (a tag starts with `<` and a letter, `/`, `!` or `?`), so it is written
# as itself: `<0.0001`, not `&lt;0.0001`. Everything else md_escape escaped stays escaped.
_PLAIN_LT = re.compile(r"&lt;(?=[\s\d.=]|$)")
_PLAIN_GT = re.compile(r"(?<=[\s\d%])&gt;|&gt;(?=[\s\d=])")


def md_text(text: str) -> str:
    """Text safe in a Markdown table cell (harness.report.escape.md_escape) with no HTML entity where
    none is needed."""
    return _PLAIN_GT.sub(">", _PLAIN_LT.sub("<", md_escape(text)))
