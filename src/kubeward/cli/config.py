"""``kubeward config``: read and edit kubeconfig files with kubectl's semantics.

The subcommands, their flags, what they print and where they write are kubectl 1.32's
(``kubectl config ...``), so that the two tools can be used on the same files interchangeably:

 1. Files: ``--kubeconfig FILE``, else ``$KUBECONFIG``, else ``~/.kube/config``; the merge and
    write-back rules are in :mod:`kubeward.kubeconfig.load` and :mod:`kubeward.kubeconfig.save`.
 2. Messages are kubectl's (``Switched to context "x".``, ``Cluster "x" set.``, ``deleted context
    x from FILE``); errors are one line, ``error: ...``, exit code 1, and nothing is written.
    Where kubectl names the default file in "deleted ... from FILE", kubeward names the file the
    entry was actually removed from (the same file whenever only one file is in play).
 3. Paths given to ``--certificate-authority``, ``--client-certificate`` and ``--client-key``
    are made absolute, then stored relative to the kubeconfig's folder when that needs no
    ``../`` (kubectl's rule); ``--embed-certs`` embeds the file's content instead.
 4. ``view`` hides secrets unless ``--raw``; see :mod:`kubeward.kubeconfig.view`.
 5. ``new-user`` issues a client certificate from a CA directory and writes a kubeconfig with it
    embedded; the key never leaves the new file, which is written 0600 and never overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from kubeward.cli.config_new_user import new_user
from kubeward.errors import InputError
from kubeward.kubeconfig import view as views
from kubeward.kubeconfig.encoding import dump_json, dump_yaml
from kubeward.kubeconfig.load import KubeconfigPaths, load_merged
from kubeward.kubeconfig.model import AuthInfo, Cluster, Context, Kubeconfig
from kubeward.kubeconfig.save import save_changes

F = TypeVar("F", bound=Callable[..., Any])


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the names kubectl quotes in its messages."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Options:
    """Group-level flags, handed to subcommands through the click context."""

    kubeconfig: str | None = None


def _kubeconfig_option(func: F) -> F:
    """``--kubeconfig`` on a subcommand too, as kubectl accepts it after the subcommand."""
    return click.option(
        "--kubeconfig",
        "kubeconfig_path",
        metavar="FILE",
        default=None,
        help="Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config).",
    )(func)


def _paths(kubeconfig_path: str | None) -> KubeconfigPaths:
    options = click.get_current_context().find_object(_Options)
    explicit = kubeconfig_path or (options.kubeconfig if options else None)
    return KubeconfigPaths.resolve(explicit)


def _load(kubeconfig_path: str | None) -> tuple[KubeconfigPaths, Kubeconfig]:
    paths = _paths(kubeconfig_path)
    return paths, load_merged(paths)


def _optional_bool(value: str | None, flag: str) -> bool | None:
    """kubectl's tri-state flags: absent, ``--flag`` / ``--flag=true``, or ``--flag=false``."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "t", "1"):
        return True
    if lowered in ("false", "f", "0"):
        return False
    raise InputError(f'invalid argument "{value}" for "--{flag}" flag: must be true or false')


def _tristate_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        f"--{name}",
        is_flag=False,
        flag_value="true",
        default=None,
        metavar="[=true|false]",
        help=help_text,
    )


def _check_readable(path: str, flag: str) -> None:
    try:
        os.stat(path)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise InputError(f"could not stat {flag} file {path}: stat {path}: {reason}") from exc


