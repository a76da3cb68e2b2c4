"""Benchmark: ``pki init`` against the openssl CLI sequence it replaces, and the audit of 1,000 certificates.

What is measured, each in the same run as its baseline:

1. A full ``pki init`` (3 nodes, 3 etcd members: 3 CAs, the service-account key, 21 leaf
   certificates and 7 kubeconfigs) through :func:`kubeward.pki.bundle.ensure_bundle`, with
   RSA-2048 and with ECDSA-P256. Baseline: the same keys and certificates made by the
   ``openssl genrsa|genpkey / req / x509 -req -CA -extfile`` sequence people run by hand,
   as one bash script (the kubeconfig YAML is not part of the baseline; it is cheap).
2. ``pki audit`` of a tree of 1,000 certificates with their keys. Baseline: what the manual
   spreadsheet takes — ``openssl x509 -noout -subject -issuer -enddate -ext ...`` and
   ``openssl verify -CAfile`` for each certificate, as one bash loop.

RSA key generation is random (prime search), so each figure is the median of several rounds.
Usage: ``python benchmarks/pki.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from kubeward.pki.audit import audit
from kubeward.pki.bundle import ensure_bundle
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_keys, private_key_pem
from kubeward.pki.layout import BundleOptions, LeafSpec, Member, plan
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile

NODES = tuple(Member.parse(f"worker-{i}=10.0.1.{i}") for i in (1, 2, 3))
MEMBERS = tuple(Member.parse(f"etcd-{i}=10.0.2.{i}") for i in (1, 2, 3))
EKU = {
    Profile.SERVER: "serverAuth",
    Profile.CLIENT: "clientAuth",
    Profile.PEER: "serverAuth,clientAuth",
}


def options(directory: Path, algorithm: str) -> BundleOptions:
    return BundleOptions(
        directory=directory,
        nodes=NODES,
        etcd_members=MEMBERS,
        key_algorithm=algorithm,
        host_name="cp-1",
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def openssl_script(directory: Path, algorithm: str) -> str:
    """The bash an administrator would write for the same PKI (see the module docstring)."""
    layout = plan(options(directory, algorithm))
    genkey = (
        "openssl genrsa -out {key} 2048 2>/dev/null"
        if algorithm == "rsa-2048"
        else "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {key}"
    )
    lines = ["set -euo pipefail", f"cd {directory}", "mkdir -p pki/etcd"]
    for ca in layout.cas:
        key, crt = f"pki/{ca.base}.key", f"pki/{ca.base}.crt"
        lines.append(genkey.format(key=key))
        lines.append(
            f'openssl req -x509 -new -key {key} -subj "/CN={ca.common_name}" -days 3650 -out {crt} '
            '-addext "basicConstraints=critical,CA:TRUE" '
            '-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"'
        )
    lines.append(genkey.format(key="pki/sa.key"))
    lines.append("openssl pkey -in pki/sa.key -pubout -out pki/sa.pub")
    ca_base = {ca.name: ca.base for ca in layout.cas}
    for index, leaf in enumerate(layout.leaves):
        lines.extend(_leaf_lines(leaf, index, ca_base[leaf.ca], genkey))
    return "\n".join(lines) + "\n"


def _leaf_lines(leaf: LeafSpec, index: int, ca_base: str, genkey: str) -> list[str]:
    base = leaf.base or f"kubeconfig-{index}"
    key, csr, crt, ext = (f"pki/{base}.{suffix}" for suffix in ("key", "csr", "crt", "ext"))
    subject = "".join(f"/O={org}" for org in leaf.organizations) + f"/CN={leaf.common_name}"
    sans = ",".join(
        [f"DNS:{d}" for d in leaf.alt_names.dns] + [f"IP:{i}" for i in leaf.alt_names.ips]
    )
    extensions = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={EKU[leaf.profile]}",
    ] + ([f"subjectAltName={sans}"] if sans else [])
    return [
        genkey.format(key=key),
        f'openssl req -new -key {key} -subj "{subject}" -out {csr}',
        f"printf '%s\\n' {' '.join(repr(e) for e in extensions)} > {ext}",
        f"openssl x509 -req -in {csr} -CA pki/{ca_base}.crt -CAkey pki/{ca_base}.key -CAcreateserial "
        f"-days 365 -extfile {ext} -out {crt} 2>/dev/null",
    ]


def bench_init(rounds: int) -> None:
    print(f"pki init, 3 nodes + 3 etcd members, median of {rounds} rounds")
    print(f"{'algorithm':<12}{'kubeward':>12}{'openssl CLI':>14}{'ratio':>10}")
    for algorithm in ("rsa-2048", "ecdsa-p256"):
        ours, theirs = [], []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as work:
                wanted = options(Path(work) / "k", algorithm)
                ours.append(timed(lambda: ensure_bundle(wanted)))  # noqa: B023 - called at once
                target = Path(work) / "o"
                target.mkdir()
                command = ["bash", "-c", openssl_script(target, algorithm)]
                theirs.append(timed(lambda: subprocess.run(command, check=True)))  # noqa: B023
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{algorithm:<12}{a:>11.3f}s{b:>13.3f}s{b / a:>9.1f}x")


def build_tree(root: Path, count: int) -> None:
    """One CA and ``count - 1`` client certificates with their keys (ECDSA, so building is quick)."""
    pki = root / "pki"
    pki.mkdir(parents=True)
    ca = CertificateAuthority.create(
        "kubernetes", datetime.timedelta(days=3650), algorithm="ecdsa-p256"
    )
    (pki / "ca.crt").write_bytes(ca.cert_pem)
    (pki / "ca.key").write_bytes(private_key_pem(ca.key))
    keys = generate_private_keys("ecdsa-p256", count - 1)
    for number, key in enumerate(keys):
        cert = ca.issue(
            key.public_key(),
            build_subject(f"user-{number}", ["dev"]),
            Profile.CLIENT,
            datetime.timedelta(days=365),
        )
        (pki / f"user-{number}-client.crt").write_bytes(certificate_pem(cert))
        key_file = pki / f"user-{number}-client.key"
        key_file.write_bytes(private_key_pem(key))
        os.chmod(key_file, 0o600)


def bench_audit(count: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        build_tree(root, count)
        report = None

        def run_audit() -> None:
            nonlocal report
            report = audit(root)

        ours = timed(run_audit)
        assert report is not None and len(report.rows) == count
        loop = (
            f"cd {root}/pki; for f in *.crt; do "
            "openssl x509 -in $f -noout -subject -issuer -enddate "
            "-ext subjectAltName,keyUsage,extendedKeyUsage >/dev/null 2>&1; "
            "openssl verify -CAfile ca.crt $f >/dev/null; done"
        )
        theirs = timed(lambda: subprocess.run(["bash", "-c", loop], check=True))
    print(f"\npki audit of {count} certificates (with their keys)")
    print(f"{'kubeward audit':<34}{ours:>9.3f}s  ({ours / count * 1000:.2f} ms per certificate)")
    print(f"{'openssl x509 + verify per cert':<34}{theirs:>9.3f}s")
    print(f"{'ratio':<34}{theirs / ours:>9.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per init figure (median)")
    parser.add_argument("--certificates", type=int, default=1000, help="size of the audited tree")
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        raise SystemExit("error: the baseline needs the openssl CLI")
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    bench_init(args.rounds)
    bench_audit(args.certificates)


if __name__ == "__main__":
    main()
