"""Test stores built once per test process and copied for every caller.

Building a test store costs seconds (an import, argon2 password hashes for its users, a CLI run),
and many tests want the same one afresh so that they may write into it. ``copied`` builds it the
first time a process asks for a key, in a folder of its own, and from then on copies that folder's
files: each caller gets private, writable files with the same content, users and tokens."""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_BUILT: dict[Hashable, tuple[Path, object]] = {}


def copied(key: Hashable, directory: Path, build: Callable[[Path], T]) -> T:
    """The files ``build(folder)`` writes into an empty folder, copied into ``directory``, and a copy
    of what ``build`` returned (so it must not name the folder's files: callers rebuild such paths)."""
    if key not in _BUILT:
        folder = Path(tempfile.mkdtemp(prefix="callkpi-test-store-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _BUILT[key] = (folder, build(folder))
    folder, result = _BUILT[key]
    directory.mkdir(parents=True, exist_ok=True)
    for source in folder.iterdir():
        if source.is_dir():
            shutil.copytree(source, directory / source.name, dirs_exist_ok=True)
        else:
            shutil.copy2(source, directory / source.name)
    return copy.deepcopy(result)  # type: ignore[return-value]
