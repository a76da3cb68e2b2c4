"""ValidatingAdmissionPolicy decisions per second, next to RBAC decisions per second.

A policy of 5 CEL validations over Deployments (one reads a ConfigMap parameter, one a variable)
and a binding with a namespace selector decide admission for Deployment creates (half admitted,
half refused, so every admitted write evaluates all 5); the same policy is also timed for a write
it does not match (ConfigMaps), which is what most writes cost with a policy installed. The
baseline is kubeward's RBAC authorizer deciding, in the same run, over 1,000 bindings
(``benchmarks/rbac.py``'s objects and requests).

Both sides are in-process and read their objects from memory (the plugin through a reader with
informer-like ``cached`` lists), so the figures compare the decision work, not I/O.

Run: ``python benchmarks/admission_policy.py [--quick]`` (or ``benchmarks/run.py admission_policy``)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import rbac as rbac_benchmark  # noqa: E402

from kubeward.admission.interfaces import CREATE, AdmissionRequest  # noqa: E402
from kubeward.admission.policy import ValidatingAdmissionPolicyPlugin  # noqa: E402
from kubeward.api.user import UserInfo  # noqa: E402
from kubeward.authz.rbac.authorizer import RBACAuthorizer  # noqa: E402
from kubeward.authz.rbac.index import RBACIndex  # noqa: E402
from kubeward.errors import RemoteStatus  # noqa: E402

GROUP = "admissionregistration.k8s.io"
POLICY = {
    "metadata": {"name": "deployment-rules"},
    "spec": {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {
            "resourceRules": [
                {
                    "operations": ["CREATE", "UPDATE"],
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "resources": ["deployments"],
                }
            ]
        },
        "variables": [{"name": "containers", "expression": "object.spec.template.spec.containers"}],
        "validations": [
            {"expression": "object.spec.replicas <= int(params.data.maxReplicas)"},
            {"expression": "has(object.metadata.labels) && 'team' in object.metadata.labels"},
            {"expression": "variables.containers.all(c, !c.image.endsWith(':latest'))"},
            {"expression": "variables.containers.all(c, has(c.resources))"},
            {"expression": "object.metadata.name.size() <= 40", "reason": "Forbidden"},
        ],
    },
}
BINDING = {
    "metadata": {"name": "deployment-rules"},
    "spec": {
        "policyName": "deployment-rules",
        "validationActions": ["Deny"],
        "paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"},
        "matchResources": {"namespaceSelector": {"matchLabels": {"policy": "on"}}},
    },
}
PARAM = {"metadata": {"name": "limits", "namespace": "apps"}, "data": {"maxReplicas": "5"}}


class MemoryReader:
    """The plugin's view of the server: informer-like lists and a namespace."""

    def __init__(self) -> None:
        self.lists = {
            f"validatingadmissionpolicies.{GROUP}": [POLICY],
            f"validatingadmissionpolicybindings.{GROUP}": [BINDING],
            "configmaps": [PARAM],
        }
        self.namespace = {"metadata": {"name": "apps", "labels": {"policy": "on"}}}

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.namespace if resource == "namespaces" else None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return self.lists.get(resource, [])

    async def cached(self, resource: str) -> list[dict[str, Any]]:
        return self.lists.get(resource, [])

    def resource_for(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        return ("configmaps", True) if (api_version, kind) == ("v1", "ConfigMap") else None


def deployment(index: int) -> dict[str, Any]:
    replicas = 3 if index % 2 == 0 else 9  # odd ones are refused
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"web-{index}", "namespace": "apps", "labels": {"team": "a"}},
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "image": "nginx:1.27", "resources": {}},
                        {"name": "s", "image": "envoy:1.30", "resources": {}},
                    ]
                }
            },
        },
    }


def request(index: int, *, matched: bool) -> AdmissionRequest:
    if matched:
        group, resource, kind, obj = "apps", "deployments", "Deployment", deployment(index)
    else:
        group, resource, kind = "", "configmaps", "ConfigMap"
        obj = {"metadata": {"name": f"c-{index}", "namespace": "apps"}, "data": {}}
    return AdmissionRequest(
        CREATE,
        group,
        resource,
        kind,
        "",
        "apps",
        str(obj["metadata"]["name"]),
        UserInfo("alice", groups=("dev",)),
        obj,
        version="v1",
    )


async def policy_rate(requests: list[AdmissionRequest], budget: float) -> tuple[float, int]:
    """Admission decisions per second, and how many of ``requests`` were refused."""
    plugin, reader = ValidatingAdmissionPolicyPlugin(), MemoryReader()
    refused = 0
    for r in requests:  # once, to count (and to compile every expression before timing)
        try:
            await plugin.validate(r, reader)
        except RemoteStatus:
            refused += 1
    done = 0
    start = time.perf_counter()
    while True:
        for r in requests:
            with contextlib.suppress(RemoteStatus):
                await plugin.validate(r, reader)
            done += 1
        if time.perf_counter() - start >= budget:
            return done / (time.perf_counter() - start), refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budget")
    args = parser.parse_args(argv)
    budget = 0.5 if args.quick else 3.0
    rounds = 3

    objects, who = rbac_benchmark.build_objects(1_000)
    index = RBACIndex()
    index.load(objects)
    authorizer = RBACAuthorizer(index, explain_denials=False)
    rbac_requests = rbac_benchmark.build_requests(who, 400)
    matched = [request(i, matched=True) for i in range(200)]
    unmatched = [request(i, matched=False) for i in range(200)]

    best = {"policy": 0.0, "unmatched": 0.0, "rbac": 0.0}
    refused = 0
    for _ in range(rounds):  # interleaved, so a busy machine slows all of them alike
        figure, refused = asyncio.run(policy_rate(matched, budget / rounds))
        best["policy"] = max(best["policy"], figure)
        best["unmatched"] = max(
            best["unmatched"], asyncio.run(policy_rate(unmatched, budget / rounds))[0]
        )
        best["rbac"] = max(
            best["rbac"], rbac_benchmark.rate(authorizer.authorize, rbac_requests, budget / rounds)
        )
    rbac = best["rbac"]
    print("decisions per second, best of interleaved rounds; ratio = figure / RBAC (baseline)")
    print(f"{'RBAC, 1,000 bindings (baseline)':<52} {rbac:>12,.0f}")
    print(
        f"{'ValidatingAdmissionPolicy, 5 rules, matched':<52} {best['policy']:>12,.0f}"
        f"  {best['policy'] / rbac:>6.2f}x  ({refused}/{len(matched)} refused)"
    )
    print(
        f"{'ValidatingAdmissionPolicy installed, write not matched':<52}"
        f" {best['unmatched']:>12,.0f}  {best['unmatched'] / rbac:>6.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
