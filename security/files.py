"""Private files: the data folder holds case data (temporal.db, register.db and its WAL, logs, the
outbox) and secrets (encryption keys, the codec token, the console's session secret), so only
the user who runs the system may read it.

Every entry point (`make run`, the worker, the console, the codec server) calls
`private_data_dir()` before it creates anything (`sro` calls `private_files()`: it creates the
folder only when it writes the register or a report): the process umask becomes 0o077, so every file
it or its children (the `temporal` dev server, SQLite) create is 0600 and every folder 0700 from
the moment it exists (no window with wider permissions, no chmod afterwards); the data folder is
created 0700, and one left by an older version is tightened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from config import settings

#: Group and others get nothing: files 0600, folders 0700.
PRIVATE_UMASK = 0o077


def write_private(path: Path, text: str) -> None:
    """Write a secret to a new file that is 0600 from its creation, whatever the umask."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # O_EXCL: never write into a file someone else prepared
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def data_dir() -> Path:
    return settings().data_dir


def private_files() -> None:
    """From now on this process and its children create files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def private_data_dir(path: Path | None = None) -> Path:
    """Set the private umask, create the data folder (0700) and tighten what is already in it."""
    private_files()
    folder = path or data_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tighten(folder)
    return folder


def tighten(folder: Path) -> None:
    """Take group and other permissions off the folder and everything in it (files written
    before the umask was set: a data folder from an older version). Symbolic links are left."""
    _tighten_one(folder)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            _tighten_one(Path(root) / name)


def _tighten_one(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:  # removed meanwhile (a WAL file, an outbox temporary)
        return
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return
    with contextlib.suppress(FileNotFoundError):
        path.chmod(stat.S_IMODE(mode) & 0o700)
