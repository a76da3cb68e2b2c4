"""``pki init``: make a directory hold the whole kubeadm PKI, creating only what is missing.

``kubeward up`` calls :func:`ensure_bundle` in-process; the CLI calls it for ``pki init``.
Rules:

 1. Idempotent. A file that exists and is valid — right CA, matching key, not expired, the
    subject, SANs and usages asked for, the right server URL in a kubeconfig — is kept.
    A missing file is issued from the existing CA.
 2. Nothing is ever silently overwritten. An existing file that is not valid is an error that
    names the file, says what is wrong, and suggests ``--force NAME``; ``--force NAME|all``
    reissues leaves and kubeconfigs, never a CA and never ``sa.key`` (that would invalidate
    every certificate, or every service-account token, issued before).
 3. Everything is read and checked before anything is written, so bad input leaves the
    directory exactly as it was.
 4. Keys are written 0600, certificates and ``sa.pub`` 0644, each atomically; kubeconfigs 0600.
 5. Keys this tool reads back from the directory are compared, not trusted from elsewhere, so
    the slow RSA consistency check is skipped: a re-run costs milliseconds, not seconds.
 6. The service-account key follows ``--key-algorithm``, except that Ed25519 becomes ECDSA P-256:
    the API server does not verify Ed25519 service-account tokens.
 7. With ``retarget_kubeconfigs`` (``kubeward up``, which owns its directory), a kubeconfig whose
    only fault is its server URL — the port or address changed — gets the new URL and keeps its
    certificate and key (``retargeted``). No certificate names the port, so nothing else changes;
    ``pki init`` still asks for ``--force`` (the directory may be someone else's).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography import x509

from kubeward.errors import InputError
from kubeward.fileio import (
    PRIVATE,
    PUBLIC,
    make_private_dirs,
    open_to_others,
    read_bytes,
    write_atomic,
)
from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import (
    PrivateKey,
    as_supported_public_key,
    generate_private_keys,
    private_key_pem,
    public_key_pem,
    same_public_key,
)
from kubeward.pki.kubeconfigs import read_kubeconfig
from kubeward.pki.layout import (
    PKI_DIR,
    SA_KEY_FILE,
    SA_PUB_FILE,
    BundleOptions,
    CASpec,
    Layout,
    LeafSpec,
    cert_path,
    key_path,
    plan,
)
from kubeward.pki.names import AltNames, build_subject, common_name, organizations
from kubeward.pki.profiles import CertificateUsages, not_a_ca_reason
from kubeward.pki.reading import load_certificate, load_private_key, read_public_key
from kubeward.pki.verify import key_matches, signed_by

CREATED = "created"
KEPT = "kept"
REISSUED = "reissued"
RETARGETED = "retargeted"


@dataclass(frozen=True)
class BundleResult:
    """What :func:`ensure_bundle` did, name by name, and where the files are."""

    layout: Layout
    actions: tuple[tuple[str, str], ...]

    @property
    def directory(self) -> Path:
        return self.layout.directory

    @property
    def pki_dir(self) -> Path:
        return self.layout.pki_dir

    @property
    def server(self) -> str:
        return self.layout.server

    def names(self, action: str) -> list[str]:
        """The names that were ``created``, ``kept`` or ``reissued``."""
        return [name for name, done in self.actions if done == action]

    def cert_and_key(self, name: str) -> tuple[Path, Path]:
        """The files of CA or leaf ``name`` (``ca``, ``apiserver``, ``etcd-server`` ...)."""
        for ca in self.layout.cas:
            if ca.name == name:
                return cert_path(self.pki_dir, ca.base), key_path(self.pki_dir, ca.base)
        spec = self.layout.leaf(name)
        if not spec.base:
            raise InputError(f"{name!r}: embedded in a kubeconfig, not a file pair")
        return cert_path(self.pki_dir, spec.base), key_path(self.pki_dir, spec.base)

    def kubeconfig(self, name: str) -> Path:
        """The path of kubeconfig ``name`` (``admin.conf``, ``kubelet-worker-1.conf`` ...)."""
        return self.directory / self.layout.leaf(name).kubeconfig


@dataclass
class _CAState:
    spec: CASpec
    cert: x509.Certificate | None = None
    authority: CertificateAuthority | None = None
    create: bool = False


@dataclass
class _Work:
    """The plan of one run: what to create, after everything has been checked."""

    cas: dict[str, _CAState] = field(default_factory=dict)
    create_sa: bool = False
    leaves: list[tuple[LeafSpec, str]] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)


def ensure_bundle(options: BundleOptions, *, now: datetime.datetime | None = None) -> BundleResult:
    """Create whatever of the PKI in ``options.directory`` is missing (see the module rules).

    Raises:
        InputError: an option is unusable, or an existing file is not what the PKI needs.
    """
    layout = plan(options)
    make_private_dirs(layout.pki_dir)  # the data directory too, when it is new (fileio rule 4)
    now = now or datetime.datetime.now(datetime.UTC)
    work = _Work()
    for spec in layout.cas:
        work.cas[spec.name] = _inspect_ca(layout, spec, now)
        work.actions.append((spec.name, CREATED if work.cas[spec.name].create else KEPT))
    work.create_sa = _inspect_service_account_key(layout)
    work.actions.append(("sa", CREATED if work.create_sa else KEPT))
    force_all = "all" in options.force
    for leaf in layout.leaves:
        forced = force_all or leaf.name in options.force
        action = _inspect_leaf(
            layout, leaf, work.cas[leaf.ca], forced, now, options.retarget_kubeconfigs
        )
        work.actions.append((leaf.name, action))
        if action != KEPT:
            work.leaves.append((leaf, action))
    _write(layout, options, work, now)
    return BundleResult(layout, tuple(work.actions))


def open_directories(directory: Path) -> list[str]:
    """A warning for the data directory and its ``pki/`` when others can reach them.

    Files keep their own 0600, but a group- or world-writable directory lets another local user
    replace ``ca.crt`` or a kubeconfig; new directories are made 0700, existing ones are told of.
    """
    warnings = []
    for place in (directory, directory / PKI_DIR):
        bits = open_to_others(place)
        if bits:
            warnings.append(
                f"{place}: mode {oct(0o700 | bits)[2:]} lets other users reach the cluster's "
                f"keys and certificates; run: chmod 700 {place}"
            )
    return warnings


def _inspect_ca(layout: Layout, spec: CASpec, now: datetime.datetime) -> _CAState:
    crt, key = cert_path(layout.pki_dir, spec.base), key_path(layout.pki_dir, spec.base)
    if not crt.exists() and not key.exists():
        return _CAState(spec, create=True)
    if not crt.exists():
        raise InputError(f"{key}: exists without {crt.name}; refusing to replace the CA key")
    if key.exists():
        authority = CertificateAuthority.from_files(crt, key, validate_key=False)
        cert = authority.cert
    else:
        authority, cert = None, load_certificate(crt)
        reason = not_a_ca_reason(cert)
        if reason:
            raise InputError(f"{crt}: not a CA certificate ({reason})")
    if cert.not_valid_after_utc <= now:
        raise InputError(
            f"{crt}: the {spec.name} CA expired on {cert.not_valid_after_utc:%Y-%m-%d}; "
            "move the directory away and run init again (CAs are never reissued in place)"
        )
    return _CAState(spec, cert, authority)


def _inspect_service_account_key(layout: Layout) -> bool:
    key_file, pub_file = layout.pki_dir / SA_KEY_FILE, layout.pki_dir / SA_PUB_FILE
    if not key_file.exists() and not pub_file.exists():
        return True
    if not key_file.exists():
        raise InputError(f"{pub_file}: exists without {SA_KEY_FILE}; refusing to replace it")
    key = load_private_key(key_file, validate=False)
    if not pub_file.exists():
        raise InputError(f"{key_file}: exists without {SA_PUB_FILE}; refusing to replace it")
    public = read_public_key(read_bytes(pub_file), str(pub_file))
    if not same_public_key(key, public):
        raise InputError(f"{pub_file}: does not match {SA_KEY_FILE}")
    return False


def _inspect_leaf(
    layout: Layout,
    spec: LeafSpec,
    ca: _CAState,
    forced: bool,
    now: datetime.datetime,
    retarget: bool = False,
) -> str:
    paths = _leaf_paths(layout, spec)
    present = [p for p in paths if p.exists()]
    if ca.create:
        if present:
            raise InputError(
                f"{present[0]}: exists but its CA ({ca.spec.base}.crt) does not; "
                "it cannot be checked or kept (move it away)"
            )
        return CREATED
    if (not present or forced) and ca.authority is None:
        raise InputError(
            f"{key_path(layout.pki_dir, ca.spec.base)}: missing, so {spec.name} cannot be issued "
            "(the CA is externally managed)"
        )
    if forced:
        return REISSUED if present else CREATED
    if not present:
        return CREATED
    if len(present) < len(paths):
        missing = next(p for p in paths if not p.exists())
        raise InputError(f"{missing}: missing while {present[0].name} exists; {_hint(spec)}")
    assert ca.cert is not None
    problem = _leaf_problem(layout, spec, ca.cert, now, any_server=retarget)
    if problem:
        raise InputError(f"{problem}; {_hint(spec)}")
    if retarget and spec.kubeconfig and _kubeconfig_server(layout, spec) != layout.server:
        return RETARGETED
    return KEPT


def _hint(spec: LeafSpec) -> str:
    return f"run with --force {spec.name} to reissue it"


def _leaf_paths(layout: Layout, spec: LeafSpec) -> list[Path]:
    if spec.kubeconfig:
        return [layout.directory / spec.kubeconfig]
    return [key_path(layout.pki_dir, spec.base), cert_path(layout.pki_dir, spec.base)]


def _kubeconfig_server(layout: Layout, spec: LeafSpec) -> str:
    creds = read_kubeconfig(layout.directory / spec.kubeconfig, validate_keys=False)
    cluster = creds.cluster(creds.current_cluster)
    return cluster.server if cluster else ""


def _retarget(path: Path, server: str) -> None:
    """Rule 7: the current context's cluster gets ``server``; everything else stays."""
    document = yaml.safe_load(read_bytes(path))
    current = next(
        (
            c.get("context", {}).get("cluster")
            for c in document.get("contexts") or []
            if c.get("name") == document.get("current-context")
        ),
        None,
    )
    for entry in document.get("clusters") or []:
        if entry.get("name") == current:
            entry["cluster"]["server"] = server
    write_kubeconfig(path, document, overwrite=True)


