"""Atomic writing: a file is replaced whole or not at all, and leftovers of killed saves are cleaned up.

Every writer of a user-visible file (model and session files in `bpcore.files`, experiment files in
`bpcore.config`) goes through `atomic_write_bytes`: the bytes go to an exclusive temp file beside the target
(``.<name>.<12 hex>.tmp``), are fsynced, and replace the target with ``os.replace``, so a crash or a full disk
leaves the old file intact. This module imports nothing from bpcore, so any module can use it at import time.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from pathlib import Path

__all__ = ["STALE_TEMP_SECONDS", "atomic_write_bytes", "remove_stale_temps"]

STALE_TEMP_SECONDS = 15 * 60  # a temp file of ours untouched this long belongs to a save that was killed
_TEMP_SUFFIX = re.compile(r"\.[0-9a-f]{12}\.tmp")


def _temp_name(path: Path) -> str:
    return f".{path.name}.{secrets.token_hex(6)}.tmp"


def remove_stale_temps(path: str | os.PathLike[str], older_than: float | None = None) -> list[Path]:
    """Delete leftovers of killed atomic saves of `path`: ``.<name>.<12 hex>.tmp`` regular files beside it
    whose last change is older than `older_than` seconds (default STALE_TEMP_SECONDS); returns those removed.

    Only our own temp-name pattern for this very file is touched, never symbolic links, and never a fresh temp
    (another process may be saving right now).
    """
    path = Path(path)
    age = STALE_TEMP_SECONDS if older_than is None else older_than
    prefix = f".{path.name}"
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and _TEMP_SUFFIX.fullmatch(name, len(prefix))):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already, or not ours to delete: leave it
            continue
    return removed


def _create_temp(path: Path) -> tuple[Path, int]:
    """A new, exclusive temp file beside `path` (mode 0666 minus the umask, like any new file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / _temp_name(path)
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name beside {path}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder + fsync + os.replace; the old file survives errors.

    The temp file is named ``.<name>.<random>.tmp`` so a leftover from a crash is never taken for the file;
    such leftovers of earlier saves to the same place are removed first (`remove_stale_temps`).
    """
    path = Path(path)
    remove_stale_temps(path)
    tmp, fd = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():  # keep the old file's permissions
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
