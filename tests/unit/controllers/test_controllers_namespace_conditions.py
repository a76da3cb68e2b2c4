"""The deletion conditions of a terminating namespace: upstream's words, kept transition times."""

from __future__ import annotations

from kubeward.controllers.namespace_conditions import deletion_conditions, merged


def test_failures_and_leftovers_are_named_sorted() -> None:
    conditions = deletion_conditions(
        discovery_failures=["metrics.k8s.io/v1beta1"],
        content_failures={"pods.": "forbidden"},
        remaining={"secrets.": 2, "configmaps.": 1, "pods.": 0},
        finalizers={"b/x": 1, "a/y": 3},
    )
    by_type = {c["type"]: (c["status"], c["reason"], c["message"]) for c in conditions}
    assert by_type == {
        "NamespaceDeletionDiscoveryFailure": (
            "True",
            "DiscoveryFailed",
            "Discovery failed for some groups, 1 failing: metrics.k8s.io/v1beta1",
        ),
        "NamespaceDeletionContentFailure": (
            "True",
            "ContentDeletionFailed",
            "Failed to delete all resource types, 1 remaining: pods.: forbidden",
        ),
        "NamespaceContentRemaining": (
            "True",
            "SomeResourcesRemain",
            "Some resources are remaining: configmaps. has 1 resource instances,"
            " secrets. has 2 resource instances",
        ),
        "NamespaceFinalizersRemaining": (
            "True",
            "SomeFinalizersRemain",
            "Some content in the namespace has finalizers remaining: a/y in 3 resource"
            " instances, b/x in 1 resource instances",
        ),
    }


def test_an_unchanged_status_keeps_its_transition_time_and_no_change_writes_nothing() -> None:
    clean = deletion_conditions(
        discovery_failures=[], content_failures={}, remaining={}, finalizers={}
    )
    first = merged([], clean, "2026-01-01T00:00:00Z")
    assert first is not None and {c["status"] for c in first} == {"False"}
    assert merged(first, clean, "2026-01-02T00:00:00Z") is None
    held = deletion_conditions(
        discovery_failures=[], content_failures={}, remaining={"secrets.": 1}, finalizers={}
    )
    second = merged(first, held, "2026-01-03T00:00:00Z")
    assert second is not None
    times = {c["type"]: c["lastTransitionTime"] for c in second}
    assert times["NamespaceContentRemaining"] == "2026-01-03T00:00:00Z"
    assert times["NamespaceFinalizersRemaining"] == "2026-01-01T00:00:00Z"