def _read_file(path: str, flag: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(f"could not read {flag} data from {path}: {exc.strerror}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--kubeconfig",
    metavar="FILE",
    default=None,
    help="Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config).",
)
@click.pass_context
def config(ctx: click.Context, kubeconfig: str | None) -> None:
    """Read and edit kubeconfig files with kubectl's semantics.

    Files are chosen as kubectl chooses them: --kubeconfig, else the KUBECONFIG path list,
    else ~/.kube/config.
    """
    ctx.obj = _Options(kubeconfig)


@config.command("view")
@_kubeconfig_option
@click.option("--raw", is_flag=True, help="Display raw byte data and sensitive data.")
@click.option("--minify", is_flag=True, help="Keep only what the current context uses.")
@click.option("--flatten", is_flag=True, help="Embed referenced files (self-contained output).")
@click.option("--context", "context_name", default="", help="The context --minify keeps.")
@click.option(
    "-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
def view(
    kubeconfig_path: str | None,
    raw: bool,
    minify: bool,
    flatten: bool,
    context_name: str,
    output: str,
) -> None:
    """Display merged kubeconfig settings or a specified kubeconfig file."""
    _, merged = _load(kubeconfig_path)
    shown = merged
    if minify:
        shown = views.minify(shown, context_name)
    if flatten:
        shown = views.flatten(shown)
    elif not raw:
        shown = views.redact(shown)
    doc = shown.to_dict()
    click.echo((dump_json(doc) if output == "json" else dump_yaml(doc)).decode(), nl=False)


@config.command("get-contexts")
@_kubeconfig_option
@click.argument("names", nargs=-1)
@click.option("-o", "--output", type=click.Choice(["name"]), default=None, help="One of: name.")
@click.option("--no-headers", is_flag=True, help="Don't print headers.")
def get_contexts(
    kubeconfig_path: str | None, names: tuple[str, ...], output: str | None, no_headers: bool
) -> None:
    """Describe one or many contexts."""
    _, merged = _load(kubeconfig_path)
    table = views.contexts_table(merged, names, name_only=output == "name", headers=not no_headers)
    click.echo(table.text, nl=False)
    if table.missing:
        problems = [f"context {name} not found" for name in table.missing]
        raise InputError(problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]")


@config.command("get-clusters")
@_kubeconfig_option
def get_clusters(kubeconfig_path: str | None) -> None:
    """Display clusters defined in the kubeconfig."""
    _, merged = _load(kubeconfig_path)
    click.echo("NAME")
    for name in sorted(c.name for c in merged.clusters):
        click.echo(name)


@config.command("get-users")
@_kubeconfig_option
def get_users(kubeconfig_path: str | None) -> None:
    """Display users defined in the kubeconfig."""
    _, merged = _load(kubeconfig_path)
    click.echo("NAME")
    for name in sorted(u.name for u in merged.users):
        click.echo(name)


@config.command("current-context")
@_kubeconfig_option
def current_context(kubeconfig_path: str | None) -> None:
    """Display the current-context."""
    _, merged = _load(kubeconfig_path)
    if not merged.current_context:
        raise InputError("current-context is not set")
    click.echo(merged.current_context)


@config.command("use-context")
@_kubeconfig_option
@click.argument("name")
def use_context(kubeconfig_path: str | None, name: str) -> None:
    """Set the current-context in a kubeconfig file."""
    paths, before = _load(kubeconfig_path)
    if not name:
        raise InputError("empty context names are not allowed")
    if before.context(name) is None:
        raise InputError(f"no context exists with the name: {_go_quote(name)}")
    save_changes(paths, before, before.with_current_context(name))
    click.echo(f"Switched to context {_go_quote(name)}.")


config.add_command(use_context, "use")


@config.command("set-context")
@_kubeconfig_option
@click.argument("name", required=False, default="")
@click.option("--current", is_flag=True, help="Modify the current context.")
@click.option("--cluster", default=None, help="cluster for the context entry in kubeconfig")
@click.option("--user", default=None, help="user for the context entry in kubeconfig")
@click.option("--namespace", default=None, help="namespace for the context entry in kubeconfig")
def set_context(
    kubeconfig_path: str | None,
    name: str,
    current: bool,
    cluster: str | None,
    user: str | None,
    namespace: str | None,
) -> None:
    """Set a context entry in kubeconfig.

    Naming an entry that exists merges the given fields on top of its values.
    """
    if not name and not current:
        raise InputError("you must specify a non-empty context name or --current")
    if name and current:
        raise InputError("you cannot specify both a context name and --current")
    paths, before = _load(kubeconfig_path)
    if current:
        if not before.current_context:
            raise InputError("no current context is set")
        name = before.current_context
    existing = before.context(name)
    entry = existing or Context(name=name)
    entry = entry.updated(
        {
            key: value
            for key, value in (("cluster", cluster), ("user", user), ("namespace", namespace))
            if value is not None
        }
    )
    save_changes(paths, before, before.with_entry(entry))
    verb = "modified" if existing is not None else "created"
    click.echo(f"Context {_go_quote(name)} {verb}.")


@config.command("set-cluster")
@_kubeconfig_option
@click.argument("name")
@click.option("--server", default=None, help="server for the cluster entry in kubeconfig")
@click.option(
    "--certificate-authority", default=None, help="Path to the CA file for the cluster entry."
)
@_tristate_option("embed-certs", "Embed the CA file's content instead of its path.")
@_tristate_option("insecure-skip-tls-verify", "Do not verify the server certificate (unsafe).")
@click.option("--tls-server-name", default=None, help="Name to verify the server certificate for.")
@click.option("--proxy-url", default=None, help="proxy-url for the cluster entry in kubeconfig")
def set_cluster(
    kubeconfig_path: str | None,
    name: str,
    server: str | None,
    certificate_authority: str | None,
    embed_certs: str | None,
    insecure_skip_tls_verify: str | None,
    tls_server_name: str | None,
    proxy_url: str | None,
) -> None:
    """Set a cluster entry in kubeconfig.

    Naming an entry that exists merges the given fields on top of its values.
    """
    embed = _optional_bool(embed_certs, "embed-certs")
    insecure = _optional_bool(insecure_skip_tls_verify, "insecure-skip-tls-verify")
    if not name:
        raise InputError("you must specify a non-empty cluster name")
    if insecure and certificate_authority:
        raise InputError(
            "you cannot specify a certificate authority and insecure mode at the same time"
        )
    if embed:
        if not certificate_authority:
            raise InputError("you must specify a --certificate-authority to embed")
        _check_readable(certificate_authority, "certificate-authority")
    paths, before = _load(kubeconfig_path)
    entry = before.cluster(name) or Cluster(name=name)
    changes: dict[str, Any] = {}
    if server is not None:
        # As kubectl: a new server makes the old tls-server-name meaningless, so it goes too.
        changes["server"] = server
        changes["tls-server-name"] = None
    if tls_server_name is not None:
        changes["tls-server-name"] = tls_server_name
    if insecure is not None:
        changes["insecure-skip-tls-verify"] = insecure
        if insecure:
            changes["certificate-authority"] = None
            changes["certificate-authority-data"] = None
    if certificate_authority is not None:
        if embed:
            changes["certificate-authority-data"] = _read_file(
                certificate_authority, "certificate-authority"
            )
            changes["insecure-skip-tls-verify"] = None
            changes["certificate-authority"] = None
        else:
            changes["certificate-authority"] = os.path.abspath(certificate_authority)
            changes["insecure-skip-tls-verify"] = None
            changes["certificate-authority-data"] = None
    if proxy_url is not None:
        changes["proxy-url"] = proxy_url
    save_changes(paths, before, before.with_entry(entry.updated(changes)))
    click.echo(f"Cluster {_go_quote(name)} set.")


@config.command("set-credentials")
@_kubeconfig_option
@click.argument("name")
@click.option("--client-certificate", default=None, help="Path to the client certificate file.")
@click.option("--client-key", default=None, help="Path to the client key file.")
@click.option("--token", default=None, help="Bearer token for the user entry.")
@click.option("--username", default=None, help="Username for basic authentication.")
@click.option("--password", default=None, help="Password for basic authentication.")
@_tristate_option("embed-certs", "Embed the client certificate and key instead of their paths.")
def set_credentials(
    kubeconfig_path: str | None,
    name: str,
    client_certificate: str | None,
    client_key: str | None,
    token: str | None,
    username: str | None,
    password: str | None,
    embed_certs: str | None,
) -> None:
    """Set a user entry in kubeconfig.

    Naming an entry that exists merges the given fields on top of its values.

    Bearer token and basic auth are mutually exclusive.
    """
    embed = _optional_bool(embed_certs, "embed-certs")
    if not name:
        raise InputError("you must specify a non-empty user name")
    methods = []
    if token:
        methods.append("--token")
    if username or password:
        methods.append("--username/--password")
    if len(methods) > 1:
        raise InputError(
            "you cannot specify more than one authentication method at the same time: "
            + ", ".join(methods)
        )
    if embed:
        if not client_certificate and not client_key:
            raise InputError("you must specify a --client-certificate or --client-key to embed")
        if client_certificate:
            _check_readable(client_certificate, "client-certificate")
        if client_key:
            _check_readable(client_key, "client-key")
    paths, before = _load(kubeconfig_path)
    entry = before.user(name) or AuthInfo(name=name)
    changes: dict[str, Any] = {}
    for path, path_key, data_key in (
        (client_certificate, "client-certificate", "client-certificate-data"),
        (client_key, "client-key", "client-key-data"),
    ):
        if path is None:
            continue
        if embed:
            changes[data_key] = _read_file(path, path_key)
            changes[path_key] = None
        else:
            changes[path_key] = os.path.abspath(path) if path else ""
            if path:
                changes[data_key] = None
    set_token = set_basic = False
    if token is not None:
        changes["token"] = token
        set_token = bool(token)
    if username is not None:
        changes["username"] = username
        set_basic = set_basic or bool(username)
    if password is not None:
        changes["password"] = password
        set_basic = set_basic or bool(password)
    if set_token and not set_basic:
        changes.update(username=None, password=None)
    if set_basic and not set_token:
        changes["token"] = None
    save_changes(paths, before, before.with_entry(entry.updated(changes)))
    click.echo(f"User {_go_quote(name)} set.")


def _delete(kubeconfig_path: str | None, list_key: str, noun: str, name: str) -> None:
    paths, before = _load(kubeconfig_path)
    entries = {e.name: e for e in getattr(before, list_key)}
    if name not in entries:
        raise InputError(f"cannot delete {noun} {name}, not in {paths.default_filename()}")
    if list_key == "contexts" and before.current_context == name:
        click.echo(
            'warning: this removed your active context, use "kubeward config use-context" '
            "to select a different one",
            err=True,
        )
    save_changes(paths, before, before.without_entry(list_key, name))
    source = entries[name].source or paths.default_filename()
    click.echo(f"deleted {noun} {name} from {source}")


@config.command("delete-context")
@_kubeconfig_option
@click.argument("name")
def delete_context(kubeconfig_path: str | None, name: str) -> None:
    """Delete the specified context from the kubeconfig."""
    _delete(kubeconfig_path, "contexts", "context", name)


@config.command("delete-cluster")
@_kubeconfig_option
@click.argument("name")
def delete_cluster(kubeconfig_path: str | None, name: str) -> None:
    """Delete the specified cluster from the kubeconfig."""
    _delete(kubeconfig_path, "clusters", "cluster", name)


@config.command("delete-user")
@_kubeconfig_option
@click.argument("name")
def delete_user(kubeconfig_path: str | None, name: str) -> None:
    """Delete the specified user from the kubeconfig."""
    _delete(kubeconfig_path, "users", "user", name)


@config.command("rename-context")
@_kubeconfig_option
@click.argument("old_name")
@click.argument("new_name")
def rename_context(kubeconfig_path: str | None, old_name: str, new_name: str) -> None:
    """Rename a context; the current-context follows it."""
    if not new_name:
        raise InputError("You must specify a new non-empty context name")
    paths, before = _load(kubeconfig_path)
    where = paths.default_filename()
    context = before.context(old_name)
    if context is None:
        raise InputError(f"cannot rename the context {_go_quote(old_name)}, it's not in {where}")
    if before.context(new_name) is not None:
        raise InputError(
            f"cannot rename the context {_go_quote(old_name)}, "
            f"the context {_go_quote(new_name)} already exists in {where}"
        )
    after = before.without_entry("contexts", old_name).with_entry(context.renamed(new_name))
    if before.current_context == old_name:
        after = after.with_current_context(new_name)
    save_changes(paths, before, after)
    click.echo(f"Context {_go_quote(old_name)} renamed to {_go_quote(new_name)}.")


config.add_command(new_user)
