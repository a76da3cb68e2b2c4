"""What ``config view`` and ``config get-contexts`` show, as kubectl 1.32 shows it.

Rules:
 1. ``view`` hides secrets unless asked for raw output: ``certificate-authority-data``,
    ``client-certificate-data`` and ``client-key-data`` become ``DATA+OMITTED``; ``token`` and
    ``password`` become ``REDACTED`` (kubectl's ``ShortenConfig``). Auth-provider and exec
    settings are shown as they are, as kubectl shows them.
 2. ``--minify`` keeps only the current context (or the one named) with its cluster and user;
    a context that names a missing cluster or user is an error (``MinifyConfig``).
 3. ``--flatten`` embeds the files that clusters and users refer to (CA, client certificate and
    key) as ``*-data``, reading relative paths against the file the entry came from; flattened
    output is never redacted (``FlattenConfig``).
 4. ``get-contexts`` prints kubectl's table, rows sorted by name, ``*`` marking the current
    context, aligned as Go's ``tabwriter`` aligns it (columns padded by three spaces, at least
    six wide); ``-o name`` prints only names.
 5. Output is kubectl's byte for byte, with one deliberate difference: fields client-go does not
    know are shown (kubectl silently drops them), so a typo such as ``certificate-authority-dta``
    is visible instead of quietly ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.kubeconfig.load import resolve_path
from kubeward.kubeconfig.model import AuthInfo, Cluster, EntryT, Kubeconfig

# "DATA+OMITTED" is itself valid base64, which is how kubectl passes it through a bytes field;
# the model keeps it verbatim for the same reason.
DATA_OMITTED = "DATA+OMITTED"
REDACTED = "REDACTED"


def redact(config: Kubeconfig) -> Kubeconfig:
    """Rule 1: the kubeconfig with secret values replaced by kubectl's placeholders."""
    clusters = tuple(
        c.updated({"certificate-authority-data": DATA_OMITTED})
        if c.fields.get("certificate-authority-data")
        else c
        for c in config.clusters
    )
    users = []
    for user in config.users:
        changes = {
            key: placeholder
            for key, placeholder in (
                ("client-certificate-data", DATA_OMITTED),
                ("client-key-data", DATA_OMITTED),
                ("token", REDACTED),
                ("password", REDACTED),
            )
            if user.fields.get(key)
        }
        users.append(user.updated(changes) if changes else user)
    return replace(config, clusters=clusters, users=tuple(users))


def minify(config: Kubeconfig, context: str = "") -> Kubeconfig:
    """Rule 2.

    Raises:
        InputError: no current context, or it (or its cluster or user) does not exist.
    """
    name = context or config.current_context
    if not name:
        raise InputError("current-context must exist in order to minify")
    chosen = config.context(name)
    if chosen is None:
        raise InputError(f"cannot locate context {name}")
    clusters: tuple[Cluster, ...] = ()
    users: tuple[AuthInfo, ...] = ()
    if chosen.cluster:
        cluster = config.cluster(chosen.cluster)
        if cluster is None:
            raise InputError(f"cannot locate cluster {chosen.cluster}")
        clusters = (cluster,)
    if chosen.user:
        user = config.user(chosen.user)
        if user is None:
            raise InputError(f"cannot locate user {chosen.user}")
        users = (user,)
    return replace(config, clusters=clusters, users=users, contexts=(chosen,), current_context=name)


def _embed(entry: EntryT, path_key: str, data_key: str) -> EntryT:
    path = entry.fields.get(path_key)
    if not isinstance(path, str) or not path:
        return entry
    if entry.fields.get(data_key):
        raise InputError(
            f"{entry.list_key} {entry.name!r}: cannot have values for both {path_key} and {data_key}"
        )
    data = read_bytes(resolve_path(path, entry.source))
    return entry.updated({path_key: None, data_key: data})


def flatten(config: Kubeconfig) -> Kubeconfig:
    """Rule 3.

    Raises:
        InputError: a referenced file cannot be read, or an entry has both a path and data.
    """
    clusters = tuple(
        _embed(c, "certificate-authority", "certificate-authority-data") for c in config.clusters
    )
    users = []
    for user in config.users:
        user = _embed(user, "client-certificate", "client-certificate-data")
        user = _embed(user, "client-key", "client-key-data")
        users.append(user)
    return replace(config, clusters=clusters, users=tuple(users))


@dataclass(frozen=True)
class ContextsTable:
    """``get-contexts`` output and the names asked for that do not exist."""

    text: str
    missing: tuple[str, ...]


def _tabwriter(rows: Sequence[Sequence[str]]) -> str:
    """Go ``text/tabwriter`` as kubectl configures it: minwidth 6, padding 3, last cell as is."""
    if not rows:
        return ""
    columns = len(rows[0]) - 1
    widths = [max(6, max(len(r[i]) for r in rows) + 3) for i in range(columns)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(columns)]
        lines.append("".join(cells) + row[-1] + "\n")
    return "".join(lines)


def contexts_table(
    config: Kubeconfig,
    names: Sequence[str] = (),
    *,
    name_only: bool = False,
    headers: bool = True,
) -> ContextsTable:
    """Rule 4: the ``get-contexts`` table for all contexts, or for those named."""
    missing: list[str] = []
    chosen: list[str] = []
    if names:
        for name in names:
            if config.context(name) is None:
                missing.append(name)
            else:
                chosen.append(name)
    else:
        chosen = [c.name for c in config.contexts]
    chosen.sort()
    if name_only:
        return ContextsTable("".join(f"{n}\n" for n in chosen), tuple(missing))
    rows: list[list[str]] = []
    if headers:
        rows.append(["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"])
    for name in chosen:
        context = config.context(name)
        assert context is not None
        marker = "*" if name == config.current_context else " "
        rows.append([marker, name, context.cluster, context.user, context.namespace])
    return ContextsTable(_tabwriter(rows), tuple(missing))
