"""A cheap and exact pre-test for many regular expressions on one text: which of them cannot match?

The teen-safety rules hold about 250 patterns and every reply is searched with most of them; the
refusal detector searches each opening sentence with long alternations. Most of those searches find
nothing, and each walks the whole text. This module reads every pattern once, with the standard
library's own regex parser, for literal text that every match of it must contain ("one of the words
lethal, fatal, deadly, toxic" and "one of dose, doses, amount, ..."). Per text it collects the words
(one pass) and looks up the few substrings needed; a pattern whose requirement is absent cannot
match, so it is not searched. A pattern that is a long top-level alternation (A|B|C|...) is looked at
per alternative, and searched with a copy that keeps only the alternatives that can match here. A
pattern (or alternative) without any requirement is always searched.

The pre-test never changes a result; it only skips work that would find nothing:

* Literals come from the parsed pattern. A run of literal characters is matched by that many
  consecutive characters of the text. Zero-width items (\\b, ^, $, look-arounds) consume nothing, so a
  run continues across them. Small character sets, optional literals and alternatives made only of
  literals are expanded into the run (a bounded number of variants); anything else ends the run.
* A repeat contributes only when at least one repetition is required; an alternation contributes only
  when every branch has a requirement (then the union of one requirement of each branch).
* Whole words: a run of word characters with a boundary on both sides (\\b, ^ or $, a literal
  non-word character, or a neighbouring item that always consumes a non-word character, such as \\s+)
  is matched by a whole `\\w+` token of the text, so it is looked up in the set of the text's tokens.
  Other literals are looked up as substrings.
* Case: texts are looked up lowercased, after the four non-ASCII characters that re.IGNORECASE matches
  to ASCII letters (U+0130, U+0131, U+017F, U+212A: found by trying every code point against every
  ASCII character) are mapped to those letters. Literal characters are ASCII (compared lowercased), or
  non-ASCII characters without case (re compiles those as exact characters, and no character
  lowercases to one of them). The mapping keeps each character one character and keeps whether it
  is a word character (checked over every code point), so tokens are those of the original text.
* Dropping, from a top-level alternation, alternatives that can match nowhere in the text changes no
  match: at every position the first alternative that matches is the same. Group numbers are kept
  (the copy shares the parsed pattern's group table); patterns that may hold back-references are not
  split. A nested alternation is spread out only where that keeps the order of attempts (_flatten).
* Derived texts (`derived=True`): when the patterns are searched on pieces of a text (its sentences,
  two sentences joined by a space, a sentence with quotations replaced by ""), the pre-test is run on
  the whole text once. That is exact for whole words (a piece's tokens are tokens of the text) and for
  substrings without whitespace or '"' (the only characters such pieces put next to each other that
  were not neighbours in the text); other literals are then not used.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

try:  # the standard library's regex parser and compiler (Python 3.11+ names)
    import re._compiler as _compiler
    import re._constants as _C
    import re._parser as _P
except ImportError:  # pragma: no cover - older layouts
    import sre_compile as _compiler  # type: ignore[no-redef]
    import sre_constants as _C  # type: ignore[no-redef]
    import sre_parse as _P  # type: ignore[no-redef]

try:
    from _sre import unicode_iscased as _iscased
except ImportError:  # pragma: no cover - then non-ASCII literals are simply not used
    def _iscased(code: int) -> bool:
        return True

MIN_SUBSTRING = 2    # shorter substrings of letters are in nearly every text (a single symbol may be rare)
MAX_VARIANTS = 32    # a run expanded into more variants than this is cut there
MAX_CLAUSES = 4      # requirements kept per pattern or alternative (the most selective ones)
MIN_SPLIT = 3        # split a top-level alternation with at least this many alternatives
MAX_SPECIALISED = 4096  # views (sets of alternatives) remembered per pattern
MAX_KEPT = 4         # more alternatives than this that can match: search with the pattern itself
MAX_TOKENS = 200_000  # tokens whose lookups are remembered (then forgotten all at once)

# Non-ASCII characters that re.IGNORECASE matches to an ASCII letter, mapped to that letter.
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_FOLD_CHARS = tuple(chr(c) for c in _FOLD)
_WORD = re.compile(r"\w+")
# ASCII text: every non-word byte to a space, so bytes.split() gives the \w+ tokens.
_NONWORD_BYTES = bytes(c if (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(256))
_B = "\x00"  # in a run: a boundary here (the characters on its two sides differ in word-ness)

_ZERO_WIDTH = {_C.ASSERT, _C.ASSERT_NOT}
_BOUNDARY_AT = {_C.AT_BOUNDARY, _C.AT_UNI_BOUNDARY, _C.AT_BEGINNING, _C.AT_BEGINNING_LINE,
                _C.AT_BEGINNING_STRING, _C.AT_END, _C.AT_END_LINE, _C.AT_END_STRING}
_REPEATS = {_C.MAX_REPEAT, _C.MIN_REPEAT}
if hasattr(_C, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_C.POSSESSIVE_REPEAT)
_ATOMIC = getattr(_C, "ATOMIC_GROUP", None)
_NONWORD_CATEGORIES = {_C.CATEGORY_SPACE, _C.CATEGORY_NOT_WORD, _C.CATEGORY_UNI_SPACE,
                       _C.CATEGORY_UNI_NOT_WORD, _C.CATEGORY_LINEBREAK, _C.CATEGORY_UNI_LINEBREAK}

# Common English words (general frequency lists, no data set's): as a requirement they rule out little,
# so requirements made of rarer words are preferred. Only the choice of requirement depends on this.
_FUNCTION_WORDS = frozenset("""
    a about all am an and any are as at be because been but by can can't could d did do does don don't
    for from had has have he her here him his how i if in into is isn't it it's its just ll m me more my
    no not of on one or our out re s she so some than that that's the their them then there they this to
    too t up us ve was we were what when where which who will with would you you're your""".split())
