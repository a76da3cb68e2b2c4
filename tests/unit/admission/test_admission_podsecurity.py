"""The PodSecurity admission plugin: levels, modes, messages, exemptions."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.podsecurity import (
    PodSecurityConfiguration,
    PodSecurityPlugin,
    Policy,
    namespace_policies,
)
from kubeward.admission.plugins.podsecurity_checks import check_pod
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden, Invalid

RESTRICTED_OK: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}


class Reader:
    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return {"metadata": {"name": name, "labels": self.labels}}

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def run(
    labels: dict[str, str], spec: dict[str, Any], user: str = "jane", **config: Any
) -> AdmissionRequest:
    request = AdmissionRequest(
        "CREATE",
        "",
        "pods",
        "Pod",
        "",
        "ns",
        "p",
        UserInfo(user),
        {"metadata": {"name": "p"}, "spec": spec},
    )
    asyncio.run(
        PodSecurityPlugin(PodSecurityConfiguration(**config)).validate(request, Reader(labels))
    )
    return request


def test_enforce_restricted_lists_every_violation_in_upstream_words() -> None:
    with pytest.raises(Forbidden) as caught:
        run({"pod-security.kubernetes.io/enforce": "restricted"}, {"containers": [{"name": "app"}]})
    assert caught.value.message == (
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
    )


def test_compliant_pod_passes_restricted() -> None:
    request = run({"pod-security.kubernetes.io/enforce": "restricted"}, RESTRICTED_OK)
    assert request.warnings == []


def test_warn_and_audit_do_not_refuse() -> None:
    labels = {
        "pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/audit": "baseline",
    }
    request = run(labels, {"hostNetwork": True, "containers": [{"name": "app"}]})
    assert request.warnings == [
        'would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'
    ]
    assert (
        "host namespaces"
        in request.audit_annotations["pod-security.kubernetes.io/audit-violations"]
    )


@pytest.mark.parametrize(
    ("config", "user"),
    [
        ({"exempt_usernames": frozenset({"ci"})}, "ci"),
        ({"exempt_namespaces": frozenset({"ns"})}, "jane"),
    ],
    ids=["user", "namespace"],
)
def test_exemptions_skip_the_checks(config: dict[str, Any], user: str) -> None:
    run(
        {"pod-security.kubernetes.io/enforce": "restricted"},
        {"containers": [{"name": "app"}]},
        user,
        **config,
    )


CASES = [
    (
        "privileged",
        {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
        'privileged (container "c" must not set securityContext.privileged=true)',
    ),
    (
        "capabilities",
        {
            "containers": [
                {"name": "c", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}
            ]
        },
        'non-default capabilities (container "c" must not include "NET_ADMIN" in securityContext.capabilities.add)',
    ),
    (
        "hostPath",
        {"volumes": [{"name": "h", "hostPath": {"path": "/"}}], "containers": []},
        'hostPath volumes (volume "h")',
    ),
    (
        "hostPort",
        {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]},
        'hostPort (container "c" uses hostPort 80)',
    ),
    (
        "procMount",
        {"containers": [{"name": "c", "securityContext": {"procMount": "Unmasked"}}]},
        'procMount (container "c" must not set securityContext.procMount to "Unmasked")',
    ),
    (
        "seccomp",
        {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": []},
        'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    ),
    (
        "sysctls",
        {
            "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
            "containers": [],
        },
        "forbidden sysctls (kernel.msgmax)",
    ),
    (
        "selinux",
        {"securityContext": {"seLinuxOptions": {"type": "spc_t"}}, "containers": []},
        'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")',
    ),
]


@pytest.mark.parametrize(("name", "spec", "expected"), CASES, ids=[c[0] for c in CASES])
def test_baseline_checks(name: str, spec: dict[str, Any], expected: str) -> None:
    assert [str(v) for v in check_pod("baseline", 32, {}, spec)] == [expected]
    assert check_pod("privileged", 32, {}, spec) == []


def test_run_as_root_is_refused_by_restricted() -> None:
    spec = {
        **RESTRICTED_OK,
        "securityContext": {**RESTRICTED_OK["securityContext"], "runAsUser": 0},
    }
    assert [str(v) for v in check_pod("restricted", 32, {}, spec)] == [
        "runAsUser=0 (pod must not set runAsUser=0)"
    ]


@pytest.mark.parametrize(
    ("labels", "enforce"),
    [
        ({}, Policy("privileged", "latest")),
        (
            {
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/enforce-version": "v1.29",
            },
            Policy("baseline", "v1.29"),
        ),
        ({"pod-security.kubernetes.io/enforce": "strict"}, Policy("restricted", "latest")),
    ],
    ids=["unlabelled", "versioned", "invalid-fails-closed"],
)
def test_policies_from_labels(labels: dict[str, str], enforce: Policy) -> None:
    assert namespace_policies(labels, {})["enforce"] == enforce


class PodsReader(Reader):
    def __init__(self, pods: list[dict[str, Any]]) -> None:
        super().__init__({})
        self.pods = pods

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return self.pods if resource == "pods" else []


def test_tightening_a_namespace_warns_about_existing_pods() -> None:
    old = {"metadata": {"name": "ns", "labels": {}}}
    new = {"metadata": {"name": "ns", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}
    pods = [
        {
            "metadata": {"name": "hostnet"},
            "spec": {"hostNetwork": True, "containers": [{"name": "c"}]},
        },
        {"metadata": {"name": "fine"}, "spec": {"containers": [{"name": "c"}]}},
    ]
    request = AdmissionRequest(
        "UPDATE", "", "namespaces", "Namespace", "", "", "ns", UserInfo("u"), new, old
    )
    asyncio.run(PodSecurityPlugin().validate(request, PodsReader(pods)))
    assert request.warnings == [
        'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
        "hostnet: host namespaces",
    ]


def test_workload_templates_get_warnings_for_enforce_not_refusals() -> None:
    deployment = {
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "app"}]}}},
    }
    request = AdmissionRequest(
        "CREATE", "apps", "deployments", "Deployment", "", "ns", "d", UserInfo("u"), deployment
    )
    labels = {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    asyncio.run(PodSecurityPlugin().validate(request, Reader(labels)))
    assert len(request.warnings) == 1
    assert request.warnings[0].startswith(
        'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation'
    )


def namespace_request(
    operation: str, labels: dict[str, str], old_labels: dict[str, str] | None = None
) -> AdmissionRequest:
    new = {"metadata": {"name": "ns", "labels": labels}}
    old = None if old_labels is None else {"metadata": {"name": "ns", "labels": old_labels}}
    return AdmissionRequest(
        operation, "", "namespaces", "Namespace", "", "", "ns", UserInfo("u"), new, old
    )


ENFORCE = "pod-security.kubernetes.io/enforce"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            {ENFORCE: "strict"},
            'Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: '
            'Invalid value: "strict": must be one of privileged, baseline, restricted',
        ),
        (
            {f"{ENFORCE}-version": "1.29"},
            'Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce-version]: '
            'Invalid value: "1.29": must be "latest" or "v1.x"',
        ),
        (
            {"pod-security.kubernetes.io/warn": "Baseline", "pod-security.kubernetes.io/audit": ""},
            'Namespace "ns" is invalid: ['
            'metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "": '
            "must be one of privileged, baseline, restricted, "
            'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Baseline": '
            "must be one of privileged, baseline, restricted]",
        ),
    ],
    ids=["enforce-strict", "version-without-v", "two-at-once"],
)
def test_invalid_labels_are_refused_on_create(labels: dict[str, str], message: str) -> None:
    with pytest.raises(Invalid) as raised:
        asyncio.run(PodSecurityPlugin().validate(namespace_request("CREATE", labels), Reader({})))
    status = raised.value.to_status()
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["message"] == message
    assert status["details"]["kind"] == "Namespace" and status["details"]["name"] == "ns"


def test_an_update_is_refused_only_when_it_brings_a_new_problem() -> None:
    plugin = PodSecurityPlugin(PodSecurityConfiguration(exempt_namespaces=frozenset({"ns"})))
    bad = {ENFORCE: "strict"}
    with pytest.raises(Invalid):  # new problem, exempt namespace or not (checked first)
        asyncio.run(plugin.validate(namespace_request("UPDATE", bad, {}), Reader({})))
    # The same problem already stored: an unrelated label change goes through.
    same = namespace_request("UPDATE", {**bad, "team": "a"}, bad)
    asyncio.run(plugin.validate(same, Reader({})))
    with pytest.raises(Invalid):  # a different bad value is a new problem
        asyncio.run(
            plugin.validate(namespace_request("UPDATE", {ENFORCE: "strictest"}, bad), Reader({}))
        )
    asyncio.run(
        plugin.validate(namespace_request("UPDATE", {ENFORCE: "baseline"}, bad), Reader({}))
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (
            {ENFORCE: "strict", "pod-security.kubernetes.io/warn": "strict"},
            {"enforce": Policy("restricted", "latest"), "warn": Policy("privileged", "latest")},
        ),
        (
            {ENFORCE: "baseline", f"{ENFORCE}-version": "next"},
            {"enforce": Policy("baseline", "latest")},
        ),
        (
            {"pod-security.kubernetes.io/audit-version": "v1.25"},
            {"audit": Policy("privileged", "v1.25")},
        ),
    ],
    ids=["enforce-closed-warn-open", "bad-version-is-latest", "version-alone"],
)
def test_stored_invalid_labels_are_evaluated_as_upstream(
    labels: dict[str, str], expected: dict[str, Policy]
) -> None:
    policies = namespace_policies(labels, {})
    assert {mode: policies[mode] for mode in expected} == expected


def test_a_privileged_ephemeral_container_is_refused_through_its_subresource() -> None:
    spec = {
        **RESTRICTED_OK,
        "ephemeralContainers": [
            {"name": "debugger", "image": "busybox", "securityContext": {"privileged": True}}
        ],
    }
    request = AdmissionRequest(
        "UPDATE",
        "",
        "pods",
        "Pod",
        "ephemeralcontainers",
        "ns",
        "p",
        UserInfo("jane"),
        {"metadata": {"name": "p"}, "spec": spec},
        {"metadata": {"name": "p"}, "spec": RESTRICTED_OK},
    )
    plugin = PodSecurityPlugin(PodSecurityConfiguration())
    with pytest.raises(
        Forbidden,
        match=re.escape('container "debugger" must not set securityContext.privileged=true'),
    ):
        asyncio.run(
            plugin.validate(request, Reader({"pod-security.kubernetes.io/enforce": "baseline"}))
        )
    request.subresource = "status"  # other subresources are not evaluated, as upstream
    asyncio.run(
        plugin.validate(request, Reader({"pod-security.kubernetes.io/enforce": "baseline"}))
    )
