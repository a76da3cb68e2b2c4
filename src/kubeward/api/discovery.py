"""Discovery documents: ``/api``, ``/apis``, ``/api/v1`` and ``/apis/GROUP/VERSION``.

Rules (measured against kubectl, see shared/reference/kubectl-wire.md §1):

 1. Aggregated discovery (``APIGroupDiscoveryList``) is sent only when the Accept header has a
    media range with exactly ``v=v2`` (or ``v=v2beta1``) and ``as=APIGroupDiscoveryList``; the
    response Content-Type then names that exact version, or kubectl silently finds nothing.
 2. Otherwise the legacy ``APIVersions`` / ``APIGroupList`` documents are sent.
 3. Every resource carries ``scope`` and ``verbs``; subresources are listed under their parent.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.scheme import ResourceType, Scheme

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def negotiate_aggregated(accept: str) -> str | None:
    """The aggregated discovery version the client asked for (``v2``/``v2beta1``), or None."""
    offered: list[str] = []
    for media_range in accept.split(","):
        params = {}
        pieces = [p.strip() for p in media_range.split(";")]
        if pieces[0] not in ("application/json", "*/*", "application/*"):
            continue
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip()] = value.strip()
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList":
            version = params.get("v", "")
            if version in ("v2", "v2beta1"):
                offered.append(version)
    if "v2" in offered:
        return "v2"
    if "v2beta1" in offered:
        return "v2beta1"
    return None


def _resource_entry(rt: ResourceType, subs: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.resource,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": sorted(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if subs and rt.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": sub.group or rt.group,
                    "version": sub.version or rt.version,
                    "kind": sub.kind,
                },
                "verbs": sorted(sub.verbs),
            }
            for sub in rt.subresources
        ]
    return entry


def aggregated(scheme: Scheme, *, core: bool, version: str) -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` for ``/api`` (core) or ``/apis`` (named groups)."""
    items = []
    for group in scheme.groups():
        if (group == "") != core:
            continue
        versions = []
        for ver in scheme.versions(group):
            versions.append(
                {
                    "version": ver,
                    "resources": [
                        _resource_entry(rt) for rt in scheme.in_group_version(group, ver)
                    ],
                    "freshness": "Current",
                }
            )
        item: dict[str, Any] = {"metadata": {"name": group} if group else {}, "versions": versions}
        items.append(item)
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(scheme: Scheme, group: str) -> dict[str, Any]:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in scheme.versions(group)]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list(scheme: Scheme) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(scheme, g) for g in scheme.groups() if g],
    }


def api_group(scheme: Scheme, group: str) -> dict[str, Any] | None:
    if group not in scheme.groups() or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(scheme, group)}


def api_resource_list(scheme: Scheme, group: str, version: str) -> dict[str, Any] | None:
    types = scheme.in_group_version(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        entry: dict[str, Any] = {
            "name": rt.resource,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": sorted(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{rt.resource}/{sub.name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind,
                "verbs": sorted(sub.verbs),
            }
            if sub.group:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