_COMMON = frozenset("""
    above across actually after again against ago ahead almost alone along already also although always
    another anyone anything anyway around ask asked asking away back bad became become before began
    behind being believe best better between big bit both bring call called came cannot care case change
    check come comes coming couldn't day days didn't different doesn't doing done down during each early
    easy either else end enough even ever every everyone everything feel feeling few find first found full
    get gets getting give given go goes going gone good got great hard haven't having help hers herself
    high himself hold home however idea important instead itself keep kind know known last later least
    less let life like likely little long look looking lot lots love made make makes making many may maybe
    mean means might mind most much must myself need needs never new next nothing now off often oh ok okay
    old once only open other others over own part people person place play point pretty probably put
    quite rather really right said same say says see seem seems set should show side since small someone
    something sometimes soon sorry start still stop such sure take taking talk tell thank thanks these
    thing things think those though thought through time times today together took try trying turn two
    under until upon use used using usually very want wants way ways well went whether while whole why
    within without won't word work wouldn't yeah yes yet you'd you'll you've yours yourself yourselves""".split())


def fold(text: str) -> str:
    """The text as literals are looked up in (see the module docstring)."""
    if not text.isascii():
        for c in _FOLD_CHARS:
            if c in text:
                text = text.translate(_FOLD)
                break
    return text.lower()


def tokens(low: str) -> set[str]:
    """The \\w+ tokens of a folded text."""
    if low.isascii():
        return set(low.encode("ascii").translate(_NONWORD_BYTES).decode("ascii").split())
    return set(_WORD.findall(low))


# ---------------------------------------------------------------------------------------------
# Reading a pattern's requirements


def _literal(code: int) -> str | None:
    c = chr(code)
    if c.isascii():
        return c.lower()
    return None if _iscased(code) else c


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _pure(item: tuple) -> set[str] | None:
    """Every exact text (boundaries marked) one parsed item can match, when it is made only of
    literals and zero-width items (a bounded number of variants); None otherwise."""
    op, av = item
    if op is _C.LITERAL:
        c = _literal(av)
        return None if c is None else {c}
    if op is _C.AT:
        return {_B} if av in _BOUNDARY_AT else {""}
    if op in _ZERO_WIDTH:
        return {""}
    if op is _C.IN:
        out = set()
        for sub_op, sub_av in av:
            c = _literal(sub_av) if sub_op is _C.LITERAL else None
            if c is None:
                return None
            out.add(c)
        return out if len(out) <= MAX_VARIANTS else None
    if op is _C.SUBPATTERN:
        return _pure_seq(av[-1])
    if _ATOMIC is not None and op is _ATOMIC:
        return _pure_seq(av)
    if op is _C.BRANCH:
        out = set()
        for alt in av[1]:
            got = _pure_seq(alt)
            if got is None:
                return None
            out |= got
        return out if len(out) <= MAX_VARIANTS else None
    if op in _REPEATS:
        lo, hi, body = av
        if hi != 1 or lo not in (0, 1):
            return None
        got = _pure_seq(body)
        if got is None:
            return None
        return got | {""} if lo == 0 else got
    return None


