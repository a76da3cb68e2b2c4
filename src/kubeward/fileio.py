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
 5. A configuration file the server follows (:class:`ReloadingFile`: token and password files,
    the ABAC policy) is parsed whole at start, where a bad file is an error; afterwards it is
    re-read when its identity (inode, size, modification time in nanoseconds) changes, checked
    at most every half second on use, and a broken edit keeps the last good contents and is
    logged. kube-apiserver reads these files once (kubernetes/kubernetes#27418).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from kubeward.errors import InputError

log = logging.getLogger(__name__)
T = TypeVar("T")

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


class ReloadingFile(Generic[T]):
    """A file parsed by ``parse(text, source)`` and re-parsed when it changes (rule 5).

    ``parse`` raises :class:`InputError` naming the source and the bad line.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        parse: Callable[[str, str], T],
        *,
        check_interval: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self._parse = parse
        self._check_interval = check_interval
        self._stamp: tuple[int, int, int] | None = None
        self._checked = time.monotonic()
        self._value: T = self._load()

    def _load(self) -> T:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        try:
            text = read_bytes(self.path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.path}: not UTF-8 text: {exc.reason}") from exc
        value = self._parse(text, str(self.path))
        self._stamp = stamp
        return value

    def _changed(self) -> bool:
        try:
            stat = self.path.stat()
        except OSError:
            return True
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns) != self._stamp

    @property
    def value(self) -> T:
        """The last good contents, re-read first if the file changed since the last check."""
        now = time.monotonic()
        if now - self._checked >= self._check_interval:
            self._checked = now
            if self._changed():
                try:
                    self._value = self._load()
                    log.info("%s: reloaded", self.path)
                except InputError as exc:
                    log.error("%s: keeping the previous contents: %s", self.path, exc)
        return self._value
