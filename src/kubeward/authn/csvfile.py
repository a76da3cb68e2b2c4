"""The CSV credential files of kube-apiserver: ``--token-auth-file`` and ``--basic-auth-file``.

Format, one credential per line: ``secret,user,uid,"group1,group2"`` (the group column is
optional; blank lines and lines starting with ``#`` are skipped).

Rules:
 1. Unlike Kubernetes, which reads the file once at start, the file is re-read when its
    modification time or size changes (checked at most once a second), so revoking a token
    takes effect without a restart.
 2. A file that fails to parse at start is an error naming the file and line; a later broken
    edit keeps the last good contents and is logged.
 3. Secrets are compared in constant time.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from kubeward.api.user import UserInfo
from kubeward.errors import InputError
from kubeward.fileio import read_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    secret: str
    user: UserInfo


def parse_credentials(text: str, source: str) -> dict[str, Credential]:
    """Parse the CSV text; InputError naming ``source`` and the line on a bad record."""
    out: dict[str, Credential] = {}
    reader = csv.reader(io.StringIO(text))
    for line_number, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise InputError(
                f"{source}:{line_number}: expected at least 3 columns (secret,user,uid), got {len(row)}"
            )
        secret, name, uid = (c.strip() for c in row[:3])
        if not secret or not name:
            raise InputError(
                f"{source}:{line_number}: the secret and the user name must not be empty"
            )
        groups: tuple[str, ...] = ()
        if len(row) > 3 and row[3].strip():
            groups = tuple(g.strip() for g in row[3].split(",") if g.strip())
        if secret in out:
            log.warning("%s:%d: duplicate secret; the later line wins", source, line_number)
        out[secret] = Credential(secret, UserInfo(name=name, uid=uid, groups=groups))
    return out


class CredentialFile:
    """A CSV credential file, re-read when it changes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: tuple[float, int] | None = None
        self._checked = 0.0
        self._credentials: dict[str, Credential] = {}
        self._load(strict=True)

    def _load(self, *, strict: bool) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime, stat.st_size)
            if stamp == self._stamp:
                return
            text = read_bytes(self.path).decode("utf-8")
            self._credentials = parse_credentials(text, str(self.path))
            self._stamp = stamp
        except (OSError, UnicodeDecodeError, InputError) as exc:
            if strict:
                if isinstance(exc, InputError):
                    raise
                raise InputError(f"{self.path}: cannot read: {exc}") from exc
            log.error("%s: keeping the previous credentials: %s", self.path, exc)

    def lookup(self, secret: str) -> Credential | None:
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            self._load(strict=False)
        found = self._credentials.get(secret)
        if found is not None and hmac.compare_digest(found.secret, secret):
            return found
        return None

    def lookup_user(self, name: str) -> Credential | None:
        """For basic auth: the record of a user name."""
        self.lookup("")  # refresh
        for credential in self._credentials.values():
            if credential.user.name == name:
                return credential
        return None
