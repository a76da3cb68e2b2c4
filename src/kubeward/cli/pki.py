"""``kubeward pki``: create, inspect, audit and renew a cluster PKI.

The commands are thin: they parse flags, call :mod:`kubeward.pki`, and print. Bad input raises
:class:`~kubeward.errors.InputError`, which the entry point prints as one ``error:`` line with
exit code 1; bad flag values are click usage errors (exit code 2). ``check`` and ``audit`` use
exit codes 3-5 for what they found (see their help).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from kubeward.errors import InputError
from kubeward.fileio import PRIVATE, PUBLIC, read_bytes, write_atomic
from kubeward.pki.duration import EXAMPLES, parse_duration
from kubeward.pki.keys import DEFAULT_ALGORITHM, KEY_ALGORITHMS

HELP = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


if TYPE_CHECKING:
    _ParamType = click.ParamType[datetime.timedelta]
else:  # click < 8.2 has no generic ParamType
    _ParamType = click.ParamType


class DurationType(_ParamType):
    """A positive Go-style duration (``8760h``, ``30d``, ``90m``)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        try:
            parsed = parse_duration(str(value))
        except InputError as exc:
            self.fail(str(exc), param, ctx)
        if parsed <= datetime.timedelta(0):
            self.fail(f"{value!r}: must be positive ({EXAMPLES})", param, ctx)
        return parsed


DURATION = DurationType()


def _emit(data: bytes, out: str | None, mode: int, force: bool) -> None:
    """Write ``data`` to ``out`` atomically with ``mode``, or to stdout when ``out`` is None or ``-``."""
    if out is None or out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomic(out, data, mode, overwrite=force)
    click.echo(f"wrote {out}", err=True)


def _passphrase(path: str | None) -> bytes | None:
    from kubeward.pki.reading import read_password_file

    return read_password_file(path) if path else None


@click.group(context_settings=HELP)
def pki() -> None:
    """Create, inspect, audit and renew a cluster PKI (kubeadm's layout and profiles).

    \b
    Typical use:
      kubeward pki init --dir ./cluster --node worker-1=10.0.0.21
      kubeward pki check --dir ./cluster --warn 30d
      kubeward pki audit ./cluster -o html --out audit.html
      kubeward pki renew all --dir ./cluster
    """


@pki.command(context_settings=HELP)
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to hold the kubeconfigs and pki/ (like /etc/kubernetes).",
)
@click.option(
    "--cluster-name",
    default="kubernetes",
    show_default=True,
    help="Cluster name written into the kubeconfigs.",
)
@click.option(
    "--advertise-address",
    default="127.0.0.1",
    show_default=True,
    help="IP the API server is reached at; goes into its SANs and the server URL.",
)
@click.option(
    "--port", default=6443, show_default=True, type=int, help="API server port for the server URL."
)
@click.option(
    "--server",
    default="",
    help="Server URL for the kubeconfigs (default https://<advertise-address>:<port>); its host is added to the API server SANs.",
)
@click.option(
    "--apiserver-cert-extra-sans",
    multiple=True,
    metavar="NAME|IP,...",
    help="Extra names and IPs for the API server certificate (comma-separated, repeatable).",
)
@click.option(
    "--service-cidr",
    default="10.96.0.0/12",
    show_default=True,
    help="Service CIDR; its first IP (the kubernetes Service) goes into the API server SANs.",
)
@click.option(
    "--dns-domain",
    default="cluster.local",
    show_default=True,
    help="Cluster DNS domain, for kubernetes.default.svc.<domain>.",
)
@click.option(
    "--node",
    "nodes",
    multiple=True,
    metavar="NAME[=IP]",
    help="A node: kubelet serving cert pki/kubelet-NAME.* and kubelet-NAME.conf (repeatable).",
)
@click.option(
    "--etcd-member",
    "etcd_members",
    multiple=True,
    metavar="NAME[=IP]",
    help="An etcd member with server and peer certs; the first is pki/etcd/server.* (repeatable; default: this host).",
)
@click.option(
    "--node-name",
    "host_name",
    default="",
    help="This host's name for the SANs and the default etcd member (default: the host name).",
)
@click.option(
    "--key-algorithm",
    type=click.Choice(KEY_ALGORITHMS),
    default=DEFAULT_ALGORITHM,
    show_default=True,
    help="Algorithm of every new key.",
)
@click.option(
    "--cert-validity",
    type=DURATION,
    default="8760h",
    show_default=True,
    help="Validity of leaf certificates.",
)
@click.option(
    "--ca-validity", type=DURATION, default="87600h", show_default=True, help="Validity of new CAs."
)
@click.option(
    "--force",
    multiple=True,
    metavar="NAME|all",
    help="Reissue this leaf or kubeconfig even if valid (repeatable; 'all' for every leaf). CAs and sa.key are never reissued.",
)
def init(
    directory: Path, nodes: tuple[str, ...], etcd_members: tuple[str, ...], **flags: Any
) -> None:
    """Create the cluster PKI and kubeconfigs in the kubeadm layout.

    Idempotent: valid files are kept and missing ones issued from the existing CAs. An existing
    file that is not valid is an error naming the file; nothing is overwritten without --force.
    """
    from kubeward.pki.bundle import ensure_bundle, open_directories
    from kubeward.pki.layout import BundleOptions, Member

    options = BundleOptions(
        directory=directory,
        nodes=tuple(Member.parse(n, "--node") for n in nodes),
        etcd_members=tuple(Member.parse(m, "--etcd-member") for m in etcd_members),
        **flags,
    )
    result = ensure_bundle(options)
    for warning in open_directories(directory):
        click.echo(f"warning: {warning}", err=True)
    for name, action in result.actions:
        click.echo(f"{action:<9} {name}")
    counts = {a: len(result.names(a)) for a in ("created", "kept", "reissued")}
    click.echo(
        f"PKI in {result.directory}: {counts['created']} created, {counts['kept']} kept, "
        f"{counts['reissued']} reissued; API server {result.server}"
    )


