"""Local paths in reports: shown relative to the working directory, never as absolute paths.

A report is shared (a CI artefact, a pull-request comment): an absolute path would leak the user name,
the home layout or the CI runner's workspace, and means nothing on the reader's machine. Paths the user
gave relative stay as they are; absolute ones become relative to the directory `harness` ran in.
"""
from __future__ import annotations

import os
import re
from pathlib import PurePath

# An absolute POSIX path inside free text: starts with "/" not preceded by a word character or ":", nor
# by ":/" (so a URL's "//host/v1" and "host/v1" are left alone, but "local//tmp/m.gguf" is a path), then at least two components (`/tmp/x`; a lone
# `/x` is more often "and/or" or a fraction than a path).
_ABSOLUTE = re.compile(r"(?<![\w:.~-])(?<!:/)/(?:[\w.@+~-]+/)+[\w.@+~-]+")


def shown_path(path: str | os.PathLike | None, cwd: str | None = None) -> str:
    """`path` relative to the working directory when it is absolute (`../x` above it); as given otherwise."""
    if path is None:
        return "-"
    text = str(path)
    if not os.path.isabs(text):
        return text
    try:
        return os.path.relpath(text, cwd or os.getcwd())
    except ValueError:   # another drive (Windows): the file name is all that is meaningful elsewhere
        return PurePath(text).name


def local_paths(text: str, cwd: str | None = None) -> str:
    """Free text (a provider note, a stored config value) with every absolute path made relative."""
    if "/" not in text:
        return text
    here = cwd or os.getcwd()
    return _ABSOLUTE.sub(lambda m: shown_path(m.group(), here), text)
