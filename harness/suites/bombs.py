"""Compression bombs in input files: sizes checked before a byte is decompressed.

An .xlsx file is a zip archive; a 1 MB one can declare gigabytes of sheet XML or shared strings
(a 1 MB workbook passed validation using 2.2 GB; a 3 MB one ended in MemoryError). A Parquet file's
pages are compressed too. Both formats say in their own metadata how large everything is once
decompressed, and Python's zipfile never inflates an entry past its declared size, so these checks
read only the zip directory (and the directory of any zip inside) or the Parquet footer, in bounded
memory, and refuse a bomb with exit 2 and the sizes.

Bounds (README, "Reliability"): MAX_UNCOMPRESSED_BYTES in all; MAX_RATIO for any member larger than
RATIO_FLOOR_BYTES (ordinary workbooks compress 5-20x; bombs 1000x and more).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from harness.problems import InputError

MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_NESTING = 3


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MiB"


def _refuse(path: Path, what: str) -> InputError:
    return InputError.single(path, f"looks like a compression bomb: {what}; refused before decompressing "
                             f"(limits: {_mib(MAX_UNCOMPRESSED_BYTES)} in all, {MAX_RATIO}:1 for a part over "
                             f"{_mib(RATIO_FLOOR_BYTES)})")


def check_zip(path: Path, data: io.BytesIO | None = None, *, where: str = "", depth: int = 0,
              budget: list[int] | None = None) -> None:
    """Raise InputError when the zip at `path` (or the bytes `data`, a zip inside it at `where`)
    declares more than the bounds allow; zips inside are checked the same way (against one budget)."""
    budget = budget if budget is not None else [MAX_UNCOMPRESSED_BYTES]
    try:
        archive = zipfile.ZipFile(data if data is not None else path)
    except (zipfile.BadZipFile, OSError, ValueError):
        if data is not None:
            return   # not a zip after all: nothing inside to inflate
        raise
    with archive:
        for info in archive.infolist():
            name = f"{where}{info.filename}"
            budget[0] -= info.file_size
            if budget[0] < 0:
                raise _refuse(path, f"its parts declare more than {_mib(MAX_UNCOMPRESSED_BYTES)} uncompressed "
                                    f"(at {name!r}, {_mib(info.file_size)})")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
                raise _refuse(path, f"{name!r} declares {_mib(info.file_size)} from {info.compress_size:,} bytes "
                                    f"({ratio:,.0f}:1)")
            if depth < MAX_NESTING and info.file_size >= 4:
                with archive.open(info) as member:
                    head = member.read(4)
                if head == b"PK\x03\x04":   # a zip inside (an embedded workbook or archive): its sizes count too
                    if depth + 1 >= MAX_NESTING:
                        raise _refuse(path, f"zips nested {MAX_NESTING} deep at {name!r}")
                    check_zip(path, io.BytesIO(archive.read(info)), where=f"{name}/", depth=depth + 1, budget=budget)


def check_parquet(path: Path, parquet_file) -> None:
    """Raise InputError when a Parquet file's footer declares more than the bounds allow."""
    meta = parquet_file.metadata
    total = compressed = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        total += group.total_byte_size
        compressed += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(path, f"its row groups declare {_mib(total)} uncompressed")
    ratio = total / max(compressed, 1)
    if total > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
        raise _refuse(path, f"{_mib(total)} uncompressed from {compressed:,} bytes ({ratio:,.0f}:1)")
