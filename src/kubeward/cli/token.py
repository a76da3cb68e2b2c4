"""``kubeward token create|list|delete``: bootstrap tokens, with kubeadm's flags and output.

Rules (``kubeadm token``):

 1. ``create [TOKEN]`` takes the given token (``[a-z0-9]{6}.[a-z0-9]{16}``) or generates one,
    and stores it as the Secret ``bootstrap-token-<id>`` of type ``bootstrap.kubernetes.io/token``
    in ``kube-system``. ``--ttl`` (default 24h; 0 never expires) sets ``expiration``;
    ``--usages`` (default ``signing,authentication``) the ``usage-bootstrap-*`` keys;
    ``--groups`` (default kubeadm's ``system:bootstrappers:kubeadm:default-node-token``, each
    matching ``system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]``, and only with the
    authentication usage) ``auth-extra-groups``; ``--description`` ``description``. It prints
    the token. A token whose id exists already is refused.
 2. ``--bootstrap-kubeconfig FILE`` (kubeward's) also writes a kubeconfig (0600) with the
    server, the cluster CA (the ``kube-root-ca.crt`` ConfigMap) and the token, the file a node
    bootstraps from; ``--print-join-command`` then prints the ``kubeward node`` command that
    joins with it (TLS bootstrapping writes the node's own ``kubelet.conf``) instead of the
    token.
 3. ``list`` prints kubeadm's table: TOKEN, TTL, EXPIRES, USAGES, DESCRIPTION, EXTRA GROUPS.
 4. ``delete TOKEN-OR-ID...`` deletes each token's Secret and says so.
 Errors are one line (``kubeward.cli.main``).
"""

from __future__ import annotations

import base64
import datetime
import re
import secrets
import string
from pathlib import Path
from typing import Any

import click

from kubeward.api import meta as m
from kubeward.api.resources.core import CONFIGMAPS, SECRETS
from kubeward.authn.bootstrap import (
    DESCRIPTION_KEY,
    EXPIRATION_KEY,
    EXTRA_GROUPS_KEY,
    GROUP_PATTERN,
    KNOWN_USAGES,
    SECRET_NAMESPACE,
    SECRET_PREFIX,
    SECRET_TYPE,
    TOKEN_ID_KEY,
    TOKEN_PATTERN,
    TOKEN_SECRET_KEY,
    USAGE_PREFIX,
    secret_data,
)
from kubeward.authz.rbac.bootstrap import DEFAULT_NODE_TOKEN_GROUP
from kubeward.cli.runtime import run_async
from kubeward.client.api import APIClient
from kubeward.errors import AlreadyExists, InputError, NotFound
from kubeward.kubeconfig.build import write_kubeconfig
from kubeward.kubeconfig.tls import ClientCredentials

ID_PATTERN = re.compile(r"\A[a-z0-9]{6}\Z")
DEFAULT_USAGES = ("signing", "authentication")
_ALPHABET = string.ascii_lowercase + string.digits
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
BOOTSTRAP_USER = "tls-bootstrap-token-user"


def generate_token() -> str:
    """A random token, as kubeadm's GenerateBootstrapToken."""
    return f"{_random(6)}.{_random(16)}"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def parse_ttl(text: str) -> datetime.timedelta:
    """``--ttl``: a Go duration; ``0`` (or ``0s``) means the token never expires."""
    if text in ("0", "0s"):
        return datetime.timedelta(0)
    if not text or _DURATION_PART.sub("", text) != "":
        raise InputError(f'invalid argument "{text}" for "--ttl" flag: not a duration (24h, 1h30m)')
    return datetime.timedelta(
        seconds=sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    )


