"""Writing files the way a security tool must.

Rules:
 1. Every write is atomic: the data goes to a temporary file in the same directory, is flushed
    and fsynced, and is renamed over the target, so a crash leaves the old file or the new one,
    never half of either.
 2. The mode is set on the temporary file before any byte is written, so a private key is never
    readable by others, not even for an instant.
 3. An existing file is never replaced unless the caller says ``overwrite=True``.
 4. Every directory these functions create is 0700, whatever the umask: the PKI, the kubeconfigs
    and the store live in them. A directory that already exists keeps its mode;
    :func:`open_to_others` tells a caller whether to warn about it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from kubeward.errors import InputError

PRIVATE = 0o600
PUBLIC = 0o644
PRIVATE_DIR = 0o700


def make_private_dirs(path: str | os.PathLike[str]) -> None:
    """Create ``path`` and its missing parents, each 0700 (rule 4).

    Raises:
        InputError: a directory cannot be created.
    """
    missing: list[Path] = []
    current = Path(path)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=PRIVATE_DIR)
            os.chmod(directory, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    except FileExistsError:
        pass  # created meanwhile by someone else: its mode is theirs
    except OSError as exc:
        raise InputError(f"{path}: cannot create the directory: {exc.strerror or exc}") from exc


def open_to_others(path: str | os.PathLike[str]) -> int:
    """The group and world permission bits of an existing directory (0 when private)."""
    try:
        return os.stat(path).st_mode & 0o077
    except OSError:
        return 0


def write_atomic(
    path: str | os.PathLike[str], data: bytes, mode: int, *, overwrite: bool = False
) -> None:
    """Write ``data`` to ``path`` atomically with permission bits ``mode``.

    Raises:
        InputError: the file exists and ``overwrite`` is false, or the directory is not writable.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise InputError(f"{target}: already exists; refusing to overwrite it")
    try:
        make_private_dirs(target.parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror or exc}") from exc


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file, turning OS errors into one line that names the file."""
    target = Path(path)
    try:
        return target.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{target}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{target}: is a directory, not a file") from exc
    except PermissionError as exc:
        raise InputError(f"{target}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{target}: cannot read: {exc.strerror or exc}") from exc