def _pure_seq(items: Iterable[tuple]) -> set[str] | None:
    out = {""}
    for item in items:
        got = _pure(item)
        if got is None:
            return None
        out = {a + b for a in out for b in got}
        if len(out) > MAX_VARIANTS:
            return None
    return out


def _nonword_class(item: tuple) -> bool:
    """Does this single-character item only ever match a non-word character?"""
    op, av = item
    if op is _C.LITERAL:
        return not _is_word(chr(av))
    if op is _C.IN:
        if not av or av[0][0] is _C.NEGATE:
            return False
        for sub_op, sub_av in av:
            if sub_op is _C.LITERAL:
                if _is_word(chr(sub_av)):
                    return False
            elif sub_op is _C.CATEGORY:
                if sub_av not in _NONWORD_CATEGORIES:
                    return False
            else:
                return False
        return True
    return False


def _starts(items: Sequence[tuple], k: int, after: bool) -> bool:
    """Is what follows position k of the sequence (then `after`: what follows the sequence) always a
    boundary: a non-word character, the end, or a boundary assertion (\\b, $)?"""
    if k >= len(items):
        return after
    op, av = items[k]
    if op is _C.AT:
        return True if av in _BOUNDARY_AT else _starts(items, k + 1, after)
    if op in _ZERO_WIDTH:
        return _starts(items, k + 1, after)
    if op is _C.SUBPATTERN:
        return _starts(av[-1], 0, _starts(items, k + 1, after))
    if _ATOMIC is not None and op is _ATOMIC:
        return _starts(av, 0, _starts(items, k + 1, after))
    if op is _C.BRANCH:
        tail = _starts(items, k + 1, after)
        return all(_starts(alt, 0, tail) for alt in av[1])
    if op in _REPEATS:
        lo, _hi, body = av
        first = _starts(body, 0, False)
        return first if lo >= 1 else (first and _starts(items, k + 1, after))
    return _nonword_class(items[k])


def _ends(items: Sequence[tuple], k: int, before: bool) -> bool:
    """Is what precedes position k of the sequence (then `before`: what precedes the sequence) always
    a boundary: a non-word character, the start, or a boundary assertion (\\b, ^)?"""
    if k <= 0:
        return before
    op, av = items[k - 1]
    if op is _C.AT:
        return True if av in _BOUNDARY_AT else _ends(items, k - 1, before)
    if op in _ZERO_WIDTH:
        return _ends(items, k - 1, before)
    if op is _C.SUBPATTERN:
        return _ends(av[-1], len(av[-1]), _ends(items, k - 1, before))
    if _ATOMIC is not None and op is _ATOMIC:
        return _ends(av, len(av), _ends(items, k - 1, before))
    if op is _C.BRANCH:
        head = _ends(items, k - 1, before)
        return all(_ends(alt, len(alt), head) for alt in av[1])
    if op in _REPEATS:
        lo, _hi, body = av
        last = _ends(body, len(body), False)
        return last if lo >= 1 else (last and _ends(items, k - 1, before))
    return _nonword_class(items[k - 1])


# A check: ("w", word): the word is a token of the text; ("s", text, gate): the text is a substring of
# it (gate: a word the substring holds whole, so it is a token wherever the substring occurs, or "").
Check = tuple


def _weight(check: Check) -> float:
    """How much a check rules out (higher: rarer text), a guess from the literal alone."""
    lit = check[1]
    if lit in _FUNCTION_WORDS:
        return 0.5
    if lit in _COMMON:
        return 2 + len(lit) / 20
    return len(lit) + 2 if check[0] == "w" else len(lit)


def _check_for(variant: str, derived: bool) -> Check | None:
    """The test that every text matched by this run variant passes, or None: a whole word where there is
    one that is not a function word (a set lookup), else a substring (a scan of the text)."""
    plain = variant.replace(_B, "")
    if not plain:
        return None
    words: list[Check] = []
    i, n = 0, len(variant)
    while i < n:  # whole words: word segments with a boundary or a non-word character on both sides
        if variant[i] != _B and _is_word(variant[i]):
            j = i
            while j < n and variant[j] != _B and _is_word(variant[j]):
                j += 1
            if i > 0 and j < n:
                words.append(("w", variant[i:j]))
            i = j
        else:
            i += 1
    word = max(words, key=_weight) if words else None
    if word is not None and _weight(word) >= 2:
        return word
    if ((len(plain) >= MIN_SUBSTRING or not plain.isascii() or not _is_word(plain[0]))
            and not (derived and (any(c.isspace() for c in plain) or '"' in plain))):
        sub = ("s", plain, word[1] if word is not None else "")
        if word is None or _weight(sub) > _weight(word):
            return sub
    return word


