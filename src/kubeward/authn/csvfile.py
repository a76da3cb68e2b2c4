"""The CSV credential files of kube-apiserver: ``--token-auth-file`` and ``--basic-auth-file``.

Format, one credential per line: ``secret,user,uid,"group1,group2"`` (the group column is
optional; blank lines and lines starting with ``#`` are skipped).

Rules:
 1. A token file is keyed by its secret (the token names the user); a password file is keyed
    by the user name (the name picks the record, then its password is checked), as
    kube-apiserver's old password file was. Several users may therefore share a password —
    the course's ``user-details.csv`` gives all five ``password123`` — but not a token.
 2. A duplicate key is logged with its line, and the later line wins (as in Kubernetes).
 3. Unlike Kubernetes, which reads the file once at start, the file is re-read when it changes
    (``fileio.ReloadingFile``), so revoking a token takes effect without a restart.
 4. A file that fails to parse at start is an error naming the file and line; a later broken
    edit keeps the last good contents and is logged.
 5. Secrets are compared in constant time.
"""

from __future__ import annotations

import csv
import enum
import hmac
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kubeward.api.user import UserInfo
from kubeward.errors import InputError
from kubeward.fileio import ReloadingFile

log = logging.getLogger(__name__)


class KeyedBy(enum.Enum):
    """What picks a record out of a credential file (rule 1)."""

    SECRET = "token"  # --token-auth-file
    USER_NAME = "user name"  # --basic-auth-file


@dataclass(frozen=True)
class Credential:
    secret: str
    user: UserInfo


def _key_of(credential: Credential, keyed_by: KeyedBy) -> str:
    return credential.secret if keyed_by is KeyedBy.SECRET else credential.user.name


def parse_credentials(
    text: str, source: str, keyed_by: KeyedBy = KeyedBy.SECRET
) -> dict[str, Credential]:
    """Parse the CSV text into records by ``keyed_by``.

    Raises:
        InputError: naming ``source`` and the line of a bad record.
    """
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
        credential = Credential(secret, UserInfo(name=name, uid=uid, groups=groups))
        key = _key_of(credential, keyed_by)
        if key in out:
            shown = f" {name!r}" if keyed_by is KeyedBy.USER_NAME else ""
            log.warning(
                "%s:%d: duplicate %s%s; the later line wins",
                source,
                line_number,
                keyed_by.value,
                shown,
            )
        out[key] = credential
    return out


class CredentialFile:
    """A CSV credential file keyed by ``keyed_by``, re-read when it changes."""

    def __init__(self, path: str | os.PathLike[str], keyed_by: KeyedBy = KeyedBy.SECRET) -> None:
        self.path = Path(path)
        self.keyed_by = keyed_by
        self._file = ReloadingFile(
            path, lambda text, source: parse_credentials(text, source, keyed_by)
        )

    @property
    def _credentials(self) -> dict[str, Credential]:
        return self._file.value

    def lookup(self, secret: str) -> Credential | None:
        """For a token file: the record whose secret is ``secret``."""
        if self.keyed_by is not KeyedBy.SECRET:
            raise TypeError(f"{self.path} is keyed by {self.keyed_by.value}, not by secret")
        found = self._credentials.get(secret)
        if found is not None and hmac.compare_digest(found.secret.encode(), secret.encode()):
            return found
        return None

    def lookup_user(self, name: str) -> Credential | None:
        """For a password file: the record of the user ``name`` (its password unchecked)."""
        if self.keyed_by is not KeyedBy.USER_NAME:
            raise TypeError(f"{self.path} is keyed by {self.keyed_by.value}, not by user name")
        return self._credentials.get(name)
