"""Issue 22 item 3: compression bombs in .xlsx and .parquet suites are refused with exit 2 and the
sizes, from the archive's directory or the Parquet footer, before anything is inflated."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest

from harness.problems import InputError
from harness.suites import bombs, load_suite


def _workbook(path, rows=(("input", "target"), ("2+2?", "4"))):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    for row in rows:
        ws.append(list(row))
    book.save(path)


def _add_member(xlsx, name: str, size: int, nested: bool = False) -> None:
    """Append `size` bytes of one repeated byte (deflated ~1000:1) to the archive, streamed; in a zip
    of its own inside the archive when `nested`."""
    def fill(target):
        chunk = b"<c>" * (1 << 18)
        for _ in range(size // len(chunk)):
            target.write(chunk)

    def info(member_name: str) -> zipfile.ZipInfo:
        made = zipfile.ZipInfo(member_name)
        made.compress_type = zipfile.ZIP_DEFLATED
        return made

    with zipfile.ZipFile(xlsx, "a", compression=zipfile.ZIP_DEFLATED) as z:
        if not nested:
            with z.open(info(name), "w", force_zip64=True) as member:
                fill(member)
            return
        inner_path = xlsx.with_suffix(".inner.zip")
        with zipfile.ZipFile(inner_path, "w", compression=zipfile.ZIP_DEFLATED) as inner:
            with inner.open(info("payload.xml"), "w", force_zip64=True) as member:
                fill(member)
        z.write(inner_path, name, compress_type=zipfile.ZIP_STORED)


def test_a_sheet_bomb_is_refused_with_the_sizes_by_validate(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    _workbook(bomb)
    _add_member(bomb, "xl/sharedStrings2.xml", 64 * 1024 * 1024)
    assert bomb.stat().st_size < 2_000_000
    # `harness prompts validate` as the only child of a fresh process, whose RUSAGE_CHILDREN peak is then
    # the command's own (this test process's children include every earlier test's commands)
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "sys.stderr.write(p.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.exit(p.returncode)")
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "harness", "prompts", "validate",
                           str(bomb)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "compression bomb" in done.stderr and "xl/sharedStrings2.xml" in done.stderr
    assert re.search(r"63\.8 MiB from [\d,]+ bytes \([\d,]+:1\)", done.stderr) and "Traceback" not in done.stderr
    peak = int(done.stdout.split()[-1])
    assert peak < 400_000, f"{peak} KiB"   # nothing was inflated (64 MiB of text would show)


def test_a_zip_inside_the_workbook_is_checked_too(tmp_path):
    bomb = tmp_path / "nested.xlsx"
    _workbook(bomb)
    _add_member(bomb, "xl/embeddings/oleObject1.bin", 32 * 1024 * 1024, nested=True)
    with pytest.raises(InputError) as err:
        load_suite(bomb)
    assert "xl/embeddings/oleObject1.bin/payload.xml" in str(err.value)


def test_the_total_bound(tmp_path, monkeypatch):
    book = tmp_path / "ok.xlsx"
    _workbook(book, [("input",)] + [(f"question {i}",) for i in range(200)])
    assert len(load_suite(book).prompts) == 200   # an ordinary workbook passes
    monkeypatch.setattr(bombs, "MAX_UNCOMPRESSED_BYTES", 2000)
    with pytest.raises(InputError) as err:
        load_suite(book)
    assert "declare more than" in str(err.value)


def test_a_parquet_bomb_is_refused_from_its_footer(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"input": ["a" * (1 << 20) + str(i) for i in range(24)]})
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="gzip", use_dictionary=False)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InputError) as err:
        load_suite(path)
    assert "compression bomb" in str(err.value) and ":1" in str(err.value)
    small = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"input": ["2+2?", "3+3?"]}), small)
    assert len(load_suite(small).prompts) == 2
