"""The literal analysis behind harness/scoring/prefilter.py: what literal text every match of a pattern
must contain (`requirements`), read from the standard library's own parse of the pattern.

A cheap and exact pre-test for many regular expressions on one text: which of them cannot match?

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

import re
from collections.abc import Iterable, Sequence

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
