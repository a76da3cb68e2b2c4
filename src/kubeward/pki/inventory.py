"""What a directory of PKI files holds: every certificate, its key, and every kubeconfig credential.

``pki check`` and ``pki audit`` look at trees that kubeadm, kubeward, cfssl, a course or a
person made by hand, so discovery goes by content and common naming, not by a fixed list:

 1. Certificates are read from ``*.crt``, ``*.pem``, ``*.cer``, ``*.cert`` and ``*.der`` files
    (every certificate of a chain file counts), keys from ``*.key`` and ``*-key.pem``, and
    kubeconfigs from ``*.conf``, ``*.kubeconfig``, ``*.yaml``/``*.yml`` and files named
    ``config`` or ``kubeconfig`` whose content is a kubeconfig.
 2. A certificate's key is the file next to it with the same stem: ``X.key`` or ``X-key.pem``
    (cfssl), or a key in the same PEM file.
 3. A certificate is named as ``kubeadm certs`` names it: its path below the ``pki`` directory,
    without extension, ``/`` turned into ``-`` (``etcd-server``); a kubeconfig credential by the
    file name (``admin.conf``), plus ``:USER`` for users other than the current one.
 4. A file that cannot be read is recorded with the reason, never fatal: an audit reports it.
 5. Files over 1 MiB, hidden directories and symbolic links to directories are skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.pki.keys import PrivateKey
from kubeward.pki.kubeconfigs import KubeconfigCredentials, parse_kubeconfig, read_kubeconfig
from kubeward.pki.reading import Decoded, decode

CERT_SUFFIXES = (".crt", ".pem", ".cer", ".cert", ".der")
KEY_SUFFIXES = (".key",)
KUBECONFIG_SUFFIXES = (".conf", ".kubeconfig", ".yaml", ".yml")
KUBECONFIG_NAMES = ("config", "kubeconfig")
MAX_FILE_SIZE = 1 << 20


@dataclass(frozen=True)
class KubeconfigOrigin:
    """Where a kubeconfig credential came from: file, user, and the cluster it talks to."""

    file: Path
    user: str
    server: str
    trusted_cas: tuple[x509.Certificate, ...]
    current: bool


@dataclass(frozen=True)
class FoundCertificate:
    """One certificate found in the tree, with its private key when one was found."""

    name: str
    label: str
    path: Path
    cert: x509.Certificate
    key: PrivateKey | None = None
    key_path: Path | None = None
    key_error: str = ""
    kubeconfig: KubeconfigOrigin | None = None


@dataclass(frozen=True)
class FoundFile:
    """A file that holds a private key (a key file or a kubeconfig), with its permission bits."""

    path: Path
    mode: int


@dataclass(frozen=True)
class Unreadable:
    path: Path
    reason: str


@dataclass(frozen=True)
class Inventory:
    root: Path
    certificates: tuple[FoundCertificate, ...]
    secret_files: tuple[FoundFile, ...]
    unreadable: tuple[Unreadable, ...]
    kubeconfigs: tuple[KubeconfigCredentials, ...]

    def by_name(self, name: str) -> FoundCertificate | None:
        return next((c for c in self.certificates if c.name == name), None)


def scan(
    root: str | os.PathLike[str], kubeconfigs: Iterable[str | os.PathLike[str]] = ()
) -> Inventory:
    """Find every certificate, key and kubeconfig under ``root`` plus the extra ``kubeconfigs``.

    Raises:
        InputError: ``root`` does not exist or is not a directory; an extra kubeconfig is unreadable.
    """
    base = Path(root)
    if not base.exists():
        raise InputError(f"{base}: no such directory")
    if not base.is_dir():
        raise InputError(f"{base}: not a directory")
    scanner = _Scanner(base)
    for path in _walk(base):
        scanner.visit(path)
    for extra in kubeconfigs:
        path = Path(extra)
        if path not in scanner.seen_kubeconfigs:
            scanner.add_kubeconfig(read_kubeconfig(path, validate_keys=False), _mode(path))
    return Inventory(
        base,
        tuple(scanner.certificates),
        tuple(scanner.secret_files),
        tuple(scanner.unreadable),
        tuple(scanner.kubeconfig_creds),
    )


def certificate_name(root: Path, path: Path) -> str:
    """Rule 3: ``pki/etcd/server.crt`` → ``etcd-server``."""
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        parts = [path.name]
    if "pki" in parts[:-1]:
        parts = parts[len(parts) - parts[::-1].index("pki") :]
    stem = parts[-1]
    for suffix in CERT_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return "-".join([*parts[:-1], stem])


def _walk(base: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, files in os.walk(base, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            found.append(Path(directory) / name)
    return found


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0


def _is_kubeconfig_name(path: Path) -> bool:
    return path.suffix in KUBECONFIG_SUFFIXES or path.name in KUBECONFIG_NAMES


def _key_candidates(path: Path) -> list[Path]:
    stem = path.name.rsplit(".", 1)[0]
    return [path.with_name(f"{stem}.key"), path.with_name(f"{stem}-key.pem")]


class _Scanner:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.certificates: list[FoundCertificate] = []
        self.secret_files: list[FoundFile] = []
        self.unreadable: list[Unreadable] = []
        self.kubeconfig_creds: list[KubeconfigCredentials] = []
        self.seen_kubeconfigs: set[Path] = set()

    def visit(self, path: Path) -> None:
        if not path.is_file():
            return
        if path.name.endswith("-key.pem"):  # cfssl's key files, read when their certificate is
            self.secret_files.append(FoundFile(path, _mode(path)))
            return
        is_cert = path.suffix in CERT_SUFFIXES
        is_key = path.suffix in KEY_SUFFIXES
        is_kubeconfig = _is_kubeconfig_name(path)
        if not (is_cert or is_key or is_kubeconfig):
            return
        if is_key:
            self.secret_files.append(FoundFile(path, _mode(path)))
            return
        try:
            if path.stat().st_size > MAX_FILE_SIZE:
                return
            decoded = decode(read_bytes(path), str(path), validate=False)
        except InputError as exc:
            if is_cert:
                self.unreadable.append(Unreadable(path, str(exc)))
            return
        if decoded.kubeconfig is not None:
            try:
                creds = parse_kubeconfig(decoded.kubeconfig, path, validate_keys=False)
            except InputError as exc:
                self.unreadable.append(Unreadable(path, str(exc)))
                return
            self.add_kubeconfig(creds, _mode(path))
        elif decoded.certificates:
            self._add_cert_file(path, decoded)
        elif decoded.private_keys:
            self.secret_files.append(FoundFile(path, _mode(path)))

    def _add_cert_file(self, path: Path, decoded: Decoded) -> None:
        key: PrivateKey | None = decoded.private_keys[0] if decoded.private_keys else None
        key_path: Path | None = path if key is not None else None
        key_error = ""
        if key is not None:
            self.secret_files.append(FoundFile(path, _mode(path)))
        else:
            for candidate in _key_candidates(path):
                if candidate.is_file():
                    key_path = candidate
                    try:
                        key = decode(
                            read_bytes(candidate), str(candidate), validate=False
                        ).private_keys[0]
                    except (InputError, IndexError) as exc:
                        key_error = str(exc) or f"{candidate}: no private key in it"
                    break
        name = certificate_name(self.root, path)
        for index, cert in enumerate(decoded.certificates):
            label = (
                str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)
            )
            if index:
                label, name = f"{label}#{index}", f"{name}#{index}"
            self.certificates.append(
                FoundCertificate(
                    name,
                    label,
                    path,
                    cert,
                    key if index == 0 else None,
                    key_path if index == 0 else None,
                    key_error if index == 0 else "",
                )
            )

    def add_kubeconfig(self, creds: KubeconfigCredentials, mode: int) -> None:
        path = creds.path
        self.seen_kubeconfigs.add(path)
        self.kubeconfig_creds.append(creds)
        if any(user.key is not None and user.embedded for user in creds.users):
            self.secret_files.append(FoundFile(path, mode))
        label = str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)
        for user in creds.users:
            current = user.name == creds.current_user or len(creds.users) == 1
            cluster = creds.cluster(creds.current_cluster) if current else None
            if cluster is None and creds.clusters:
                cluster = creds.clusters[0]
            origin = KubeconfigOrigin(
                path,
                user.name,
                cluster.server if cluster else "",
                cluster.ca_certs if cluster else (),
                current,
            )
            name = path.name if current else f"{path.name}:{user.name}"
            shown = label if current else f"{label} (user {user.name})"
            self.certificates.append(
                FoundCertificate(name, shown, path, user.cert, user.key, None, "", origin)
            )