def _clause_score(clause: frozenset) -> tuple:
    return (min(map(_weight, clause)), -len(clause))


def _clauses(items: Sequence[tuple], derived: bool, before: bool = False, after: bool = False) -> list[frozenset]:
    """Requirements of a sequence of parsed items: every match passes one check of each clause.
    before/after: the sequence is always preceded/followed by a boundary (see _starts)."""
    out: list[frozenset] = []
    run = {""}

    def close(k: int, known_after: bool = True) -> None:
        nonlocal run
        if run != {""}:
            variants = {v + _B for v in run} if known_after and _starts(items, k, after) else run
            checks = set()
            for v in variants:
                c = _check_for(v, derived)
                if c is None:
                    checks = set()
                    break
                checks.add(c)
            if checks:
                out.append(frozenset(checks))
        run = {""}

    for k, item in enumerate(items):
        got = _pure(item)
        if got is None and item[0] in _REPEATS and item[1][0] >= 1:
            body = _pure_seq(item[1][2])  # x+ or x{2,}: the text starts with the body, repeated lo times
            if body is not None:
                if run == {""} and _ends(items, k, before):
                    run = {_B}
                for _ in range(min(item[1][0], 4)):
                    run = {a + b for a in run for b in body}
                    if len(run) > MAX_VARIANTS:
                        run = {""}
                        break
                close(k, known_after=False)
                continue
        if got is not None:
            if run == {""} and _ends(items, k, before):
                run = {_B}
            joined = {a + b for a in run for b in got}
            if len(joined) <= MAX_VARIANTS:
                run = joined
                continue
            close(k)
            if len(got) <= MAX_VARIANTS:
                run = set(got)
            continue
        close(k)
        op, av = item
        left = _ends(items, k, before)
        right = _starts(items, k + 1, after)
        if op is _C.SUBPATTERN:
            out += _clauses(av[-1], derived, left, right)
        elif _ATOMIC is not None and op is _ATOMIC:
            out += _clauses(av, derived, left, right)
        elif op in _REPEATS:
            lo, hi, body = av
            if lo >= 1:  # the first repetition: what follows it is the next one or the rest
                out += _clauses(body, derived, left, right if hi == 1 else (right and _starts(body, 0, False)))
        elif op is _C.BRANCH:
            union: set = set()
            for alt in av[1]:
                alt_clauses = _clauses(alt, derived, left, right)
                if not alt_clauses:
                    union = set()
                    break
                union |= max(alt_clauses, key=_clause_score)
            if union:
                out.append(frozenset(union))
        # anything else (classes, '.', back-references, conditionals) consumes text we cannot name
    close(len(items))
    return out


def _best(clauses: list[frozenset]) -> tuple[frozenset, ...]:
    """The most selective clauses, at most MAX_CLAUSES. One that a function word meets ("the", "you")
    is met by nearly every text: it is kept only when there is no other."""
    ranked = sorted(set(clauses), key=_clause_score, reverse=True)[:MAX_CLAUSES]
    strong = [c for c in ranked if _clause_score(c)[0] >= 1]
    return tuple(strong or ranked[:1])


def requirements(pattern: re.Pattern[str], derived: bool = False) -> tuple[frozenset, ...]:
    """The most selective clauses (at most MAX_CLAUSES) every match of the pattern satisfies; ()
    when nothing is required (the pattern must always be searched)."""
    try:
        parsed = _P.parse(pattern.pattern, pattern.flags)
        return _best(_clauses(list(parsed.data), derived))
    except Exception:  # noqa: BLE001 - cannot read it: no pre-test, it is always searched
        return ()


# ---------------------------------------------------------------------------------------------
# The pre-test for a set of patterns


_ONE_WAY = {_C.LITERAL, _C.NOT_LITERAL, _C.IN, _C.ANY, _C.AT, _C.ASSERT, _C.ASSERT_NOT}
MAX_ALTERNATIVES = 256


def _alternatives(item: tuple) -> list | None:
    """The alternatives of an item that is an alternation (or a non-capturing group around one)."""
    op, av = item
    if op is _C.SUBPATTERN and av[0] is None and not av[1] and not av[2] and len(av[-1]) == 1:
        op, av = av[-1][0]
    return [list(alt) for alt in av[1]] if op is _C.BRANCH else None


