"""The scheduler's filters, fit message and bookkeeping, on plain objects."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from kubeward.scheduler.filters import (
    node_affinity,
    node_unschedulable,
    resources_fit,
    taint_toleration,
)
from kubeward.scheduler.messages import fit_error
from kubeward.scheduler.podinfo import pod_requests, tolerates
from kubeward.scheduler.scheduler import NodeUsage, is_pending


def node(
    name: str = "n1", *, labels: dict[str, str] | None = None, ready: bool = True, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [], **spec}}


def container(cpu: str = "", memory: str = "") -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"name": "c", "image": "x", "resources": {"requests": requests}}


def test_requests_sum_containers_and_take_the_largest_init_container() -> None:
    p = pod(
        containers=[container("250m", "64Mi"), container("250m")],
        initContainers=[container("1"), container("100m", "1Gi")],
        overhead={"cpu": "10m"},
    )
    assert pod_requests(p) == {
        "cpu": Fraction(1) + Fraction(1, 100),
        "memory": Fraction(2**30),
        "pods": Fraction(1),
    }


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (
            {"key": "k", "value": "v", "effect": "NoSchedule"},
            {"key": "k", "value": "v", "effect": "NoSchedule"},
            True,
        ),
        ({"key": "k", "value": "w"}, {"key": "k", "value": "v", "effect": "NoSchedule"}, False),
        (
            {"key": "k", "operator": "Exists"},
            {"key": "k", "value": "v", "effect": "NoExecute"},
            True,
        ),
        ({"operator": "Exists"}, {"key": "anything", "effect": "NoSchedule"}, True),
        (
            {"key": "k", "operator": "Exists", "effect": "NoExecute"},
            {"key": "k", "effect": "NoSchedule"},
            False,
        ),
        ({"key": "other", "operator": "Exists"}, {"key": "k", "effect": "NoSchedule"}, False),
    ],
    ids=["equal", "value-differs", "exists", "wildcard", "effect-differs", "key-differs"],
)
def test_tolerations(toleration: dict[str, str], taint: dict[str, str], expected: bool) -> None:
    assert tolerates(toleration, taint) is expected


def test_taints_refuse_unless_tolerated_and_not_ready_counts_as_a_taint() -> None:
    tainted = node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert taint_toleration(pod(), tainted, {}) == "node(s) had untolerated taint {dedicated: gpu}"
    tolerant = pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}])
    assert taint_toleration(tolerant, tainted, {}) is None
    soft = node(taints=[{"key": "k", "effect": "PreferNoSchedule"}])
    assert taint_toleration(pod(), soft, {}) is None
    assert (
        taint_toleration(pod(), node(ready=False), {})
        == "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
    )


def test_unschedulable_nodes() -> None:
    cordoned = node(unschedulable=True)
    assert node_unschedulable(pod(), cordoned, {}) == "node(s) were unschedulable"
    tolerant = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}])
    assert node_unschedulable(tolerant, cordoned, {}) is None


@pytest.mark.parametrize(
    ("spec", "fits"),
    [
        ({"nodeSelector": {"disk": "ssd"}}, True),
        ({"nodeSelector": {"disk": "hdd"}}, False),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "zone", "operator": "In", "values": ["a", "b"]}
                                    ]
                                }
                            ]
                        }
                    }
                }
            },
            True,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "zone", "operator": "NotIn", "values": ["a"]}
                                    ]
                                },
                                {
                                    "matchExpressions": [
                                        {"key": "gpus", "operator": "Gt", "values": ["1"]}
                                    ]
                                },
                            ]
                        }
                    }
                }
            },
            True,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "gpus", "operator": "Lt", "values": ["2"]}
                                    ]
                                }
                            ]
                        }
                    }
                }
            },
            False,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchFields": [
                                        {"key": "metadata.name", "operator": "In", "values": ["n1"]}
                                    ]
                                }
                            ]
                        }
                    }
                }
            },
            True,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{}]
                        }
                    }
                }
            },
            False,
        ),
    ],
    ids=["selector", "selector-miss", "in", "or-of-terms", "lt", "match-fields", "empty-term"],
)
def test_node_affinity(spec: dict[str, Any], fits: bool) -> None:
    labelled = node(labels={"disk": "ssd", "zone": "a", "gpus": "4"})
    reason = node_affinity(pod(**spec), labelled, {})
    assert (reason is None) is fits
    if not fits:
        assert reason == "node(s) didn't match Pod's node affinity/selector"


def test_resources_fit_against_what_is_free() -> None:
    free = {"cpu": Fraction(1, 2), "memory": Fraction(2**30), "pods": Fraction(1)}
    assert resources_fit(pod(containers=[container("500m", "1Gi")]), node(), free) is None
    assert resources_fit(pod(containers=[container("501m")]), node(), free) == "Insufficient cpu"
    assert (
        resources_fit(pod(containers=[container(memory="2Gi")]), node(), free)
        == "Insufficient memory"
    )
    assert resources_fit(pod(), node(), {**free, "pods": Fraction(0)}) == "Too many pods"


def test_the_fit_error_counts_and_sorts_reasons_as_kube_scheduler() -> None:
    reasons = [
        "node(s) didn't match Pod's node affinity/selector",
        "Insufficient cpu",
        "node(s) didn't match Pod's node affinity/selector",
    ]
    assert fit_error(3, reasons) == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
    )
    assert fit_error(0, []) == "no nodes available to schedule pods"


def test_usage_follows_pods_and_assumed_bindings() -> None:
    usage = NodeUsage()
    running = pod(containers=[container("1")], nodeName="n1")
    usage.observe(running, "ns/a")
    assert usage.free(node())["cpu"] == 1
    usage.assume("ns/b", pod(containers=[container("500m")]), "n1")
    assert usage.free(node())["cpu"] == Fraction(1, 2)
    usage.observe({**running, "status": {"phase": "Succeeded"}}, "ns/a")
    assert usage.free(node())["cpu"] == Fraction(3, 2)
    usage.observe(None, "ns/b")
    assert usage.free(node()) == {"cpu": 2, "memory": 4 * 2**30, "pods": 110}


def test_what_is_pending() -> None:
    assert is_pending(pod())
    assert not is_pending(pod(nodeName="n1"))
    assert not is_pending(pod(schedulerName="my-scheduler"))
    assert not is_pending({**pod(), "status": {"phase": "Failed"}})


def versioned(resource_version: str, cpu: str) -> dict[str, Any]:
    obj = node()
    obj["metadata"]["resourceVersion"] = resource_version
    obj["status"]["allocatable"]["cpu"] = cpu
    return obj


def test_allocatable_is_parsed_once_per_node_version() -> None:
    usage = NodeUsage()
    first = usage.allocatable(versioned("7", "2"))
    assert first["cpu"] == 2
    assert usage.allocatable(versioned("7", "2")) is first  # same version: not parsed again
    assert usage.allocatable(versioned("8", "3"))["cpu"] == 3  # a new version is read
    assert usage.free(versioned("8", "3"))["cpu"] == 3
    usage.forget_node("n1")
    assert usage.allocatable(versioned("8", "4"))["cpu"] == 4  # forgotten: read afresh


def test_allocatable_without_a_version_is_always_read() -> None:
    usage = NodeUsage()
    assert usage.free(versioned("", "2"))["cpu"] == 2
    assert usage.free(versioned("", "1"))["cpu"] == 1


def test_free_of_a_versioned_node_follows_its_pods() -> None:
    usage = NodeUsage()
    current = versioned("7", "2")
    assert usage.free(current)["cpu"] == 2
    usage.assume("ns/a", pod(containers=[container("500m")]), "n1")
    assert usage.free(current)["cpu"] == Fraction(3, 2)  # same node version, new usage
    usage.observe(None, "ns/a")
    assert usage.free(current)["cpu"] == 2
    assert usage.free(versioned("8", "4"))["cpu"] == 4  # same usage, new node version


def test_score_spreads_by_the_share_left_after_the_pod() -> None:
    usage = NodeUsage()
    busy, idle = versioned("1", "2"), versioned("1", "2")
    busy["metadata"]["name"], idle["metadata"]["name"] = "busy", "idle"
    usage.assume("ns/a", pod(containers=[container("1")]), "busy")
    wanted = pod_requests(pod(containers=[container("500m", "1Gi")]))
    assert usage.score(idle, wanted) > usage.score(busy, wanted)
    # cpu (2 - 0.5) / 2 plus memory (4Gi - 1Gi) / 4Gi, then the pods left, then the name
    assert usage.score(idle, wanted) == (Fraction(3, 4) + Fraction(3, 4), 110, "idle")
    assert usage.score(busy, wanted) == (Fraction(1, 4) + Fraction(3, 4), 109, "busy")
