"""A cheap and exact pre-test for many regular expressions on one text: which of them cannot match?

The teen-safety rules hold about 250 patterns and every reply is searched with most of them; most of
those searches find nothing. What literal text each pattern requires is worked out once, in
harness/scoring/prefilter_literals.py (whose docstring says why the pre-test never changes a result);
this module looks those requirements up per text, splits long top-level alternations into the
alternatives that can match there, and searches only from the places a match can start.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from harness.scoring.prefilter_literals import (  # noqa: F401 - fold, tokens, requirements: the public API
    _B, MAX_VARIANTS, MIN_SPLIT, _REPEATS, Check, _best, _C, _clauses,
    _compiler, _ends, _is_word, _P, _pure, _pure_seq, _starts, _weight, fold, requirements, tokens)

MAX_SPECIALISED = 4096  # views (sets of alternatives) remembered per pattern
MAX_KEPT = 4         # more alternatives than this that can match: search with the pattern itself
MAX_TOKENS = 200_000  # tokens whose lookups are remembered (then forgotten all at once)

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