def _flatten(alts: list[list]) -> list[list]:
    """Alternatives with a nested alternation spread out: P(X|Y)S -> PXS|PYS when P matches in one way
    only (single characters and zero-width items), so that the order of attempts, and with it every
    match, stays the same. Capturing groups are never spread."""
    out: list[list] = []
    for alt in alts:
        f = 0
        while f < len(alt) and alt[f][0] in _ONE_WAY:
            f += 1
        inner = _alternatives(alt[f]) if f < len(alt) else None
        if inner is not None:
            spread = [alt[:f] + x + alt[f + 1:] for x in _flatten(inner)]
            if len(out) + len(spread) <= MAX_ALTERNATIVES:
                out += spread
                continue
        out.append(alt)
    return out


def _branch_at(item: tuple) -> list | None:
    """The (spread out) alternatives of an item that is an alternation, else None."""
    alts = _alternatives(item)
    return None if alts is None else _flatten(alts)


def _split_point(items: list) -> int | None:
    """The top-level item to split on: the alternation with the most alternatives (at least MIN_SPLIT)."""
    best, most = None, MIN_SPLIT - 1
    for k, item in enumerate(items):
        alts = _branch_at(item)
        if alts is not None and len(alts) > most:
            best, most = k, len(alts)
    return best


MIN_ANCHOR = 2       # a start literal shorter than this (unless a symbol) occurs too often to be worth it
MAX_ANCHORS = 16     # more start literals than this: search the ordinary way
LINE_START = _B + "^"   # a start "literal": the match starts where a line does (MULTILINE ^)
TEXT_START = _B + "A"   # the match starts where the text does (\\A)
# ^ parses as AT_BEGINNING whether or not MULTILINE makes it a start of line (that is decided when
# compiling, also by inline flags): taken as a start of line, the looser of the two.
_AT_START = {_C.AT_BEGINNING: LINE_START, _C.AT_BEGINNING_STRING: TEXT_START, _C.AT_BEGINNING_LINE: LINE_START}


def _usable(start: str) -> bool:
    return (len(start) >= MIN_ANCHOR and not start.startswith(_B)) or start in (LINE_START, TEXT_START) or (
        len(start) == 1 and not _is_word(start) and not start.isspace())


def _minimal(starts: set[str]) -> frozenset[str] | None:
    """The start literals without those another one is a prefix of; None when unusable."""
    if not starts or len(starts) > MAX_VARIANTS or not all(map(_usable, starts)):
        return None
    out = frozenset(s for s in starts if not any(t != s and s.startswith(t) for t in starts))
    return out if len(out) <= MAX_ANCHORS else None


def _anchors(items: list, depth: int = 0) -> frozenset[str] | None:
    """Literal texts (folded) one of which every match of the sequence starts with, or None.
    Zero-width items at the start are skipped (they consume nothing), but a start of line or text
    there is kept in case nothing better follows; an optional first part gives its own start
    literals and those of what follows it; an alternation, those of each branch."""
    at_start: str | None = None
    run = {""}

    def result(found: frozenset[str] | None) -> frozenset[str] | None:
        return found if found is not None or at_start is None else frozenset({at_start})

    for idx, item in enumerate(items):
        op, av = item
        if run == {""} and op is _C.AT and av in _AT_START:
            at_start = TEXT_START if TEXT_START in (at_start, _AT_START[av]) else _AT_START[av]
            continue
        got = _pure(item)
        if got is not None:
            joined = {a + b.replace(_B, "") for a in run for b in got}
            if len(joined) > MAX_VARIANTS:
                break
            run = joined
            continue
        if run == {""} and depth < 4:
            if op in _REPEATS and av[0] == 0:  # the optional part, or what follows it
                first, rest = _anchors(list(av[2]), depth + 1), _anchors(items[idx + 1:], depth + 1)
                return result(None if first is None or rest is None else _minimal(set(first | rest)))
            alts = _alternatives(item)
            if alts is not None:
                out: set[str] = set()
                for alt in alts:
                    got_alt = _anchors(alt + list(items[idx + 1:]), depth + 1)
                    if got_alt is None:
                        return result(None)
                    out |= got_alt
                return result(_minimal(out))
        if op in _REPEATS and av[0] >= 1:  # x+: the text starts with x
            body = _pure_seq(av[2])
            if body is not None:
                joined = {a + b.replace(_B, "") for a in run for b in body}
                if len(joined) <= MAX_VARIANTS:
                    run = joined
        break
    return result(None if "" in run else _minimal(run))


