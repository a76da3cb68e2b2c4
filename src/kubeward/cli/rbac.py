"""``kubeward rbac``: ask the server why a request would be allowed or refused, and who can.

``kubeward rbac explain --as jane list pods -n dev`` sends a SubjectAccessReview to the API
server named by the kubeconfig, so the answer comes from the same authorizer chain that
enforces requests — not from a re-implementation on the client side. Rules:

 1. RESOURCE is a resource as kubectl names it: plural, singular or short name, optionally
    ``resource.group`` and ``resource/subresource``; it is resolved through the server's
    discovery documents. A RESOURCE beginning with ``/`` is a non-resource URL.
 2. The namespace is ``-n``, else the kubeconfig context's, and only for namespaced resources.
 3. The first line says ``yes`` or ``no``; the trail the server gives in ``status.reason``
    follows, one indented line each. The exit status is 0 for yes and 1 for no, as
    ``kubectl auth can-i``.
 4. ``--as``/``--as-group`` build the user exactly as the server's impersonation does for
    ``kubectl --as`` (:func:`kubeward.api.user.impersonated_user`): ``system:authenticated``
    is added, and a service account without ``--as-group`` gets its groups, so the answer
    agrees with ``kubectl auth can-i --as``. A SubjectAccessReview adds no group itself.
 5. The caller needs ``create`` on ``subjectaccessreviews`` (cluster-admin has it).
 6. ``kubeward rbac who-can VERB RESOURCE [NAME]`` lists every subject allowed, through which
    binding and role (or which ABAC policy line), from the server's ``/debug/rbac/who-can``
    (``system:masters`` first);
    ``-o json`` gives the list as JSON.
"""

from __future__ import annotations

import http.client
import socket
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import click
import orjson

from kubeward.api.user import impersonated_user
from kubeward.errors import InputError
from kubeward.kubeconfig.tls import ClientCredentials