def _leaf_problem(
    layout: Layout,
    spec: LeafSpec,
    ca_cert: x509.Certificate,
    now: datetime.datetime,
    *,
    any_server: bool = False,
) -> str:
    """Why an existing leaf cannot be kept, as ``<file>: <problem>``; ``""`` if it can.

    With ``any_server``, a kubeconfig's server URL is not a problem (rule 7).
    """
    if spec.kubeconfig:
        path = layout.directory / spec.kubeconfig
        creds = read_kubeconfig(path, validate_keys=False)
        user = creds.user(creds.current_user) or (creds.users[0] if creds.users else None)
        if user is None:
            return f"{path}: has no client certificate"
        cluster = creds.cluster(creds.current_cluster)
        if cluster is None or (cluster.server != layout.server and not any_server):
            found = cluster.server if cluster else "none"
            return f"{path}: server is {found}, not {layout.server}"
        if ca_cert not in cluster.ca_certs:
            return f"{path}: does not trust the {spec.ca} CA in {layout.pki_dir}"
        cert, key, where = user.cert, user.key, path
    else:
        where = cert_path(layout.pki_dir, spec.base)
        cert = load_certificate(where)
        key = load_private_key(key_path(layout.pki_dir, spec.base), validate=False)
    return _certificate_problem(spec, cert, key, ca_cert, now, where)