def finditer(rx: re.Pattern[str], text: str, low: str, anchors: frozenset[str] | None) -> Iterator[re.Match[str]]:
    """rx.finditer(text), for a pattern that never matches empty text and whose every match starts
    with one of `anchors` (in low = fold(text), which is aligned with text; or at the start of a line
    or of the text): only the places where one of them occurs are tried, in order, each from where the
    last match ended, as finditer does."""
    if anchors is None:
        yield from rx.finditer(text)
        return
    starts = set()
    for a in anchors:
        if a == LINE_START or a == TEXT_START:
            starts.add(0)
            if a == TEXT_START:
                continue
            a, shift = "\n", 1
        else:
            shift = 0
        i = low.find(a)
        while i >= 0:
            starts.add(i + shift)
            i = low.find(a, i + 1)
    end = 0
    for p in sorted(starts):
        if p < end:
            continue
        m = rx.match(text, p)
        if m is not None:
            yield m
            end = m.end()


_MAY_REFER = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # a back-reference or a group-conditional, perhaps


class Whole:
    """Search with a regex itself; where `anchors` is given (its matches are never empty and always
    start with one of them), finditer tries only the places where one of them occurs."""

    __slots__ = ("rx", "anchors")

    def __init__(self, rx: re.Pattern[str], anchors: frozenset[str] | None = None):
        self.rx, self.anchors = rx, anchors

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        return finditer(self.rx, text, low, self.anchors)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.rx.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.rx.fullmatch(text)


class Alternatives:
    """Search as the pattern head(A1|...|An)tail does where only some alternatives can match, with one
    compiled regex per alternative (head Aj tail). The head matches in one way only (single characters
    and zero-width items), so at each position the pattern's match is that of the first alternative
    (in order) that matches there: `search` takes the leftmost of the alternatives' matches, the first
    alternative on a tie; `match` and `fullmatch` the first alternative's that matches."""

    __slots__ = ("regexes", "nonempty")

    def __init__(self, regexes: list[re.Pattern[str]], nonempty: bool):
        self.regexes, self.nonempty = regexes, nonempty

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        best = None
        for rx in self.regexes:
            m = rx.search(text, pos)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def match(self, text: str) -> re.Match[str] | None:
        for rx in self.regexes:
            m = rx.match(text)
            if m is not None:
                return m
        return None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        for rx in self.regexes:
            m = rx.fullmatch(text)
            if m is not None:
                return m
        return None

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        """Every match in order, as finditer does (the alternatives never match empty text)."""
        pos = 0
        while True:
            m = self.search(text, pos)
            if m is None:
                return
            yield m
            pos = m.end()


class _Split:
    """A pattern whose top-level sequence holds an alternation: per alternative its requirements and
    start literals, and what to search a text with when only some alternatives can match there:

    * where every one of those has start literals (and `anchored`): the pattern itself, tried only where
      one of those literals occurs (Whole with anchors): nothing to compile;
    * where the part before the alternation matches in one way only: the alternatives' own regexes
      (Alternatives), each compiled once, when first needed;
    * otherwise (or when more than MAX_KEPT alternatives can match) the pattern itself."""

    def __init__(self, pattern: re.Pattern[str], parsed: Any, k: int, alts: list[list], anchored: bool):
        self.pattern = pattern
        self.state = parsed.state
        self.head, self.tail = list(parsed.data[:k]), list(parsed.data[k + 1:])
        self.alts = alts
        self.n = len(alts)
        self.one_way_head = all(item[0] in _ONE_WAY for item in self.head)
        self.whole = Whole(pattern, _whole_anchors(parsed) if anchored else None)
        # per alternative: the start literals of a match through it (None: unknown or it may be empty),
        # whether it never matches empty text, and its own regex once compiled
        self.anchors: list[frozenset[str] | None] = []
        self.nonempty: list[bool] = []
        for alt in alts:
            seq = _P.SubPattern(parsed.state, self.head + alt + self.tail)
            self.nonempty.append(_min_width(seq) > 0)
            self.anchors.append(_anchors(seq.data) if anchored and self.nonempty[-1] else None)
        self.regexes: list[re.Pattern[str] | None] = [None] * self.n
        self.views: dict[tuple[int, ...], Whole | Alternatives] = {}

    def _regex(self, i: int) -> re.Pattern[str]:
        rx = self.regexes[i]
        if rx is None:
            rx = _compiler.compile(_P.SubPattern(self.state, self.head + self.alts[i] + self.tail), self.pattern.flags)
            if rx.flags != self.pattern.flags or rx.groups != self.pattern.groups or rx.groupindex != self.pattern.groupindex:
                raise ValueError("the copy differs in flags or groups")
            self.regexes[i] = rx
        return rx

    def view(self, keep: tuple[int, ...]) -> Whole | Alternatives:
        """What to search with when only the alternatives `keep` (ascending) can match."""
        got = self.views.get(keep)
        if got is not None:
            return got
        if len(keep) == self.n:
            return self.whole
        got = self.whole
        starts = [self.anchors[i] for i in keep]
        anchors = None if any(a is None for a in starts) else _minimal(set().union(*starts))  # type: ignore[arg-type]
        if anchors is not None:
            got = Whole(self.pattern, anchors)
        elif self.one_way_head and len(keep) <= MAX_KEPT:
            try:
                regexes = [self._regex(i) for i in keep]
                got = (Alternatives(regexes, True) if all(self.nonempty[i] for i in keep)
                       else _EmptyCapable(self.pattern, regexes))
            except Exception:  # noqa: BLE001 - cannot compile the alternatives: search with the pattern itself
                got = self.whole
        if len(self.views) >= MAX_SPECIALISED:
            self.views.clear()
        self.views[keep] = got
        return got


