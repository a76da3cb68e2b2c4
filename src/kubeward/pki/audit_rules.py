"""The audit's rules: each looks at one certificate (or one file) and may report a finding.

Rules, in the order the issue lists them (severity in brackets, policy in :mod:`.audit`):

  1. expired [critical]; not yet valid [error]; expiring within the window [warning].
  2. issuer named but signature does not verify — a fake issuer [critical]; issuer not in the
     tree [error].
  3. private key does not match the certificate [critical]; key file unreadable [warning].
  4. API server certificate lacks a name it is reached by [error]: the ``kubernetes`` Service
     names, every kubeconfig server that trusts its CA, and names given with ``--expect-san``.
  5. server certificate without serverAuth, client certificate without clientAuth [error]
     (no extendedKeyUsage at all means "any purpose": [warning]).
  6. leaf with CA:TRUE [critical]; CA whose keyUsage lacks keyCertSign [error].
  7. RSA key below 2048 bits (ECDSA below 256) [error].
  8. SHA-1 signature [error]; MD5 [critical].
  9. etcd certificate verified by the cluster CA instead of a separate etcd CA [error].
 10. kubelet client certificate whose CN is not ``system:node:NAME`` or lacks
     ``O=system:nodes`` [error].
 11. ``O=system:masters`` on a cluster-CA client certificate outside super-admin.conf [error].
 12. a kubeconfig that does not trust the CA of the API server certificate [error].
 13. (files, not certificates: :mod:`.audit_files`).
 14. Roles come from the certificate itself, so that a file's name does not change the findings:
     a server certificate has serverAuth, SANs or the API server's CN; a client certificate has
     clientAuth, sits in a kubeconfig, or is a plain identity (no SANs, not a CA). The files of
     the kubeadm layout under ``pki/`` (``apiserver``, ``*-client``, ``etcd-server``,
     ``etcd-peer``, ``kubelet-NAME``) also have the role kube-apiserver, etcd and kubelet give
     them.
 15. a leaf whose keyUsage lacks what OpenSSL requires for its role — digitalSignature,
     keyEncipherment or keyAgreement for a server, digitalSignature or keyAgreement for a client —
     [error]: curl refuses it ("unsuitable certificate purpose") although Go clients ignore it.
 16. A certificate that signs others here without being a CA for OpenSSL (a v3 certificate
     without basicConstraints CA:TRUE) [error]; a version 1 self-signed CA, which OpenSSL trusts
     as a root, is only noted [info].
"""

from __future__ import annotations

import datetime
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kubeward.pki import names
from kubeward.pki.duration import short_human_duration
from kubeward.pki.findings import AuditOptions, Finding, Severity
from kubeward.pki.inventory import FoundCertificate, Inventory
from kubeward.pki.names import AltNames, common_name, organizations
from kubeward.pki.profiles import (
    claims_ca,
    extended_key_usages,
    is_ca,
    is_v1_root,
    key_usages,
    not_a_ca_reason,
)
from kubeward.pki.trust import TrustIndex, fingerprint
from kubeward.pki.verify import IssuerStatus, key_matches

IN_CLUSTER_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc")
# Rule 14: the roles of the kubeadm layout's files under pki/ (kubelet-NAME is kubeward's).
LAYOUT_ROLES = {
    "apiserver": "apiserver",
    "apiserver-kubelet-client": "client",
    "apiserver-etcd-client": "client",
    "front-proxy-client": "client",
    "etcd-healthcheck-client": "client",
}
LAYOUT_ROLE_PREFIXES = (("etcd-server", "peer"), ("etcd-peer", "peer"), ("kubelet-", "server"))
# Rule 15: OpenSSL's purpose checks (check_purpose_ssl_server / _client) want one of these bits.
OPENSSL_SERVER_KEY_USAGES = ("digital signature", "key encipherment", "key agreement")
OPENSSL_CLIENT_KEY_USAGES = ("digital signature", "key agreement")
KUBELET_KUBECONFIG_PREFIX = "kubelet"


