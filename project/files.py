"""Files that hold secrets or private data: created private, never widened for a moment.

Imported by the settings, so nothing here may import Django.
"""

import os
import secrets
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), made or tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner can read (0600), created empty if missing.

    For files another program opens (SQLite creates its database with the umask's mode and
    its -wal/-shm files with the database's), so they start private.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    _tighten(path, 0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (0600): into a new 0600 file, then renamed over the old one.

    Writing then chmod-ing leaves the secret readable under the umask until the chmod; an
    existing file is replaced, not rewritten, so whoever had it open never reads the new text.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        data = text.encode()
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _tighten(path: Path, mode: int) -> None:
    # Only what we own: a shared directory given as VIGIE_VAR_DIR is the operator's to set.
    stat = path.stat()
    if stat.st_uid == os.getuid() and stat.st_mode & 0o777 != mode:
        path.chmod(mode)
