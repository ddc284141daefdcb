"""Reading user-named files safely: regular files only, capped sizes, bounded JSON nesting.

Every reader of a user-given path (CSV data, model and session files, experiment files) goes through
`read_regular`: the path is opened without blocking (a FIFO with no writer would block ``open()`` forever),
the *opened descriptor* is checked with ``fstat`` to be a regular file (so a swap between a check and the open
cannot slip a device in), and at most ``limit`` bytes are read (``/dev/zero`` or a file that keeps growing
never ends). Failures raise the caller's typed error with a message that names the path and the reason.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from bpcore.errors import BackpropLabError

__all__ = ["MAX_JSON_DEPTH", "check_depth", "file_kind", "load_json", "read_regular"]

MAX_JSON_DEPTH = 32  # our files nest 4 levels at most; JSON deeper than this is refused before it is used
_CHUNK = 1 << 20


def file_kind(mode: int) -> str:
    """What a non-regular st_mode is, in words ('a folder', 'a FIFO (named pipe)', …)."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def open_regular(path: str | os.PathLike[str], *, what: str, error: type[BackpropLabError],
                 limit: int) -> tuple[int, str, int]:
    """(an open read-only descriptor, the path as text, the size) of a regular file of at most `limit` bytes;
    `error` naming the path and the reason otherwise. The caller closes the descriptor.

    The path is checked before opening (opening a device can have effects) and the opened descriptor again
    (the path may have been swapped in between); `what` names the file for messages ("CSV file", …).
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise error(f"cannot read {path!r}: expected a file path") from None
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        mode = os.stat(name).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{name}: is {file_kind(mode)}, not a regular file; refusing to read it as a {what}")
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise error(f"{name}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{name}: is a folder, not a {what}") from None
    except PermissionError:
        raise error(f"{name}: cannot read the {what} (permission denied)") from None
    except BackpropLabError:
        raise
    except (OSError, ValueError) as e:  # ValueError: a NUL character in the path
        raise error(f"{name}: cannot read the {what} ({getattr(e, 'strerror', None) or e})") from None
    try:
        st = os.fstat(fd)  # the descriptor we read from, not the name: no race with a replaced path
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{name}: is {file_kind(st.st_mode)}, not a regular file; refusing to read it as a {what}")
        if st.st_size > limit:
            raise error(f"{name}: the {what} is {_size(st.st_size)}, more than the {_size(limit)} allowed")
    except BaseException as e:
        os.close(fd)
        if isinstance(e, OSError) and not isinstance(e, BackpropLabError):
            raise error(f"{name}: cannot read the {what} ({e.strerror or e})") from None
        raise
    return fd, name, st.st_size


def read_regular(path: str | os.PathLike[str], *, what: str, error: type[BackpropLabError], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see open_regular); reading stops, with `error`, if
    the file grows past the limit while being read."""
    fd, name, _ = open_regular(path, what=what, error=error, limit=limit)
    try:
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise error(f"{name}: the {what} grew past {_size(limit)} while being read (does it never end?)")
    except OSError as e:
        if isinstance(e, BackpropLabError):
            raise
        raise error(f"{name}: cannot read the {what} ({e.strerror or e})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def check_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of lists/dicts in `value` (a scalar is 0), found without recursion.

    ValueError as soon as it exceeds `max_depth`.
    """
    containers = (dict, list, tuple)
    deepest, stack = 0, [(value, 1)] if isinstance(value, containers) else []
    while stack:
        v, d = stack.pop()
        if d > max_depth:
            raise ValueError(f"nested more than {max_depth} levels deep")
        deepest = max(deepest, d)
        stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v) if isinstance(x, containers))
    return deepest


def load_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with a bound on nesting: ValueError (json.JSONDecodeError for bad syntax) when too deep."""
    try:
        value = json.loads(text)
    except RecursionError:  # the C scanner stops at the interpreter's recursion limit, cleanly
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    check_depth(value, max_depth)
    return value