def certificate_findings(
    found: FoundCertificate,
    index: TrustIndex,
    inventory: Inventory,
    options: AuditOptions,
    now: datetime.datetime,
) -> list[Finding]:
    """Every finding about one certificate (rules 1-12)."""
    out: list[Finding] = []
    ctx = _Context(found, index, inventory, options, now, out)
    ctx.validity()
    ctx.issuer()
    ctx.key()
    ctx.apiserver_names()
    ctx.usages()
    ctx.tls_key_usage()
    ctx.ca_flags()
    ctx.strength()
    ctx.etcd_trust()
    ctx.kubelet_identity()
    ctx.masters()
    ctx.kubeconfig_trust()
    return out


def _cluster_dir(path: Path) -> Path:
    """The directory holding ``pki/`` for a file inside it; a kubeconfig's own directory."""
    for parent in path.parents:
        if parent.name == "pki":
            return parent.parent
    return path.parent


def _usage_words(present: list[str]) -> str:
    return ", ".join(
        "nonRepudiation (content commitment)" if word == "content commitment" else word
        for word in present
    )


@dataclass
class _Context:
    found: FoundCertificate
    index: TrustIndex
    inventory: Inventory
    options: AuditOptions
    now: datetime.datetime
    out: list[Finding]

    @property
    def cert(self) -> x509.Certificate:
        return self.found.cert

    @property
    def name(self) -> str:
        return self.found.name

    def add(self, severity: Severity, code: str, message: str, fix: str) -> None:
        self.out.append(Finding(severity, code, self.found.label, message, fix))

    def renew_fix(self) -> str:
        if self.index.acts_as_ca(self.found):
            return (
                "create a new CA (kubeward pki init in a new directory) and reissue what it signed"
            )
        return f"kubeward pki renew {self.name.split(':')[0]} --dir {_cluster_dir(self.found.path)}"

    # rule 1
    def validity(self) -> None:
        after, before = self.cert.not_valid_after_utc, self.cert.not_valid_before_utc
        if after <= self.now:
            self.add(
                Severity.CRITICAL,
                "expired",
                f"expired on {after:%Y-%m-%d %H:%M} UTC",
                self.renew_fix(),
            )
        elif before > self.now:
            self.add(
                Severity.ERROR,
                "not-yet-valid",
                f"not valid before {before:%Y-%m-%d %H:%M} UTC (clock skew on the issuer?)",
                f"check the issuing machine's clock, then {self.renew_fix()}",
            )
        elif after - self.now <= self.options.warn_window:
            left = short_human_duration(after - self.now)
            self.add(
                Severity.WARNING,
                "expiring-soon",
                f"expires in {left} ({after:%Y-%m-%d} UTC)",
                self.renew_fix(),
            )

    # rule 2
    def issuer(self) -> None:
        match = self.index.issuer_of(self.found)
        issuer = self.cert.issuer.rfc4514_string()
        if match.status is IssuerStatus.FAKE_ISSUER:
            self.add(
                Severity.CRITICAL,
                "fake-issuer",
                f"claims issuer {issuer}, but that CA's key does not verify its signature",
                f"treat it as forged: find who made it, then {self.renew_fix()}",
            )
        elif match.status is IssuerStatus.NOT_FOUND:
            self.add(
                Severity.ERROR,
                "issuer-not-found",
                f"issuer {issuer} is not in the tree; nothing here verifies it",
                "add the CA that signed it to the tree, or reissue it from one that is",
            )

    # rule 3
    def key(self) -> None:
        if self.found.key_error:
            self.add(
                Severity.WARNING,
                "key-unreadable",
                self.found.key_error,
                "fix or replace the key file",
            )
        elif self.found.key is not None and not key_matches(self.cert, self.found.key):
            where = self.found.key_path or self.found.path
            self.add(
                Severity.CRITICAL,
                "key-mismatch",
                f"private key {where.name} does not match the certificate",
                f"restore the matching key, or {self.renew_fix()}",
            )

    # rule 4
    def apiserver_names(self) -> None:
        if not self._is_apiserver():
            return
        alt = AltNames.of(self.cert)
        wanted = list(IN_CLUSTER_NAMES) + list(self.options.expected_apiserver_names)
        issuer = self.index.issuer_of(self.found).issuer
        for creds in self.inventory.kubeconfigs:
            for cluster in creds.clusters:
                host = urllib.parse.urlsplit(cluster.server).hostname if cluster.server else None
                if host and (issuer is None or issuer in cluster.ca_certs):
                    wanted.append(host)
        missing = []
        for host in dict.fromkeys(wanted):
            if not alt.matches_host(host):
                missing.append(host)
        if missing:
            extra = ",".join(missing)
            self.add(
                Severity.ERROR,
                "apiserver-missing-san",
                f"API server certificate lacks {', '.join(missing)}: clients reaching it by "
                "that name fail with x509: certificate is valid for ..., not ...",
                f"kubeward pki init --dir {_cluster_dir(self.found.path)} "
                f"--apiserver-cert-extra-sans {extra} --force apiserver",
            )

    def _is_apiserver(self) -> bool:
        return self.found.kubeconfig is None and (
            self._layout_role() == "apiserver"
            or common_name(self.cert.subject) == names.APISERVER_COMMON_NAME
        )

    # rule 5
    def usages(self) -> None:
        if self.index.acts_as_ca(self.found):
            return
        wanted = []
        if self._is_server():
            wanted.append("server auth")
        if self._is_client():
            wanted.append("client auth")
        if not wanted:
            return
        present = extended_key_usages(self.cert)
        if not present:
            self.add(
                Severity.WARNING,
                "no-extended-key-usage",
                "no extendedKeyUsage: the certificate is accepted for any purpose",
                f"reissue it with only {' and '.join(wanted)}: {self.renew_fix()}",
            )
            return
        for usage in wanted:
            if usage not in present and "any" not in present:
                role = "server" if usage == "server auth" else "client"
                eku = "serverAuth" if usage == "server auth" else "clientAuth"
                self.add(
                    Severity.ERROR,
                    f"{role}-without-{eku.lower()}",
                    f"{role} certificate without {eku} (it has: {', '.join(present)}); "
                    f"TLS peers reject it as a {role}",
                    f"reissue it with the {role} profile, e.g. kubeward pki sign --profile "
                    f"{'peer' if len(wanted) == 2 else role} --csr ...",
                )

    def _layout_role(self) -> str:
        """The role a file has by its place in the kubeadm layout under ``pki/`` (rule 14)."""
        if self.found.kubeconfig is not None or "pki" not in self.found.path.parts:
            return ""
        return LAYOUT_ROLES.get(self.name) or next(
            (role for prefix, role in LAYOUT_ROLE_PREFIXES if self.name.startswith(prefix)), ""
        )

    def _is_server(self) -> bool:
        """Rule 14: serverAuth, names of hosts (SANs), the API server's CN, or its kubeadm place."""
        if self.found.kubeconfig is not None:
            return False
        return (
            "server auth" in extended_key_usages(self.cert)
            or bool(AltNames.of(self.cert))
            or common_name(self.cert.subject) == names.APISERVER_COMMON_NAME
            or self._layout_role() in ("server", "peer")
        )

    def _is_client(self) -> bool:
        """Rule 14: in a kubeconfig, clientAuth, its kubeadm place, or a plain identity (no SANs)."""
        if self.found.kubeconfig is not None or "client auth" in extended_key_usages(self.cert):
            return True
        role = self._layout_role()
        if role:
            return role in ("client", "peer")
        return not self._is_server() and not self.index.acts_as_ca(self.found)

    def tls_key_usage(self) -> None:
        """Rule 15: a keyUsage that OpenSSL (curl) refuses for the certificate's TLS role."""
        if self.index.acts_as_ca(self.found):
            return
        present = key_usages(self.cert)
        if not present:
            return
        roles = [
            (role, needed)
            for role, wanted, needed in (
                ("server", self._is_server(), OPENSSL_SERVER_KEY_USAGES),
                ("client", self._is_client(), OPENSSL_CLIENT_KEY_USAGES),
            )
            if wanted
        ]
        for role, needed in roles:
            if not set(needed) & set(present):
                self.add(
                    Severity.ERROR,
                    f"{role}-key-usage-unsuitable",
                    f"{role} certificate whose keyUsage is only {_usage_words(present)}: curl and "
                    "other OpenSSL clients refuse it (unsuitable certificate purpose); Go clients "
                    "such as kubectl ignore keyUsage",
                    f"reissue it with keyUsage {' or '.join(needed)}: {self.renew_fix()}",
                )

    # rule 6
    def ca_flags(self) -> None:
        signs_nothing = not self.index.issuer_of_cert.get(fingerprint(self.cert), False)
        looks_like_leaf = (
            self.found.kubeconfig is not None
            or bool({"server auth", "client auth"} & set(extended_key_usages(self.cert)))
            or bool(AltNames.of(self.cert))
            or (signs_nothing and (self._is_server() or self._is_client()))
        )
        if claims_ca(self.cert) and looks_like_leaf:
            self.add(
                Severity.CRITICAL,
                "leaf-is-ca",
                "a leaf certificate with basicConstraints CA:TRUE: whoever holds its key can "
                "issue certificates the cluster trusts",
                f"reissue it as a leaf (CA:FALSE): {self.renew_fix()}",
            )
        elif (
            self.index.acts_as_ca(self.found) and not is_ca(self.cert) and not claims_ca(self.cert)
        ):
            self.add(
                Severity.ERROR,
                "signer-not-a-ca",
                f"signs certificates here but is not a CA for OpenSSL ({not_a_ca_reason(self.cert)}): "
                "openssl verify and curl refuse what it signs (invalid CA certificate); Go "
                "clients such as kubectl accept it as a root",
                "create a new CA (kubeward pki init) and reissue what it signed",
            )
        elif is_v1_root(self.cert):
            self.add(
                Severity.INFO,
                "version-1-ca",
                "a version 1 self-signed CA without extensions (as `openssl x509 -req -signkey` "
                "makes): OpenSSL, Go and kubeward trust it as a CA",
                "nothing needed; kubeward pki init makes v3 CAs with basicConstraints CA:TRUE",
            )
        elif claims_ca(self.cert):
            present = key_usages(self.cert)
            if present and "cert sign" not in present:
                self.add(
                    Severity.ERROR,
                    "ca-without-keycertsign",
                    "CA certificate whose keyUsage lacks keyCertSign: verifiers reject what it signs",
                    "create a new CA with keyCertSign (kubeward pki init) and reissue what it signed",
                )

    # rules 7 and 8
    def strength(self) -> None:
        public = self.cert.public_key()
        if isinstance(public, rsa.RSAPublicKey) and public.key_size < 2048:
            self.add(
                Severity.ERROR,
                "weak-rsa-key",
                f"RSA key of {public.key_size} bits (below 2048)",
                f"{self.renew_fix()} (the new key is RSA 2048 or stronger)",
            )
        if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.key_size < 256:
            self.add(
                Severity.ERROR, "weak-ec-key", f"EC key on {public.curve.name}", self.renew_fix()
            )
        try:
            algorithm = self.cert.signature_hash_algorithm
        except Exception:
            algorithm = None
        hash_name = algorithm.name if algorithm is not None else ""
        if hash_name == "md5":
            self.add(
                Severity.CRITICAL,
                "md5-signature",
                "signed with MD5 (collisions are practical)",
                f"{self.renew_fix()} (signs with SHA-256)",
            )
        elif hash_name == "sha1":
            self.add(
                Severity.ERROR,
                "sha1-signature",
                "signed with SHA-1 (rejected by Go since 1.18)",
                f"{self.renew_fix()} (signs with SHA-256)",
            )

    # rule 9
    def etcd_trust(self) -> None:
        if self.found.kubeconfig is not None or self.index.acts_as_ca(self.found):
            return
        if not (self.name.startswith("etcd-") or self.name == "apiserver-etcd-client"):
            return
        match = self.index.issuer_of(self.found)
        if match.issuer is not None and fingerprint(match.issuer) == self.index.cluster_ca:
            self.add(
                Severity.ERROR,
                "etcd-signed-by-cluster-ca",
                "etcd certificate signed by the cluster CA: etcd then trusts every client "
                "certificate of the cluster CA, and every user can read all Secrets",
                "use a separate etcd CA (pki/etcd/ca.crt): kubeward pki init creates one",
            )

    # rule 10
    def kubelet_identity(self) -> None:
        origin = self.found.kubeconfig
        from_kubeconfig = origin is not None and origin.file.name.startswith(
            KUBELET_KUBECONFIG_PREFIX
        )
        from_file = origin is None and self.name.startswith("kubelet") and "client" in self.name
        if not (from_kubeconfig or from_file):
            return
        cn = common_name(self.cert.subject)
        groups = organizations(self.cert.subject)
        node = cn[len(names.NODE_USER_PREFIX) :] if cn.startswith(names.NODE_USER_PREFIX) else ""
        file_node = ""
        if origin is not None and origin.file.name.startswith("kubelet-"):
            file_node = origin.file.name[len("kubelet-") :].removesuffix(".conf")
        target = file_node or "NAME"
        fix = (
            f"reissue with CN=system:node:{target}, O=system:nodes: kubeward pki init "
            f"--dir {_cluster_dir(self.found.path)} --node {target} --force kubelet-{target}.conf"
        )
        if not node:
            self.add(
                Severity.ERROR,
                "kubelet-bad-cn",
                f"kubelet client certificate CN={cn!r} is not system:node:NAME; the Node "
                "authorizer will not recognise this node",
                fix,
            )
        if names.NODES_GROUP not in groups:
            self.add(
                Severity.ERROR,
                "kubelet-missing-nodes-group",
                f"kubelet client certificate lacks O=system:nodes (it has O={','.join(groups) or 'none'})",
                fix,
            )

    # rule 11
    def masters(self) -> None:
        if names.SYSTEM_MASTERS not in organizations(self.cert.subject):
            return
        if self.index.acts_as_ca(self.found) or (self._is_server() and not self._is_client()):
            return
        origin = self.found.kubeconfig
        if origin is not None and origin.file.name == "super-admin.conf":
            return
        match = self.index.issuer_of(self.found)
        if (
            match.issuer is not None
            and self.index.cluster_ca
            and fingerprint(match.issuer) != self.index.cluster_ca
        ):
            return
        self.add(
            Severity.ERROR,
            "system-masters-outside-super-admin",
            "identity in system:masters, which bypasses RBAC and cannot be revoked; only "
            "super-admin.conf (break-glass) should carry it",
            "use O=kubeadm:cluster-admins (bound to cluster-admin by RBAC) and renew it",
        )

    # rule 12
    def kubeconfig_trust(self) -> None:
        origin = self.found.kubeconfig
        if origin is None or not origin.current or not origin.trusted_cas:
            return
        apiserver = self.inventory.by_name("apiserver")
        if apiserver is None:
            return
        issuer = self.index.issuer_of(apiserver).issuer
        if issuer is not None and issuer not in origin.trusted_cas:
            self.add(
                Severity.ERROR,
                "kubeconfig-untrusted-server",
                "the kubeconfig's certificate-authority-data is not the CA that signed the API "
                "server certificate: kubectl fails with x509: certificate signed by unknown authority",
                f"kubectl config set-cluster <cluster> --kubeconfig {origin.file} "
                "--certificate-authority <pki>/ca.crt --embed-certs",
            )
