"""Client credentials from a kubeconfig: the TLS context and the request credentials.

Everything in kubeward that calls an API server (the HTTPS client, controllers, the node agent,
tests) gets its TLS setup here, so the rules are in one place:

 1. TLS 1.2 or newer; the server certificate is verified, and its name checked, against the
    cluster's ``certificate-authority-data`` (which wins) or ``certificate-authority`` file, or
    the system roots when neither is set — as client-go does.
 2. ``insecure-skip-tls-verify: true`` turns verification off, as client-go does; combining it
    with a CA is an error (client-go refuses it too).
 3. ``tls-server-name`` replaces the URL's host as the name the certificate must carry; callers
    pass :attr:`ClientCredentials.server_hostname` to their connection.
 4. A client certificate and key come from ``*-data`` (which wins) or files, both or neither.
    Embedded ones are handed to OpenSSL through an anonymous in-memory file (``memfd``), never
    written to disk; where that is unavailable, through a 0600 temporary file removed at once.
    An encrypted key is refused instead of prompting on the terminal.
 5. A bearer token comes from ``token`` or else ``tokenFile``; basic credentials from
    ``username``/``password``; having both kinds is an error, as in client-go.
 6. Exec plugins and auth providers are not run; a user that relies on one is an error, rather
    than a silently anonymous client.
 7. Relative file references resolve against the folder of the kubeconfig file they came from.
 8. Plain ``http://`` servers are refused: kubeward only speaks TLS.
 9. Every file the chosen context names that cannot be read is reported at once, in one line
    (kubectl lists them all too), rather than the first one alone.
10. A kubeconfig file that does not exist is said to be missing — not read as an empty
    kubeconfig whose "current-context is not set".
"""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.kubeconfig.load import KubeconfigPaths, load_kubeconfig, load_merged, resolve_path
from kubeward.kubeconfig.model import AuthInfo, Cluster, Kubeconfig

DEFAULT_NAMESPACE = "default"


