"""``pki renew NAME|all``: reissue leaf certificates as they were, from the CA that signed them.

Rules:
 1. A renewed certificate keeps the subject (CN and O) and SANs of the one it replaces and is
    signed by the same CA — the CA in ``pki/`` whose key verifies the old certificate.
 2. The profile is kubeadm's for the names kubeadm knows (``apiserver`` is a server certificate,
    ``etcd-peer`` a peer certificate, a kubeconfig credential a client certificate), so renewing
    also repairs a wrong usage; for other names it is read back from the old certificate.
 3. Every renewal gets a new key of the same algorithm, never a weaker one (an RSA-1024 key is
    replaced by RSA-2048).
 4. Client certificates embedded in kubeconfigs are renewed in place, the rest of the file kept —
    the step people forget after renewing the files under ``pki/``.
 5. CAs are never renewed here. Everything is checked before anything is written.
 6. The CA is looked for in ``DIR/pki`` (kubeadm's layout) or, failing that, in DIR itself, where
    the course's openssl commands leave ``ca.crt``, ``ca.key`` and the certificates they sign.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from kubeward.errors import InputError
from kubeward.fileio import PRIVATE, PUBLIC, write_atomic
from kubeward.kubeconfig.build import write_kubeconfig
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import (
    PrivateKey,
    PublicKey,
    algorithm_of,
    as_supported_public_key,
    generate_private_keys,
    private_key_pem,
)
from kubeward.pki.kubeconfigs import read_kubeconfig, replace_client_credentials
from kubeward.pki.layout import CERTIFICATE_AUTHORITIES, DEFAULT_CERT_VALIDITY, cert_path, key_path
from kubeward.pki.names import AltNames
from kubeward.pki.profiles import Profile, is_ca, profile_of
from kubeward.pki.reading import load_certificate, load_private_key
from kubeward.pki.verify import signed_by

KNOWN_PROFILES = {
    "apiserver": Profile.SERVER,
    "apiserver-kubelet-client": Profile.CLIENT,
    "apiserver-etcd-client": Profile.CLIENT,
    "front-proxy-client": Profile.CLIENT,
    "etcd-healthcheck-client": Profile.CLIENT,
}


@dataclass(frozen=True)
class Renewable:
    """One leaf that can be renewed: a file pair under pki/, or a kubeconfig user."""

    name: str
    cert: x509.Certificate
    algorithm: str
    cert_file: Path | None = None
    key_file: Path | None = None
    kubeconfig: Path | None = None
    user: str = ""


def known_profile(name: str, cert: x509.Certificate) -> Profile:
    """Rule 2."""
    if name in KNOWN_PROFILES:
        return KNOWN_PROFILES[name]
    if name.startswith(("etcd-server", "etcd-peer")):
        return Profile.PEER
    if name.endswith(".conf"):
        return Profile.CLIENT
    if name.startswith("kubelet-"):
        return Profile.SERVER
    return profile_of(cert)


def pki_directory(directory: Path) -> Path:
    """``DIR/pki`` (kubeadm's layout), or DIR itself when it holds ``ca.crt`` (the course's)."""
    for candidate in (directory / "pki", directory):
        if (candidate / "ca.crt").exists():
            return candidate
    raise InputError(f"{directory}: no PKI here (no pki/ca.crt or ca.crt)")


def renewable(directory: Path) -> dict[str, Renewable]:
    """Every leaf under ``directory/pki`` and every kubeconfig client certificate in ``directory``."""
    pki = pki_directory(directory)
    found: dict[str, Renewable] = {}
    ca_files = {cert_path(pki, ca.base) for ca in CERTIFICATE_AUTHORITIES}
    for crt in sorted(pki.rglob("*.crt")):
        if crt in ca_files:
            continue
        cert = load_certificate(crt)
        if is_ca(cert):
            continue
        name = str(crt.relative_to(pki).with_suffix("")).replace(os.sep, "-")
        key_file = crt.with_suffix(".key")
        key = load_private_key(key_file, validate=False) if key_file.exists() else None
        algorithm = algorithm_of(key if key is not None else _public_key(cert, crt))
        found[name] = Renewable(name, cert, algorithm, crt, key_file)
    for conf in sorted(directory.glob("*.conf")):
        creds = read_kubeconfig(conf, validate_keys=False)
        for user in creds.users:
            if not user.embedded:
                continue
            name = (
                conf.name
                if user.name == creds.current_user or len(creds.users) == 1
                else f"{conf.name}:{user.name}"
            )
            found[name] = Renewable(
                name,
                user.cert,
                algorithm_of(_public_key(user.cert, conf)),
                kubeconfig=conf,
                user=user.name,
            )
    return found


def _public_key(cert: x509.Certificate, where: Path) -> PublicKey:
    return as_supported_public_key(cert.public_key(), str(where))


@dataclass(frozen=True)
class _Job:
    item: Renewable
    authority: CertificateAuthority
    profile: Profile


def renew(
    directory: str | os.PathLike[str],
    names: Sequence[str],
    *,
    validity: datetime.timedelta = DEFAULT_CERT_VALIDITY,
    now: datetime.datetime | None = None,
) -> list[str]:
    """Renew ``names`` (or every leaf for ``all``) in ``directory``; returns the names renewed.

    Raises:
        InputError: a name is unknown, its CA is not in the directory or has no key, or a file is
            unreadable. Nothing is written then.
    """
    root = Path(directory)
    items = renewable(root)
    wanted = sorted(items) if "all" in names else list(dict.fromkeys(names))
    ca_names = {ca.name for ca in CERTIFICATE_AUTHORITIES}
    jobs = []
    authorities: dict[Path, CertificateAuthority] = {}
    for name in wanted:
        if name in ca_names:
            raise InputError(
                f"{name}: certificate authorities are not renewed (every certificate they signed would stop working)"
            )
        if name not in items:
            raise InputError(
                f"{name}: no such certificate in {root} (known: {', '.join(sorted(items))})"
            )
        item = items[name]
        authority = _authority_for(pki_directory(root), item, authorities)
        jobs.append(_Job(item, authority, known_profile(name, item.cert)))
    now = now or datetime.datetime.now(datetime.UTC)
    keys: dict[str, list[PrivateKey]] = {}
    for algorithm in {job.item.algorithm for job in jobs}:
        count = sum(1 for job in jobs if job.item.algorithm == algorithm)
        keys[algorithm] = generate_private_keys(algorithm, count)
    pending: dict[Path, dict[str, Any]] = {}
    for job in jobs:
        key = keys[job.item.algorithm].pop()
        cert = job.authority.issue(
            key.public_key(),
            job.item.cert.subject,
            job.profile,
            validity,
            alt_names=AltNames.of(job.item.cert),
            now=now,
        )
        if job.item.kubeconfig is not None:
            document = (
                pending.get(job.item.kubeconfig)
                or read_kubeconfig(job.item.kubeconfig, validate_keys=False).document
            )
            pending[job.item.kubeconfig] = replace_client_credentials(
                document, job.item.user, certificate_pem(cert), private_key_pem(key)
            )
        else:
            assert job.item.cert_file is not None and job.item.key_file is not None
            write_atomic(job.item.key_file, private_key_pem(key), PRIVATE, overwrite=True)
            write_atomic(job.item.cert_file, certificate_pem(cert), PUBLIC, overwrite=True)
    for path, document in pending.items():
        write_kubeconfig(path, document, overwrite=True)
    return [job.item.name for job in jobs]


def _authority_for(
    pki: Path, item: Renewable, loaded: dict[Path, CertificateAuthority]
) -> CertificateAuthority:
    """Rule 1: the CA of ``pki/`` that verifies ``item``, loaded with its key (once)."""
    for ca in CERTIFICATE_AUTHORITIES:
        crt = cert_path(pki, ca.base)
        if not crt.exists():
            continue
        if signed_by(item.cert, load_certificate(crt)):
            key = key_path(pki, ca.base)
            if not key.exists():
                raise InputError(
                    f"{key}: missing, so {item.name} cannot be renewed "
                    f"(the {ca.name} CA is externally managed)"
                )
            if crt not in loaded:
                loaded[crt] = CertificateAuthority.from_files(crt, key)
            return loaded[crt]
    raise InputError(
        f"{item.name}: not signed by any CA in {pki}; it cannot be renewed from the same CA"
    )
