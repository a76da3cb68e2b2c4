"""The certificates inside kubeconfig files: what check, audit and renew need from them.

The kubeconfig package owns kubeconfig semantics (merging, contexts, editing); this module only
reads the credentials a PKI tool cares about, and swaps a renewed client certificate in. Rules:

 1. Embedded data (``client-certificate-data``, ``client-key-data``,
    ``certificate-authority-data``) is base64 PEM; a file reference (``client-certificate``)
    is resolved relative to the kubeconfig's directory, as kubectl resolves it.
 2. A field that does not decode is an :class:`InputError` naming the file and the field.
 3. Replacing credentials writes embedded data and drops file references for that user, and
    leaves every other part of the document as it was.
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.pki.keys import PrivateKey
from kubeward.pki.reading import read_certificates, read_private_key


@dataclass(frozen=True)
class KubeconfigUser:
    """A user entry with a client certificate (and its key, when present)."""

    name: str
    cert: x509.Certificate
    key: PrivateKey | None
    embedded: bool
    source: str


@dataclass(frozen=True)
class KubeconfigCluster:
    """A cluster entry: its server URL and the CA certificates it trusts."""

    name: str
    server: str
    ca_certs: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class KubeconfigCredentials:
    """The credentials of one kubeconfig file."""

    path: Path
    document: dict[str, Any]
    users: tuple[KubeconfigUser, ...]
    clusters: tuple[KubeconfigCluster, ...]
    current_user: str
    current_cluster: str

    def cluster(self, name: str) -> KubeconfigCluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def user(self, name: str) -> KubeconfigUser | None:
        return next((u for u in self.users if u.name == name), None)


def read_kubeconfig(
    path: str | os.PathLike[str], *, validate_keys: bool = True
) -> KubeconfigCredentials:
    """Load ``path`` and decode its client certificates, keys and cluster CAs.

    Raises:
        InputError: the file is missing, not YAML, not a kubeconfig, or a field does not decode.
    """
    target = Path(path)
    data = read_bytes(target)
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InputError(f"{target}: not valid YAML") from exc
    if not isinstance(document, dict):
        raise InputError(f"{target}: not a kubeconfig (expected a mapping with clusters and users)")
    return parse_kubeconfig(document, target, validate_keys=validate_keys)


def parse_kubeconfig(
    document: dict[str, Any], path: Path, *, validate_keys: bool = True
) -> KubeconfigCredentials:
    """Decode the credentials of an already parsed kubeconfig document."""
    users = []
    for index, entry in enumerate(_entries(document, "users")):
        name = str(entry.get("name", f"#{index}"))
        user = entry.get("user") or {}
        if not isinstance(user, dict):
            continue
        where = f"{path}: users[{name}]"
        cert_bytes, embedded = _material(user, "client-certificate", where, path.parent)
        if cert_bytes is None:
            continue
        certs = read_certificates(cert_bytes, f"{where}.client-certificate")
        key_bytes, _ = _material(user, "client-key", where, path.parent)
        key = None
        if key_bytes is not None:
            key = read_private_key(key_bytes, f"{where}.client-key", validate=validate_keys)
        users.append(KubeconfigUser(name, certs[0], key, embedded, where))
    clusters = []
    for index, entry in enumerate(_entries(document, "clusters")):
        name = str(entry.get("name", f"#{index}"))
        cluster = entry.get("cluster") or {}
        if not isinstance(cluster, dict):
            continue
        where = f"{path}: clusters[{name}]"
        ca_bytes, _ = _material(cluster, "certificate-authority", where, path.parent)
        cas = (
            tuple(read_certificates(ca_bytes, f"{where}.certificate-authority")) if ca_bytes else ()
        )
        clusters.append(KubeconfigCluster(name, str(cluster.get("server", "")), cas))
    context = _current_context(document)
    return KubeconfigCredentials(
        path,
        document,
        tuple(users),
        tuple(clusters),
        str(context.get("user", "")),
        str(context.get("cluster", "")),
    )


def replace_client_credentials(
    document: dict[str, Any], user_name: str, cert_pem: bytes, key_pem: bytes
) -> dict[str, Any]:
    """A copy of ``document`` with ``user_name``'s certificate and key embedded (rule 3)."""
    updated = copy.deepcopy(document)
    for entry in _entries(updated, "users"):
        if entry.get("name") != user_name:
            continue
        user = entry.setdefault("user", {})
        user.pop("client-certificate", None)
        user.pop("client-key", None)
        user["client-certificate-data"] = base64.b64encode(cert_pem).decode("ascii")
        user["client-key-data"] = base64.b64encode(key_pem).decode("ascii")
        return updated
    raise InputError(f"user {user_name!r}: not in the kubeconfig")


def _entries(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key) or []
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def _current_context(document: dict[str, Any]) -> dict[str, Any]:
    current = document.get("current-context", "")
    for entry in _entries(document, "contexts"):
        if entry.get("name") == current and isinstance(entry.get("context"), dict):
            context: dict[str, Any] = entry["context"]
            return context
    return {}


def _material(
    section: dict[str, Any], field: str, where: str, base_dir: Path
) -> tuple[bytes | None, bool]:
    """The bytes of ``field-data`` (base64) or of the file ``field`` names; None if neither."""
    data = section.get(f"{field}-data")
    if data:
        try:
            return base64.b64decode("".join(str(data).split()), validate=True), True
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{where}.{field}-data: not valid base64") from exc
    reference = section.get(field)
    if reference:
        file = Path(str(reference))
        return read_bytes(file if file.is_absolute() else base_dir / file), False
    return None, False
