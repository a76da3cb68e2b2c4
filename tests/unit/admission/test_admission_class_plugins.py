"""The Priority, DefaultStorageClass, PersistentVolumeClaimResize and DefaultIngressClass
admission plugins against a fake object reader."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.classdefaults import newest_default
from kubeward.admission.plugins.defaultingressclass import DefaultIngressClassPlugin
from kubeward.admission.plugins.defaultstorageclass import DefaultStorageClassPlugin
from kubeward.admission.plugins.persistentvolumeclaimresize import (
    PersistentVolumeClaimResizePlugin,
)
from kubeward.admission.plugins.priority import PriorityPlugin
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden

DEFAULT_SC = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_SC = "storageclass.beta.kubernetes.io/is-default-class"


def klass(
    name: str, created: str = "2026-01-01T00:00:00Z", default: str = "", **fields: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": created}
    if default:
        meta["annotations"] = {default: "true"}
    return {"metadata": meta, **fields}


class Reader:
    def __init__(self, **objects: list[dict[str, Any]]) -> None:
        self.objects = objects  # resource (plain plural) -> items

    def _items(self, resource: str) -> list[dict[str, Any]]:
        return self.objects.get(resource.partition(".")[0], [])

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return next((o for o in self._items(resource) if o["metadata"]["name"] == name), None)

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return self._items(resource)


def request(
    operation: str,
    group: str,
    resource: str,
    obj: dict[str, Any],
    old: dict[str, Any] | None = None,
    name: str = "x",
) -> AdmissionRequest:
    return AdmissionRequest(
        operation, group, resource, "", "", "ns", name, UserInfo("u"), obj, old_object=old
    )


# --- classdefaults ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ([klass("a"), klass("b")], None),
        ([klass("a", default=DEFAULT_SC), klass("b")], "a"),
        ([klass("a", default=BETA_DEFAULT_SC)], "a"),
        (
            [
                klass("old", "2026-01-01T00:00:00Z", DEFAULT_SC),
                klass("new", "2026-02-01T00:00:00Z", DEFAULT_SC),
            ],
            "new",
        ),
        ([klass("b", default=DEFAULT_SC), klass("a", default=DEFAULT_SC)], "a"),
        ([{"metadata": {"name": "no", "annotations": {DEFAULT_SC: "True"}}}], None),
    ],
    ids=["none", "one", "beta", "newest-wins", "tie-by-name", "only-exact-true"],
)
def test_the_default_class_is_the_newest(classes: list[Any], expected: str | None) -> None:
    found = newest_default(classes, (DEFAULT_SC, BETA_DEFAULT_SC))
    assert (found["metadata"]["name"] if found else None) == expected


# --- Priority -----------------------------------------------------------------------------
CLASSES = [
    klass("high", value=1000),
    klass("never", value=50, preemptionPolicy="Never"),
    klass("system-cluster-critical", value=2000000000),
]


def admit_pod(spec: dict[str, Any], classes: list[Any] | None = None) -> dict[str, Any]:
    pod = {"metadata": {"name": "p"}, "spec": spec}
    reader = Reader(priorityclasses=CLASSES if classes is None else classes)
    asyncio.run(PriorityPlugin().admit(request("CREATE", "", "pods", pod), reader))
    return pod["spec"]


def test_a_named_class_gives_its_value_and_policy() -> None:
    assert admit_pod({"priorityClassName": "high"})["priority"] == 1000
    spec = admit_pod({"priorityClassName": "never"})
    assert (spec["priority"], spec["preemptionPolicy"]) == (50, "Never")
    assert admit_pod({"priorityClassName": "system-cluster-critical"})["priority"] == 2000000000


def test_without_a_class_the_lowest_global_default_or_zero() -> None:
    assert admit_pod({}) == {"priority": 0}
    defaults = [
        *CLASSES,
        klass("d1", value=300, globalDefault=True),
        klass("d2", value=200, globalDefault=True),
    ]
    spec = admit_pod({}, defaults)
    assert (spec["priorityClassName"], spec["priority"]) == ("d2", 200)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"priorityClassName": "nope"}, "no PriorityClass with name nope was found"),
        (
            {"priorityClassName": "high", "priority": 7},
            "the integer value of priority (7) must not be provided in pod spec; priority "
            "admission controller computed 1000 from the given PriorityClass name",
        ),
        (
            {"priorityClassName": "never", "preemptionPolicy": "PreemptLowerPriority"},
            "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided "
            "in pod spec; priority admission controller computed Never from the given "
            "PriorityClass name",
        ),
    ],
    ids=["unknown-class", "given-priority", "given-policy"],
)
def test_refusals_are_forbidden_in_upstreams_words(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(Forbidden) as caught:
        admit_pod(spec)
    assert caught.value.message == f'pods "x" is forbidden: {message}'


def test_an_update_keeps_the_computed_priority() -> None:
    old = {"spec": {"priority": 1000, "preemptionPolicy": "Never"}}
    pod: dict[str, Any] = {"spec": {}}
    asyncio.run(PriorityPlugin().admit(request("UPDATE", "", "pods", pod, old), Reader()))
    assert pod["spec"] == {"priority": 1000, "preemptionPolicy": "Never"}


@pytest.mark.parametrize(
    ("operation", "name", "refused"),
    [("CREATE", "other", True), ("UPDATE", "other", True), ("UPDATE", "d", False)],
    ids=["create-second", "mark-another", "keep-self"],
)
def test_only_one_global_default(operation: str, name: str, refused: bool) -> None:
    reader = Reader(priorityclasses=[klass("d", value=1, globalDefault=True)])
    obj = {"metadata": {"name": name}, "value": 5, "globalDefault": True}
    req = request(operation, "scheduling.k8s.io", "priorityclasses", obj, obj, name=name)
    if not refused:
        asyncio.run(PriorityPlugin().validate(req, reader))
        return
    with pytest.raises(Forbidden) as caught:
        asyncio.run(PriorityPlugin().validate(req, reader))
    assert caught.value.message == (
        f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass d is already '
        "marked as default. Only one default can exist"
    )


# --- DefaultStorageClass ------------------------------------------------------------------
STORAGE = [
    klass("old", "2026-01-01T00:00:00Z", DEFAULT_SC),
    klass("new", "2026-03-01T00:00:00Z", BETA_DEFAULT_SC),
]


@pytest.mark.parametrize(
    ("claim", "operation", "expected"),
    [
        ({"spec": {}}, "CREATE", "new"),
        ({"spec": {"storageClassName": ""}}, "CREATE", ""),
        ({"spec": {"storageClassName": "gold"}}, "CREATE", "gold"),
        (
            {
                "metadata": {"annotations": {"volume.beta.kubernetes.io/storage-class": "x"}},
                "spec": {},
            },
            "CREATE",
            None,
        ),
        ({"spec": {}}, "UPDATE", None),
    ],
    ids=["defaulted", "empty-means-none", "named", "beta-annotation", "update-untouched"],
)
def test_a_claim_without_a_class_gets_the_newest_default(
    claim: dict[str, Any], operation: str, expected: str | None
) -> None:
    req = request(operation, "", "persistentvolumeclaims", claim, claim)
    asyncio.run(DefaultStorageClassPlugin().admit(req, Reader(storageclasses=STORAGE)))
    assert claim["spec"].get("storageClassName") == expected


def test_no_default_storage_class_leaves_the_claim_alone() -> None:
    claim: dict[str, Any] = {"spec": {}}
    req = request("CREATE", "", "persistentvolumeclaims", claim)
    asyncio.run(DefaultStorageClassPlugin().admit(req, Reader(storageclasses=[klass("a")])))
    assert "storageClassName" not in claim["spec"]


# --- PersistentVolumeClaimResize ----------------------------------------------------------
RESIZE_CLASSES = [
    klass("grows", allowVolumeExpansion=True),
    klass("fixed", allowVolumeExpansion=False),
    klass("unsaid"),
]
NOT_EXPANDABLE = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions "
    "the pvc must support resize"
)


def claim(size: str, klass_name: str = "grows", phase: str = "Bound") -> dict[str, Any]:
    return {
        "metadata": {"name": "c"},
        "spec": {"storageClassName": klass_name, "resources": {"requests": {"storage": size}}},
        "status": {"phase": phase},
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (claim("1Gi"), claim("2Gi"), None),
        (claim("2Gi"), claim("1Gi"), None),
        (claim("1Gi"), claim("1024Mi"), None),
        (
            claim("1Gi", phase="Pending"),
            claim("2Gi"),
            "Only bound persistent volume claims can be expanded",
        ),
        (claim("1Gi", "fixed"), claim("2Gi", "fixed"), NOT_EXPANDABLE),
        (claim("1Gi", "unsaid"), claim("2Gi", "unsaid"), NOT_EXPANDABLE),
        (claim("1Gi", "missing"), claim("2Gi", "missing"), NOT_EXPANDABLE),
        (claim("1Gi", ""), claim("2Gi", ""), NOT_EXPANDABLE),
    ],
    ids=[
        "grow-allowed",
        "shrink-is-validations",
        "same-size",
        "unbound",
        "class-forbids",
        "class-silent",
        "class-missing",
        "no-class",
    ],
)
def test_a_claim_grows_only_when_bound_and_its_class_allows_it(
    old: dict[str, Any], new: dict[str, Any], message: str | None
) -> None:
    req = request("UPDATE", "", "persistentvolumeclaims", new, old, name="c")
    run = PersistentVolumeClaimResizePlugin().validate(req, Reader(storageclasses=RESIZE_CLASSES))
    if message is None:
        asyncio.run(run)
        return
    with pytest.raises(Forbidden) as caught:
        asyncio.run(run)
    assert caught.value.message == f'persistentvolumeclaims "c" is forbidden: {message}'
    assert caught.value.code == 403


# --- DefaultIngressClass ------------------------------------------------------------------
INGRESS_DEFAULT = "ingressclass.kubernetes.io/is-default-class"


@pytest.mark.parametrize(
    ("ingress", "expected"),
    [
        ({"spec": {}}, "newer"),
        ({"spec": {"ingressClassName": "mine"}}, "mine"),
        ({"metadata": {"annotations": {"kubernetes.io/ingress.class": "x"}}, "spec": {}}, None),
    ],
    ids=["defaulted", "named", "annotation"],
)
def test_an_ingress_without_a_class_gets_the_newest_default(
    ingress: dict[str, Any], expected: str | None
) -> None:
    classes = [
        klass("older", "2026-01-01T00:00:00Z", INGRESS_DEFAULT),
        klass("newer", "2026-01-02T00:00:00Z", INGRESS_DEFAULT),
    ]
    req = request("CREATE", "networking.k8s.io", "ingresses", ingress)
    asyncio.run(DefaultIngressClassPlugin().admit(req, Reader(ingressclasses=classes)))
    assert ingress["spec"].get("ingressClassName") == expected