@pki.command(context_settings=HELP)
@click.option(
    "--algorithm",
    type=click.Choice(KEY_ALGORITHMS),
    default=DEFAULT_ALGORITHM,
    show_default=True,
    help="Key algorithm.",
)
@click.option("--out", metavar="FILE", help="Write the key here (mode 0600) instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def keygen(algorithm: str, out: str | None, force: bool) -> None:
    """Generate a private key (like `openssl genrsa -out jane.key 2048`), PKCS#8 PEM."""
    from kubeward.pki.keys import generate_private_key, private_key_pem

    _emit(private_key_pem(generate_private_key(algorithm)), out, PRIVATE, force)


@pki.command(context_settings=HELP)
@click.option(
    "--key",
    "key_file",
    required=True,
    metavar="FILE",
    help="Private key (PEM or DER; PKCS#1, SEC1 or PKCS#8; openssl's work too).",
)
@click.option("--cn", required=True, help="Common name: the Kubernetes user name.")
@click.option("--org", "orgs", multiple=True, help="Organization: a Kubernetes group (repeatable).")
@click.option(
    "--san",
    "sans",
    multiple=True,
    metavar="NAME|IP",
    help="Subject alternative name for a server certificate (repeatable).",
)
@click.option(
    "--passphrase-file", metavar="FILE", help="File holding the passphrase of an encrypted key."
)
@click.option("--out", metavar="FILE", help="Write the CSR here instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def csr(
    key_file: str,
    cn: str,
    orgs: tuple[str, ...],
    sans: tuple[str, ...],
    passphrase_file: str | None,
    out: str | None,
    force: bool,
) -> None:
    """Create a certificate signing request (like `openssl req -new -key jane.key -subj "/CN=jane/O=dev"`)."""
    from kubeward.pki.csr import build_csr, csr_pem
    from kubeward.pki.names import AltNames
    from kubeward.pki.reading import load_private_key

    key = load_private_key(key_file, _passphrase(passphrase_file))
    request = build_csr(key, cn, orgs, AltNames.parse(sans, "--san"))
    _emit(csr_pem(request), out, PUBLIC, force)


@pki.command(context_settings=HELP)
@click.option(
    "--csr",
    "csr_file",
    required=True,
    metavar="FILE",
    help="The request (PEM or DER, e.g. from `openssl req`).",
)
@click.option(
    "--ca-dir",
    required=True,
    metavar="DIR",
    help="Directory with ca.crt and ca.key (or its pki/ subdirectory); use DIR/pki/etcd for the etcd CA.",
)
@click.option(
    "--profile",
    type=click.Choice(["client", "server", "peer"]),
    required=True,
    help="client: clientAuth; server: serverAuth; peer: both.",
)
@click.option(
    "--duration",
    type=DURATION,
    default="8760h",
    show_default=True,
    help="Validity (never past the CA's own expiry).",
)
@click.option("--out", metavar="FILE", help="Write the certificate here instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def sign(
    csr_file: str,
    ca_dir: str,
    profile: str,
    duration: datetime.timedelta,
    out: str | None,
    force: bool,
) -> None:
    """Sign a CSR with a CA (like `openssl x509 -req -in jane.csr -CA ca.crt -CAkey ca.key`).

    The subject and SANs come from the request, whose own signature must verify; the usages
    come from --profile, never from the request.
    """
    from kubeward.pki.ca import CertificateAuthority, certificate_pem
    from kubeward.pki.profiles import Profile, is_v1_root
    from kubeward.pki.reading import load_csr

    request = load_csr(csr_file)
    authority = CertificateAuthority.from_dir(ca_dir)
    if is_v1_root(authority.cert):
        click.echo(
            f"note: {ca_dir}: the CA is a version 1 self-signed certificate without extensions "
            "(as `openssl x509 -req -signkey` makes); it is used as a CA, as OpenSSL does",
            err=True,
        )
    cert = authority.sign_csr(request, Profile(profile), duration, source=csr_file)
    _emit(certificate_pem(cert), out, PUBLIC, force)


@pki.command(context_settings=HELP)
@click.option(
    "--dir",
    "directory",
    default=Path(".kubeward"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Directory holding pki/ and the kubeconfigs (`kubeward up --data-dir`'s default).",
)
@click.option(
    "--warn",
    type=DURATION,
    default=None,
    help="Exit 3 if anything expires within this window (e.g. 30d), 4 if anything is expired or missing.",
)
@click.option(
    "-o", "--output", type=click.Choice(["text", "json", "yaml"]), default="text", show_default=True
)
@click.pass_context
def check(
    ctx: click.Context, directory: Path, warn: datetime.timedelta | None, output: str
) -> None:
    """Show when every certificate expires, like `kubeadm certs check-expiration`.

    Includes the client certificates embedded in the kubeconfigs, then the CAs.
    """
    from kubeward.pki.check import check_expiration, render_text

    report = check_expiration(directory)
    if output == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif output == "yaml":
        click.echo(yaml.safe_dump(report.to_dict(), sort_keys=False), nl=False)
    else:
        click.echo(render_text(report), nl=False)
    ctx.exit(report.status(warn))


@pki.command(context_settings=HELP)
@click.argument("source", metavar="FILE|-")
@click.option("--passphrase-file", metavar="FILE", help="Passphrase of an encrypted private key.")
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def inspect(source: str, passphrase_file: str | None, output: str) -> None:
    """Show what a certificate, CSR, key or kubeconfig holds (PEM or DER; '-' reads stdin).

    The facts `openssl x509 -text -noout` shows, readable. Keys are described by type, size and
    public-key fingerprint; key material is never printed.
    """
    from kubeward.pki.inspect import describe_decoded, render_text
    from kubeward.pki.kubeconfigs import parse_kubeconfig
    from kubeward.pki.reading import decode, source_name

    name = source_name(source)
    data = sys.stdin.buffer.read() if source == "-" else read_bytes(source)
    if not data.strip():
        raise InputError(f"{name}: empty")
    decoded = decode(data, name, _passphrase(passphrase_file))
    creds = None
    if decoded.kubeconfig is not None:
        base = Path.cwd() / "stdin" if source == "-" else Path(source)
        creds = parse_kubeconfig(decoded.kubeconfig, base)
    document = describe_decoded(decoded, name, creds)
    if output == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(render_text(document), nl=False)


@pki.command(context_settings=HELP)
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--kubeconfig",
    "kubeconfigs",
    multiple=True,
    metavar="FILE",
    help="Also audit this kubeconfig (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option("--out", metavar="FILE", help="Write the report here instead of stdout.")
@click.option(
    "--warn",
    type=DURATION,
    default="30d",
    show_default=True,
    help="Report certificates that expire within this window.",
)
@click.option(
    "--expect-san",
    "expected",
    multiple=True,
    metavar="NAME|IP",
    help="A name the API server is reached by, beyond the kubeconfigs' servers (repeatable).",
)
@click.pass_context
def audit(
    ctx: click.Context,
    directory: Path,
    kubeconfigs: tuple[str, ...],
    output: str,
    out: str | None,
    warn: datetime.timedelta,
    expected: tuple[str, ...],
) -> None:
    """Audit every certificate in DIR (files, kubeconfigs, etcd/): the debugging spreadsheet.

    Lists each certificate's subject, issuer, the CA that actually verifies it, SANs, validity
    and usages, and each problem with a severity and a one-line fix.

    \b
    Exit code: 0 clean (or info only), 3 warning, 4 error, 5 critical.
    """
    from kubeward.pki.audit import audit as run_audit
    from kubeward.pki.findings import AuditOptions
    from kubeward.pki.report import render_csv, render_json, render_text
    from kubeward.pki.report_html import render_html

    report = run_audit(
        directory, kubeconfigs, AuditOptions(warn_window=warn, expected_apiserver_names=expected)
    )
    renderers = {"table": render_text, "csv": render_csv, "json": render_json, "html": render_html}
    _emit(renderers[output](report).encode("utf-8"), out, PUBLIC, True)
    ctx.exit(report.exit_code)


@pki.command(context_settings=HELP)
@click.argument("names", nargs=-1, required=True, metavar="NAME...|all")
@click.option(
    "--dir",
    "directory",
    default=Path(".kubeward"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Directory holding pki/ and the kubeconfigs (`kubeward up --data-dir`'s default).",
)
@click.option(
    "--cert-validity",
    type=DURATION,
    default="8760h",
    show_default=True,
    help="Validity of the renewed certificates.",
)
def renew(names: tuple[str, ...], directory: Path, cert_validity: datetime.timedelta) -> None:
    """Reissue leaf certificates with the same subject, SANs and CA, and a new key.

    NAME is what `pki check` lists (apiserver, etcd-server, admin.conf, ...) or 'all'.
    Client certificates embedded in the kubeconfigs are renewed in place. CAs are never renewed.
    """
    from kubeward.pki.renew import renew as run_renew

    for name in run_renew(directory, names, validity=cert_validity):
        click.echo(f"renewed {name}")
