"""`harness score` streams its input (issue 22 item 6): the JSONL file is checked and read a block and a
line at a time, chunks go to the workers a few at a time, and what is kept per row is counted, not
listed. The figures at 1,000,000 rows come from bench/scale.py; these tests pin the behaviour."""
from __future__ import annotations

import pytest

from harness.cli.score_workers import InProcess, _Categories, _Category, ordered
from harness.problems import InputError


def test_chunks_are_sent_a_window_ahead_never_the_whole_file():
    pulled = []

    def tasks():
        for i in range(100):
            pulled.append(i)
            yield i

    results = ordered(InProcess(), lambda x: x * 2, tasks(), window=3)
    assert next(results) == 0
    assert len(pulled) == 3            # the first result was awaited with three tasks read, not 100
    assert list(results) == [2 * i for i in range(1, 100)]   # in order, each once


def test_category_counts_read_as_one_entry_per_row():
    cats = _Categories()
    cats.update([_Category("self_harm", None), _Category("geo", None), _Category("self_harm", None)])
    cats.update([_Category("Suicide", ("self-harm",))])
    assert len(cats.counts) == 3
    assert sorted(c.category for c in cats) == ["Suicide", "geo", "self_harm", "self_harm"]


def test_a_bad_byte_past_the_first_block_names_its_line_and_byte(tmp_path):
    from harness.cli.score import _check_utf8

    good = b'{"prompt": "caf\xc3\xa9 ok", "reply": "fine"}\n'
    n = (1 << 20) // len(good) + 5                  # past the first 1 MiB block read
    path = tmp_path / "big.jsonl"
    data = good * n + b'{"prompt": "caf\xe9", "reply": "x"}\n'
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        _check_utf8(path)
    [problem] = err.value.problems
    assert problem.line == n + 1
    at = data.index(b"caf\xe9") + 3
    assert f"byte 0xe9 at byte {at}" in problem.message


def test_a_multibyte_character_split_across_blocks_is_fine(tmp_path):
    from harness.cli.score import _check_utf8

    path = tmp_path / "split.jsonl"
    pad = b" " * ((1 << 20) - 1)
    path.write_bytes(pad + "é".encode() + b"\n")      # é's two bytes straddle the first block's end
    assert _check_utf8(path) is True
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\xef\xbb\xbf \n\n")           # a BOM and white space: no text
    assert _check_utf8(blank) is False