class APIClient:
    """A minimal JSON client over the kubeconfig's TLS credentials."""

    def __init__(self, credentials: ClientCredentials, timeout: float = 30.0) -> None:
        self.credentials = credentials
        self.timeout = timeout
        url = urlsplit(credentials.server)
        self.host = url.hostname or ""
        self.port = url.port or 443
        self.base = url.path.rstrip("/")

    def _connect(self) -> http.client.HTTPSConnection:
        creds = self.credentials
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
            conn.sock = creds.ssl_context.wrap_socket(raw, server_hostname=creds.server_hostname)
        except (OSError, ValueError) as exc:
            raise InputError(f"{creds.server}: cannot connect: {exc}") from exc
        return conn

    def request(self, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
        creds = self.credentials
        headers = {"Accept": "application/json", "User-Agent": "kubeward-rbac"}
        auth = creds.authorization_header()
        if auth is not None:
            headers["Authorization"] = auth
        if creds.impersonate_user:
            headers["Impersonate-User"] = creds.impersonate_user
        payload = None
        if body is not None:
            payload = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        conn = self._connect()
        try:
            conn.putrequest(method, self.base + path, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key, value)
            for group in creds.impersonate_groups:
                conn.putheader("Impersonate-Group", group)
            if payload is not None:
                conn.putheader("Content-Length", str(len(payload)))
            conn.endheaders(payload)
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            raise InputError(f"{creds.server}: {method} {path}: {exc}") from exc
        finally:
            conn.close()
        try:
            return response.status, orjson.loads(data) if data else {}
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{creds.server}: {path}: the answer is not JSON") from exc

    def get(self, path: str) -> dict[str, Any]:
        status, doc = self.request("GET", path)
        if status != 200 or not isinstance(doc, dict):
            raise InputError(f"{self.credentials.server}{path}: {_message(status, doc)}")
        return doc


def _message(status: int, doc: object) -> str:
    if isinstance(doc, dict) and doc.get("message"):
        return f"{doc['message']} ({status})"
    return f"HTTP {status}"


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    resource: str
    namespaced: bool


def _matches(entry: dict[str, Any], wanted: str) -> bool:
    names = {entry.get("name"), entry.get("singularName"), *(entry.get("shortNames") or [])}
    return wanted in names and "/" not in str(entry.get("name"))


def resolve_resource(client: APIClient, text: str) -> tuple[Resource, str]:
    """``deploy.apps/scale`` → the Deployment resource and the subresource ``scale`` (rule 1)."""
    name, _, subresource = text.partition("/")
    resource, _, group = name.partition(".")
    resource = resource.lower()
    lists: list[tuple[str, str]] = []
    if not group:
        lists.append(("", "/api/v1"))
    groups = client.get("/apis").get("groups") or []
    for entry in groups:
        if group and entry.get("name") != group:
            continue
        preferred = (entry.get("preferredVersion") or {}).get("version", "")
        if preferred:
            lists.append((str(entry.get("name")), f"/apis/{entry.get('name')}/{preferred}"))
    for group_name, path in lists:
        for entry in client.get(path).get("resources") or []:
            if _matches(entry, resource):
                version = path.rsplit("/", 1)[1]
                found = Resource(
                    group_name, version, str(entry["name"]), bool(entry.get("namespaced"))
                )
                return found, subresource
    raise InputError(f'resource "{text}": the server does not serve it')


def access_review(
    user: str,
    groups: tuple[str, ...],
    verb: str,
    resource: Resource | None,
    subresource: str,
    name: str,
    namespace: str,
    path: str,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"user": user}
    if groups:
        spec["groups"] = list(groups)
    if resource is None:
        spec["nonResourceAttributes"] = {"path": path, "verb": verb}
    else:
        attributes = {
            "verb": verb,
            "group": resource.group,
            "version": resource.version,
            "resource": resource.resource,
            "subresource": subresource,
            "name": name,
            "namespace": namespace if resource.namespaced else "",
        }
        spec["resourceAttributes"] = {k: v for k, v in attributes.items() if v}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


@click.group("rbac")
def rbac() -> None:
    """Explain RBAC decisions, answered by the server's own authorizer."""


@rbac.command("explain")
@click.option("--as", "as_user", required=True, help="The user to ask for.")
@click.option("--as-group", "as_groups", multiple=True, help="A group of that user (repeatable).")
@click.option("-n", "--namespace", default="", help="The namespace (default: the context's).")
@click.option("--subresource", default="", help="A subresource, such as log or scale.")
@click.option("--kubeconfig", default=None, help="The kubeconfig (default: as kubectl finds it).")
@click.option("--context", default=None, help="The kubeconfig context.")
@click.argument("verb")
@click.argument("resource")
@click.argument("name", required=False, default="")
def explain(
    as_user: str,
    as_groups: tuple[str, ...],
    namespace: str,
    subresource: str,
    kubeconfig: str | None,
    context: str | None,
    verb: str,
    resource: str,
    name: str,
) -> None:
    """Why USER may or may not VERB RESOURCE [NAME]: binding, role and rule, or near misses."""
    credentials = ClientCredentials.from_default_locations(kubeconfig, context)
    client = APIClient(credentials)
    found: Resource | None = None
    if not resource.startswith("/"):
        found, from_text = resolve_resource(client, resource)
        subresource = subresource or from_text
    user = impersonated_user(as_user, as_groups)
    review = access_review(
        user.name,
        user.groups,
        verb,
        found,
        subresource,
        name,
        namespace or credentials.namespace,
        resource,
    )
    status, answer = client.request(
        "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review
    )
    if status != 201 or not isinstance(answer, dict):
        raise InputError(f"SubjectAccessReview: {_message(status, answer)}")
    result = answer.get("status") or {}
    allowed = bool(result.get("allowed"))
    click.echo("yes" if allowed else "no")
    for line in str(result.get("reason") or "").splitlines():
        click.echo(f"  {line}")
    if result.get("evaluationError"):
        click.echo(f"  evaluation error: {result['evaluationError']}")
    sys.exit(0 if allowed else 1)


def _who_can_query(
    verb: str, found: Resource | None, subresource: str, name: str, namespace: str, path: str
) -> str:
    params = {"verb": verb}
    if found is None:
        params["path"] = path
    else:
        params.update(
            {
                "group": found.group,
                "version": found.version,
                "resource": found.resource,
                "subresource": subresource,
                "name": name,
                "namespace": namespace if found.namespaced else "",
            }
        )
    return urlencode({k: v for k, v in params.items() if v})


def _grant_row(grant: dict[str, Any]) -> list[str]:
    subject = grant.get("subject") or {}
    who = str(subject.get("name", ""))
    if subject.get("namespace"):
        who = f"{subject['namespace']}/{who}"
    if grant.get("alwaysAllowed"):
        return [str(subject.get("kind", "")), who, "(always allowed)", ""]
    policy = grant.get("policy")
    if policy:
        through = f"ABAC {policy.get('file')}:{policy.get('line')}"
        if policy.get("group"):
            through += f" (in group {policy['group']})"
        return [str(subject.get("kind", "")), who, through, ""]
    binding = grant.get("binding") or {}
    role = grant.get("role") or {}
    through = f"{binding.get('kind')}/{binding.get('name')}"
    if binding.get("namespace"):
        through = f"{binding['kind']}/{binding['namespace']}/{binding['name']}"
    return [str(subject.get("kind", "")), who, through, f"{role.get('kind')}/{role.get('name')}"]


@rbac.command("who-can")
@click.option("-n", "--namespace", default="", help="The namespace (default: the context's).")
@click.option("--subresource", default="", help="A subresource, such as log or scale.")
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--kubeconfig", default=None, help="The kubeconfig (default: as kubectl finds it).")
@click.option("--context", default=None, help="The kubeconfig context.")
@click.argument("verb")
@click.argument("resource")
@click.argument("name", required=False, default="")
def who_can(
    namespace: str,
    subresource: str,
    output: str,
    kubeconfig: str | None,
    context: str | None,
    verb: str,
    resource: str,
    name: str,
) -> None:
    """Every user, group and service account that may VERB RESOURCE [NAME], and through what.

    Computed by the server from the index its authorizer decides with; reading it needs
    ``get`` on the non-resource URL /debug/rbac/who-can (cluster-admin has it).
    """
    credentials = ClientCredentials.from_default_locations(kubeconfig, context)
    client = APIClient(credentials)
    found: Resource | None = None
    if not resource.startswith("/"):
        found, from_text = resolve_resource(client, resource)
        subresource = subresource or from_text
    query = _who_can_query(
        verb, found, subresource, name, namespace or credentials.namespace, resource
    )
    status, answer = client.request("GET", f"/debug/rbac/who-can?{query}")
    if status != 200 or not isinstance(answer, dict):
        raise InputError(f"who-can: {_message(status, answer)}")
    grants = answer.get("grants") or []
    if output == "json":
        click.echo(orjson.dumps(grants, option=orjson.OPT_INDENT_2).decode())
        return
    rows = [["KIND", "NAME", "THROUGH", "ROLE"], *(_grant_row(g) for g in grants)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