def _memfd_available() -> bool:
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def transient_file(data: bytes, *, in_memory: bool | None = None) -> Iterator[str]:
    """A path OpenSSL can open that holds ``data``, in memory where possible (rule 4).

    Args:
        data: the bytes (a certificate and its key).
        in_memory: force the memfd (``True``) or the 0600 temporary file (``False``) way;
            ``None`` picks memfd where the platform has it.
    """
    if in_memory is None:
        in_memory = _memfd_available()
    if in_memory:
        fd = os.memfd_create("kubeward-client-credentials", getattr(os, "MFD_CLOEXEC", 0))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, path = tempfile.mkstemp(prefix=".kubeward-credentials-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _unreadable_files(cluster: Cluster, user: AuthInfo) -> list[str]:
    """Rule 9: each file reference of the context that cannot be read, in kubectl's order."""
    references = []
    if user.client_certificate_data is None and user.client_certificate:
        references.append(("client-cert", user.client_certificate, user.source, user.name))
    if user.client_key_data is None and user.client_key:
        references.append(("client-key", user.client_key, user.source, user.name))
    if not user.token and user.token_file:
        references.append(("tokenFile", user.token_file, user.source, user.name))
    if cluster.certificate_authority_data is None and cluster.certificate_authority:
        references.append(
            ("certificate-authority", cluster.certificate_authority, cluster.source, cluster.name)
        )
    problems = []
    for field, reference, source, owner in references:
        try:
            read_bytes(resolve_path(reference, source))
        except InputError as exc:
            problems.append(f"unable to read {field} for {owner}: {exc}")
    return problems


def _no_passphrase() -> bytes:
    # Called by OpenSSL only for an encrypted key: answering with nothing makes loading fail
    # instead of prompting on the terminal.
    return b""


def _load_roots(context: ssl.SSLContext, cluster: Cluster) -> None:
    where = f'cluster "{cluster.name}"'
    if cluster.insecure_skip_tls_verify:
        if cluster.certificate_authority_data or cluster.certificate_authority:
            raise InputError(
                f"{where}: specifying a root certificates file with the insecure flag is not allowed"
            )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return
    roots = cluster.certificate_authority_data
    field = "certificate-authority-data"
    if roots is None and cluster.certificate_authority:
        path = resolve_path(cluster.certificate_authority, cluster.source)
        roots, field = read_bytes(path), f"certificate-authority {path}"
    if roots is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return
    try:
        if b"-----BEGIN" in roots:
            context.load_verify_locations(cadata=roots.decode("ascii", "replace"))
        else:
            context.load_verify_locations(cadata=roots)
    except (ssl.SSLError, ValueError) as exc:
        raise InputError(f"{where}: {field}: not a PEM or DER certificate bundle") from exc


def _client_pair(user: AuthInfo) -> tuple[bytes, bytes] | None:
    where = f'user "{user.name}"'
    cert = user.client_certificate_data
    if cert is None and user.client_certificate:
        cert = read_bytes(resolve_path(user.client_certificate, user.source))
    key = user.client_key_data
    if key is None and user.client_key:
        key = read_bytes(resolve_path(user.client_key, user.source))
    if cert is None and key is None:
        return None
    if cert is None:
        raise InputError(f"{where}: has a client key but no client certificate")
    if key is None:
        raise InputError(f"{where}: has a client certificate but no client key")
    return cert, key


def _load_client_certificate(context: ssl.SSLContext, user: AuthInfo) -> bool:
    pair = _client_pair(user)
    if pair is None:
        return False
    cert, key = pair
    if b"ENCRYPTED" in key:  # PKCS#8 "ENCRYPTED PRIVATE KEY" or legacy "Proc-Type: 4,ENCRYPTED"
        raise InputError(
            f'user "{user.name}": the client key is encrypted; a kubeconfig key must not be'
        )
    try:
        with transient_file(cert.rstrip(b"\n") + b"\n" + key) as path:
            context.load_cert_chain(path, password=_no_passphrase)
    except ssl.SSLError as exc:
        reason = (exc.reason or str(exc)).upper()
        if "MISMATCH" in reason:
            problem = "the client key does not match the client certificate"
        else:
            problem = "the client certificate or key is not valid PEM"
        raise InputError(f'user "{user.name}": {problem}') from exc
    return True


@dataclass(frozen=True)
class ClientCredentials:
    """What a client needs to call the API server of one kubeconfig context.

    ``ssl_context`` is ready for ``aiohttp``/``http.client``/``ssl.wrap_socket``; pass
    ``server_hostname`` as the name to verify (it honours ``tls-server-name``).
    """

    server: str
    ssl_context: ssl.SSLContext
    server_hostname: str
    namespace: str = DEFAULT_NAMESPACE
    token: str = ""
    username: str = ""
    password: str = ""
    has_client_certificate: bool = False
    impersonate_user: str = ""
    impersonate_groups: tuple[str, ...] = ()
    context_name: str = ""
    cluster_name: str = ""
    user_name: str = ""

    def authorization_header(self) -> str | None:
        """The ``Authorization`` header value, if the user has a token or basic credentials."""
        if self.token:
            return f"Bearer {self.token}"
        if self.username or self.password:
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return None

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | os.PathLike[str] | Kubeconfig | Mapping[str, Any],
        context: str | None = None,
    ) -> ClientCredentials:
        """Credentials for ``context`` (default: the current context) of a kubeconfig.

        Args:
            kubeconfig: a file path, a loaded :class:`Kubeconfig`, or a kubeconfig ``dict``
                (whose relative paths then resolve against the working directory).
            context: the context name; empty or ``None`` means ``current-context``.

        Raises:
            InputError: the context, cluster or user is missing or unusable (see the rules),
                in one line naming it.
        """
        if isinstance(kubeconfig, Kubeconfig):
            config, source = kubeconfig, "kubeconfig"
        elif isinstance(kubeconfig, Mapping):
            config, source = Kubeconfig.from_dict(dict(kubeconfig)), "kubeconfig"
        else:
            source = os.fspath(kubeconfig)
            config = load_kubeconfig(source)
        return cls.from_config(config, context, source=source)

    @classmethod
    def from_default_locations(
        cls, kubeconfig: str | None = None, context: str | None = None
    ) -> ClientCredentials:
        """As kubectl finds its credentials: ``kubeconfig`` if given, else the merged
        ``$KUBECONFIG`` files, else ``~/.kube/config`` (see :mod:`kubeward.kubeconfig.load`).
        """
        paths = KubeconfigPaths.resolve(kubeconfig)
        if not any(os.path.exists(path) for path in paths.precedence):  # rule 10
            if paths.explicit:
                raise InputError(f"{paths.describe()}: no such file (given with --kubeconfig)")
            if paths.from_env:
                raise InputError(
                    f"{paths.describe()}: no such file (every file KUBECONFIG names is missing)"
                )
            raise InputError(
                f"{paths.describe()}: no such file; pass --kubeconfig or set KUBECONFIG "
                "(kubeward up writes .kubeward/admin.conf)"
            )
        return cls.from_config(load_merged(paths), context, source=paths.describe())

    @classmethod
    def from_config(
        cls, config: Kubeconfig, context: str | None = None, *, source: str = "kubeconfig"
    ) -> ClientCredentials:
        """As :meth:`from_kubeconfig`, for an already loaded (possibly merged) kubeconfig."""
        name = context or config.current_context
        if not name:
            raise InputError(f"{source}: no current-context is set; name a context")
        chosen = config.context(name)
        if chosen is None:
            raise InputError(f'{source}: context "{name}" does not exist')
        cluster = config.cluster(chosen.cluster)
        if cluster is None:
            raise InputError(
                f'{source}: context "{name}": cluster "{chosen.cluster}" does not exist'
            )
        user = config.user(chosen.user) if chosen.user else AuthInfo(name="")
        if user is None:
            raise InputError(f'{source}: context "{name}": user "{chosen.user}" does not exist')
        url = urlsplit(cluster.server)
        if url.scheme != "https" or not url.hostname:
            raise InputError(
                f'cluster "{cluster.name}": server {cluster.server!r} is not an https:// URL'
            )
        if user.exec is not None or user.auth_provider is not None:
            raise InputError(
                f'user "{user.name}": exec credential plugins and auth providers are not supported'
            )
        unreadable = _unreadable_files(cluster, user)
        if unreadable:
            raise InputError(f'{source}: context "{name}": ' + "; ".join(unreadable))
        token = user.token
        if not token and user.token_file:
            token = read_bytes(resolve_path(user.token_file, user.source)).decode().strip()
        if token and (user.username or user.password):
            raise InputError(
                f'user "{user.name}": username/password or bearer token may be set, but not both'
            )
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        _load_roots(ssl_context, cluster)
        has_certificate = _load_client_certificate(ssl_context, user)
        return cls(
            server=cluster.server.rstrip("/"),
            ssl_context=ssl_context,
            server_hostname=cluster.tls_server_name or url.hostname,
            namespace=chosen.namespace or DEFAULT_NAMESPACE,
            token=token,
            username=user.username,
            password=user.password,
            has_client_certificate=has_certificate,
            impersonate_user=user.impersonate,
            impersonate_groups=user.impersonate_groups,
            context_name=name,
            cluster_name=cluster.name,
            user_name=user.name,
        )