def _certificate_problem(
    spec: LeafSpec,
    cert: x509.Certificate,
    key: PrivateKey | None,
    ca_cert: x509.Certificate,
    now: datetime.datetime,
    where: Path,
) -> str:
    if key is None or not key_matches(cert, key):
        return f"{where}: the private key does not match the certificate"
    if not signed_by(cert, ca_cert):
        return f"{where}: not signed by the {spec.ca} CA"
    if cert.not_valid_after_utc <= now:
        return f"{where}: expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    if (
        common_name(cert.subject) != spec.common_name
        or organizations(cert.subject) != spec.organizations
    ):
        return f"{where}: subject is {cert.subject.rfc4514_string()}, not {build_subject(spec.common_name, spec.organizations).rfc4514_string()}"
    missing = spec.alt_names.missing_from(AltNames.of(cert))
    if missing:
        return f"{where}: lacks the SANs {', '.join(missing)}"
    wanted = CertificateUsages.for_profile(
        spec.profile, as_supported_public_key(cert.public_key(), str(where))
    ).extended
    present = _extended_oids(cert)
    lacking = [oid._name for oid in wanted if oid not in present]
    if lacking:
        return f"{where}: lacks the extended key usage {', '.join(lacking)}"
    return ""


def _extended_oids(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def _write(layout: Layout, options: BundleOptions, work: _Work, now: datetime.datetime) -> None:
    """Phase two: generate every key at once (in parallel), then issue and write."""
    new_cas = [state for state in work.cas.values() if state.create]
    sa_algorithm = "ecdsa-p256" if options.key_algorithm == "ed25519" else options.key_algorithm
    shared_sa = work.create_sa and sa_algorithm == options.key_algorithm
    issued = [leaf for leaf, action in work.leaves if action != RETARGETED]
    count = len(new_cas) + len(issued) + (1 if shared_sa else 0)
    keys = generate_private_keys(options.key_algorithm, count)
    if work.create_sa:
        sa_key = keys.pop() if shared_sa else generate_private_keys(sa_algorithm, 1)[0]
        write_atomic(layout.pki_dir / SA_KEY_FILE, private_key_pem(sa_key), PRIVATE)
        write_atomic(layout.pki_dir / SA_PUB_FILE, public_key_pem(sa_key), PUBLIC)
    for state in new_cas:
        authority = CertificateAuthority.create(
            state.spec.common_name, options.ca_validity, key=keys.pop(), now=now
        )
        _write_pair(layout.pki_dir, state.spec.base, authority.cert, authority.key, overwrite=False)
        state.authority, state.cert = authority, authority.cert
    for spec, action in work.leaves:
        if action == RETARGETED:
            _retarget(layout.directory / spec.kubeconfig, layout.server)
            continue
        signer = work.cas[spec.ca].authority
        assert signer is not None
        key = keys.pop()
        cert = signer.issue(
            key.public_key(),
            build_subject(spec.common_name, spec.organizations),
            spec.profile,
            options.cert_validity,
            alt_names=spec.alt_names,
            now=now,
        )
        overwrite = action == REISSUED
        if spec.kubeconfig:
            document = client_certificate_kubeconfig(
                cluster_name=layout.cluster_name,
                server=layout.server,
                ca_pem=signer.cert_pem,
                user_name=spec.common_name,
                cert_pem=certificate_pem(cert),
                key_pem=private_key_pem(key),
            )
            write_kubeconfig(layout.directory / spec.kubeconfig, document, overwrite=overwrite)
        else:
            _write_pair(layout.pki_dir, spec.base, cert, key, overwrite=overwrite)


def _write_pair(
    pki_dir: Path, base: str, cert: x509.Certificate, key: PrivateKey, *, overwrite: bool
) -> None:
    write_atomic(key_path(pki_dir, base), private_key_pem(key), PRIVATE, overwrite=overwrite)
    write_atomic(cert_path(pki_dir, base), certificate_pem(cert), PUBLIC, overwrite=overwrite)