def token_secret(
    token: str,
    ttl: datetime.timedelta,
    usages: list[str],
    groups: list[str],
    description: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    """Rule 1: the Secret that stores ``token``.

    Raises:
        InputError: a malformed token, usage or group, as kubeadm words it.
    """
    found = TOKEN_PATTERN.match(token)
    if found is None:
        raise InputError(
            f'the bootstrap token "{token}" was not of the form "{TOKEN_PATTERN.pattern[2:-2]}"'
        )
    for usage in usages:
        if usage not in KNOWN_USAGES:
            raise InputError(
                f"invalid bootstrap token usage string: {usage}, valid usage options: "
                f"{','.join(KNOWN_USAGES)}"
            )
    for group in groups:
        if not GROUP_PATTERN.match(group):
            raise InputError(
                f'bootstrap group "{group}" is invalid (must match {GROUP_PATTERN.pattern[2:-2]})'
            )
    if groups and "authentication" not in usages:
        raise InputError(
            "token groups cannot be specified unless the authentication usage is given"
        )
    data = {TOKEN_ID_KEY: found.group(1), TOKEN_SECRET_KEY: found.group(2)}
    if description:
        data[DESCRIPTION_KEY] = description
    if ttl > datetime.timedelta(0):
        data[EXPIRATION_KEY] = (now + ttl).strftime("%Y-%m-%dT%H:%M:%SZ")
    for usage in sorted(set(usages)):
        data[USAGE_PREFIX + usage] = "true"
    if groups:
        data[EXTRA_GROUPS_KEY] = ",".join(groups)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {"name": SECRET_PREFIX + found.group(1), "namespace": SECRET_NAMESPACE},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def _short_duration(seconds: float) -> str:
    """apimachinery's ShortHumanDuration (kubeadm's TTL column)."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    if s < 365 * 24 * 3600:
        return f"{s // 86400}d"
    return f"{s // (365 * 86400)}y"


def token_row(secret: dict[str, Any], now: datetime.datetime) -> list[str] | None:
    """Rule 3: one token's cells, padded as kubeadm pads them; None for a malformed Secret."""
    token_id, token_secret_value = (
        secret_data(secret, TOKEN_ID_KEY),
        secret_data(secret, TOKEN_SECRET_KEY),
    )
    if not TOKEN_PATTERN.match(f"{token_id}.{token_secret_value}"):
        return None
    ttl, expires = "<forever>", "<never>"
    stamp = m.parse_time(secret_data(secret, EXPIRATION_KEY))
    if stamp is not None:
        ttl = _short_duration((stamp - now).total_seconds())
        expires = stamp.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    usages = sorted(
        k[len(USAGE_PREFIX) :]
        for k in (secret.get("data") or {})
        if k.startswith(USAGE_PREFIX) and secret_data(secret, k) == "true"
    )
    groups = [g for g in secret_data(secret, EXTRA_GROUPS_KEY).split(",") if g]
    return [
        f"{token_id}.{token_secret_value}",
        f"{ttl:<9}",
        expires,
        f"{','.join(usages) or '<none>':<22}",
        f"{secret_data(secret, DESCRIPTION_KEY) or '<none>':<56}",
        ",".join(groups) or "<none>",
    ]


TABLE_HEADER = ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"]


def tabwrite(rows: list[list[str]]) -> str:
    """Go's tabwriter with kubeadm's settings (minwidth 10, padding 3): every column but the
    last is as wide as its widest cell plus 3, at least 10."""
    widths = [max(max(len(r[i]) for r in rows) + 3, 10) for i in range(len(rows[0]) - 1)]
    lines = ["".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] for r in rows]
    return "\n".join(lines) + "\n"


def format_table(secrets_: list[dict[str, Any]], now: datetime.datetime) -> str:
    """Rule 3: kubeadm flushes its tabwriter after each token, so the header is aligned with the
    first row and every other row with itself alone."""
    rows = [row for s in secrets_ if (row := token_row(s, now)) is not None]
    if not rows:
        return ""
    out = tabwrite([TABLE_HEADER, rows[0]])
    for row in rows[1:]:
        out += tabwrite([row])
    return out


def token_id_of(text: str) -> str:
    """Rule 4: a token's id, from the token or the id itself."""
    found = TOKEN_PATTERN.match(text)
    if found is not None:
        return found.group(1)
    if ID_PATTERN.match(text):
        return text
    raise InputError(
        f'given token "{text}" didn\'t match pattern "[a-z0-9]{{6}}" or "[a-z0-9]{{6}}.[a-z0-9]{{16}}"'
    )


def bootstrap_kubeconfig_doc(server: str, ca_pem: str, token: str) -> dict[str, Any]:
    """Rule 2: the kubeconfig a node bootstraps from (kubeadm's bootstrap-kubelet.conf shape)."""
    context = f"{BOOTSTRAP_USER}@kubernetes"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
                },
            }
        ],
        "users": [{"name": BOOTSTRAP_USER, "user": {"token": token}}],
        "contexts": [
            {"name": context, "context": {"cluster": "kubernetes", "user": BOOTSTRAP_USER}}
        ],
        "current-context": context,
    }


