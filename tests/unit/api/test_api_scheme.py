"""The scheme's ordering of a group's versions: Kubernetes' version priority."""

from __future__ import annotations

from kubeward.api.scheme import ResourceType, Scheme, version_priority


def test_versions_sort_as_kubernetes_compares_them() -> None:
    given = ["foo10", "v1alpha1", "v1", "v11beta2", "v2", "foo1", "v10beta3", "v12alpha1", "v10"]
    assert sorted(given, key=version_priority) == [
        "v10", "v2", "v1", "v11beta2", "v10beta3", "v12alpha1", "v1alpha1", "foo1", "foo10",
    ]  # fmt: skip


def test_a_groups_preferred_version_is_its_highest_priority_one() -> None:
    scheme = Scheme()
    for version in ("v1beta1", "v1", "v2alpha1"):
        scheme.add(ResourceType("example.com", version, "Widget", "widgets", True))
    assert scheme.versions("example.com") == ["v1", "v1beta1", "v2alpha1"]