class _EmptyCapable(Alternatives):
    """Alternatives of which some may match empty text: finditer is the pattern's own."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: re.Pattern[str], regexes: list[re.Pattern[str]]):
        super().__init__(regexes, False)
        self.pattern = pattern

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text)


def _min_width(seq: Any) -> int:
    try:
        return seq.getwidth()[0]
    except Exception:  # noqa: BLE001 - unknown: treat as possibly empty
        return 0


def _whole_anchors(parsed: Any) -> frozenset[str] | None:
    """The start literals of every match of a parsed pattern (None: unknown, or it may match empty)."""
    try:
        return _anchors(list(parsed.data)) if _min_width(parsed) > 0 else None
    except Exception:  # noqa: BLE001
        return None


class PatternSet:
    """The pre-test for a fixed list of patterns (module docstring). `scan(text)` gives, for each
    pattern that may match the text (or, with derived=True, pieces of it), the regex to search with:
    the pattern itself or a copy without the alternatives that cannot match. A pattern left out of the
    answer cannot match."""

    def __init__(self, patterns: Iterable[re.Pattern[str]], derived: bool = False, anchored: bool = False):
        self.patterns = list(patterns)
        self.derived = derived
        self.anchored = anchored
        unit_owner: list[int] = []      # unit -> pattern index
        unit_alt: list[int] = []        # unit -> alternative number (-1: the whole pattern)
        unit_clauses: list[tuple[frozenset, ...]] = []
        self._splits: dict[int, _Split] = {}
        self._plain: dict[int, Whole] = {}
        for i, rx in enumerate(self.patterns):
            units, how = self._units(rx, derived, anchored)
            if isinstance(how, _Split):
                self._splits[i] = how
            else:
                self._plain[i] = how
            for alt, clauses in enumerate(units):
                unit_owner.append(i)
                unit_alt.append(alt if isinstance(how, _Split) else -1)
                unit_clauses.append(clauses)
        self._owner = unit_owner
        self._alt = unit_alt
        # The first requirement of a unit is looked up for every text: make it the one least likely to be
        # met. A literal many units need is a word the patterns' subject makes common (or a common word).
        df: dict[str, int] = {}
        for clauses in unit_clauses:
            for lit in {check[1] for c in clauses for check in c}:
                df[lit] = df.get(lit, 0) + 1

        def rarity(clause: frozenset) -> float:
            return min(_weight(check) / (1 + math.log2(df[check[1]])) for check in clause)

        unit_clauses = [tuple(sorted(cs, key=rarity, reverse=True)) for cs in unit_clauses]
        # Every unit needs all of its clauses. Its first clause is looked up per text (the units whose
        # first clause a text meets are the candidates); the others (ids in need) are checked for those.
        always: list[int] = []
        primary: dict[Check, set[int]] = {}                  # check -> units whose first clause has it
        secondary: dict[Check, set[int]] = {}                # check -> ids of other clauses that have it
        clause_ids: dict[frozenset, int] = {}
        need: dict[int, set[int]] = {}
        for u, clauses in enumerate(unit_clauses):
            if not clauses:
                always.append(u)
                continue
            for check in clauses[0]:
                primary.setdefault(check, set()).add(u)
            for c in clauses[1:]:
                cid = clause_ids.setdefault(c, len(clause_ids))
                need.setdefault(u, set()).add(cid)
                for check in c:
                    secondary.setdefault(check, set()).add(cid)
        self._always = frozenset(always)
        self._need = {u: frozenset(ids) for u, ids in need.items()}
        self._rest = frozenset(self._need)
        # Whole words, and substrings made of word characters only (they lie inside one token), are
        # found per token, and what a token meets is remembered (a text has few tokens not seen before).
        self._token_words: dict[str, tuple[frozenset[int], frozenset[int]]] = {}
        self._token_subs: list[tuple[str, frozenset[int], frozenset[int]]] = []
        self._other_subs: list[tuple[str, str, frozenset[int], frozenset[int]]] = []  # scanned per text
        for check in primary.keys() | secondary.keys():
            units, cids = frozenset(primary.get(check, ())), frozenset(secondary.get(check, ()))
            if check[0] == "w":
                self._token_words[check[1]] = (units, cids)
            elif all(_is_word(c) for c in check[1]):
                self._token_subs.append((check[1], units, cids))
            else:
                self._other_subs.append((check[1], check[2], units, cids))
        self._seen: set[str] = set()                                  # tokens looked up so far
        self._hits: dict[str, tuple[frozenset[int], frozenset[int]]] = {}  # those that meet something

    @staticmethod
    def _units(rx: re.Pattern[str], derived: bool, anchored: bool) -> tuple[list[tuple[frozenset, ...]], _Split | Whole]:
        """Requirements per alternative of the pattern's main alternation (with those of the rest of
        the pattern) and its _Split, else one entry for the whole pattern and its Whole."""
        try:
            parsed = _P.parse(rx.pattern, rx.flags)
            items = list(parsed.data)
            k = _split_point(items)
            if k is not None and not _MAY_REFER.search(rx.pattern):
                alts = _branch_at(items[k])
                head, tail = items[:k], items[k + 1:]
                # Each part's requirements hold for the whole match; the rest is read once, not per branch.
                before, after = _ends(head, len(head), False), _starts(tail, 0, False)
                common = _clauses(head, derived) + _clauses(tail, derived)
                units = [_best(common + _clauses(alt, derived, before, after)) for alt in alts]
                return units, _Split(rx, parsed, k, alts, anchored)
            return [_best(_clauses(items, derived))], Whole(rx, _whole_anchors(parsed) if anchored else None)
        except Exception:  # noqa: BLE001 - cannot read it: no pre-test, it is always searched
            return [()], Whole(rx)

    def _learn(self, new: set[str]) -> None:
        """Look up tokens not seen before: (candidate units, other clauses met) of each that meets any."""
        if len(self._seen) + len(new) > MAX_TOKENS:
            self._seen.clear()
            self._hits.clear()
        for token in new:
            units: set[int] = set()
            cids: set[int] = set()
            got = self._token_words.get(token)
            if got is not None:
                units |= got[0]
                cids |= got[1]
            for s, us, ids in self._token_subs:
                if s in token:
                    units |= us
                    cids |= ids
            if units or cids:
                self._hits[token] = (frozenset(units), frozenset(cids))
            self._seen.add(token)

    def units(self, low: str) -> set[int]:
        """The units (patterns, or alternatives of split patterns) that may match the text whose
        fold() is `low`."""
        words = tokens(low)
        new = words - self._seen
        if new:
            self._learn(new)
        hits = self._hits
        found = [hits[w] for w in words & hits.keys()]
        out = set().union(self._always, *[h[0] for h in found])
        sat = set().union(*[h[1] for h in found])
        for s, gate, us, ids in self._other_subs:
            if (not gate or gate in words) and s in low:
                out |= us
                sat |= ids
        need = self._need
        for u in out & self._rest:
            if not need[u] <= sat:
                out.discard(u)
        return out

    def scan(self, text: str) -> tuple[dict[int, Whole | Alternatives], str]:
        """({pattern index: what to search it with} for the patterns that may match the text, and
        fold(text)). The values have search, match, fullmatch (on the text or its pieces) and
        finditer(text, fold(text)), each giving what the pattern itself gives there."""
        low = fold(text)
        owner, alt = self._owner, self._alt
        found: dict[int, Any] = {}
        for u in self.units(low):
            i = owner[u]
            a = alt[u]
            if a < 0:
                found[i] = self._plain[i]
            else:
                found.setdefault(i, []).append(a)
        for i, got in found.items():
            if isinstance(got, list):
                found[i] = self._splits[i].view(tuple(sorted(got)))
        return found, low