# --- commands -----------------------------------------------------------------------------


def _client(kubeconfig: str | None) -> APIClient:
    return APIClient(
        ClientCredentials.from_default_locations(kubeconfig), user_agent="kubeward-token"
    )


_kubeconfig_option = click.option(
    "--kubeconfig", default=None, help="The kubeconfig (default: as kubectl finds it)."
)


@click.group("token")
def token() -> None:
    """Manage bootstrap tokens (kubeadm token)."""


@token.command("create")
@click.argument("token_value", metavar="[TOKEN]", required=False)
@click.option(
    "--ttl", default="24h", show_default=True, help="Lifetime of the token; 0 never expires."
)
@click.option(
    "--usages",
    default=",".join(DEFAULT_USAGES),
    show_default=True,
    help="Comma-separated ways the token may be used: signing, authentication.",
)
@click.option(
    "--groups",
    default=DEFAULT_NODE_TOKEN_GROUP,
    show_default=True,
    help="Comma-separated extra groups the token authenticates as.",
)
@click.option("--description", default="", help="A human-friendly description of the token.")
@click.option(
    "--bootstrap-kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a kubeconfig holding the server, the cluster CA and this token.",
)
@click.option(
    "--print-join-command",
    is_flag=True,
    help="Print the kubeward node command that joins with --bootstrap-kubeconfig.",
)
@_kubeconfig_option
def create(
    token_value: str | None,
    ttl: str,
    usages: str,
    groups: str,
    description: str,
    bootstrap_kubeconfig: Path | None,
    print_join_command: bool,
    kubeconfig: str | None,
) -> None:
    """Create a bootstrap token and print it."""
    if print_join_command and bootstrap_kubeconfig is None:
        raise InputError(
            "--print-join-command needs --bootstrap-kubeconfig FILE to write the node's kubeconfig to"
        )
    value = token_value or generate_token()
    secret = token_secret(
        value,
        parse_ttl(ttl),
        [u for u in usages.split(",") if u],
        [g for g in groups.split(",") if g],
        description,
        datetime.datetime.now(datetime.UTC),
    )

    async def go() -> str:
        async with _client(kubeconfig) as client:
            try:
                await client.create(SECRETS, secret, SECRET_NAMESPACE)
            except AlreadyExists as exc:
                raise InputError(f'a token with id "{value[:6]}" already exists') from exc
            if bootstrap_kubeconfig is None:
                return ""
            root = await client.get(CONFIGMAPS, "kube-root-ca.crt", SECRET_NAMESPACE)
            return str((root.get("data") or {}).get("ca.crt") or "")

    ca_pem = run_async(go())
    if bootstrap_kubeconfig is not None:
        server = ClientCredentials.from_default_locations(kubeconfig).server
        write_kubeconfig(bootstrap_kubeconfig, bootstrap_kubeconfig_doc(server, ca_pem, value))
    if print_join_command:
        click.echo(
            f"kubeward node --name <node-name> --bootstrap-kubeconfig {bootstrap_kubeconfig}"
            " --kubeconfig kubelet.conf"
        )
    else:
        click.echo(value)


@token.command("list")
@_kubeconfig_option
def list_tokens(kubeconfig: str | None) -> None:
    """List bootstrap tokens (kubeadm's table)."""

    async def go() -> list[dict[str, Any]]:
        async with _client(kubeconfig) as client:
            listed = await client.list(SECRETS, SECRET_NAMESPACE)
        return [s for s in listed.get("items") or [] if s.get("type") == SECRET_TYPE]

    click.echo(format_table(run_async(go()), datetime.datetime.now(datetime.UTC)), nl=False)


@token.command("delete")
@click.argument("tokens", metavar="TOKEN-OR-ID...", nargs=-1, required=True)
@_kubeconfig_option
def delete(tokens: tuple[str, ...], kubeconfig: str | None) -> None:
    """Delete bootstrap tokens."""
    ids = [token_id_of(t) for t in tokens]

    async def go() -> None:
        async with _client(kubeconfig) as client:
            for token_id in ids:
                try:
                    await client.delete(SECRETS, SECRET_PREFIX + token_id, SECRET_NAMESPACE)
                except NotFound as exc:
                    raise InputError(f'bootstrap token "{token_id}" not found') from exc
                click.echo(f'bootstrap token "{token_id}" deleted')

    run_async(go())
