"""apps/v1 StatefulSet, DaemonSet and ControllerRevision: defaults and validation as upstream's
(cases from pkg/apis/apps/validation/validation_test.go)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.validation import apps


def _template(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "restartPolicy": "Always",
            "containers": [{"name": "c", "image": "nginx"}],
            **spec,
        },
    }


def _statefulset(**spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": _template(), **spec},
    }
    apps.default_statefulset(obj)
    return obj


def _daemonset(**spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": _template(), **spec},
    }
    apps.default_daemonset(obj)
    return obj


def test_statefulset_defaults() -> None:
    obj = _statefulset()
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert obj["metadata"]["labels"] == {"app": "web"}
    assert apps.validate_statefulset(obj) == []
    on_delete = _statefulset(updateStrategy={"type": "OnDelete"})["spec"]["updateStrategy"]
    assert on_delete == {"type": "OnDelete"}


def test_statefulset_claim_templates_are_defaulted_as_upstream_serves_them() -> None:
    claim = {"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    spec = _statefulset(volumeClaimTemplates=[claim])["spec"]
    assert spec["volumeClaimTemplates"] == [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "www"},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }
    ]
    unnamed = _statefulset(volumeClaimTemplates=[{"spec": {}}])
    assert [c.field for c in apps.validate_statefulset(unnamed)] == [
        "spec.volumeClaimTemplates[0].metadata.name"
    ]


def test_daemonset_defaults() -> None:
    obj = _daemonset()
    assert obj["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert obj["spec"]["revisionHistoryLimit"] == 10
    assert apps.validate_daemonset(obj) == []


STATEFULSET_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "negative replicas",
        {"replicas": -1},
        "spec.replicas",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "bad pod management policy",
        {"podManagementPolicy": "Random"},
        "spec.podManagementPolicy",
        "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
    ),
    (
        "rollingUpdate with OnDelete",
        {"updateStrategy": {"type": "OnDelete", "rollingUpdate": {"partition": 1}}},
        "spec.updateStrategy.rollingUpdate",
        "Invalid value: {\"partition\": 1}: only allowed for updateStrategy 'RollingUpdate'",
    ),
    (
        "negative partition",
        {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}},
        "spec.updateStrategy.rollingUpdate.partition",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "empty selector",
        {"selector": {}},
        "spec.selector",
        "Invalid value: {}: empty selector is invalid for statefulset",
    ),
    (
        "selector does not match",
        {"selector": {"matchLabels": {"app": "db"}}},
        "spec.template.metadata.labels",
        'Invalid value: {"app": "web"}: `selector` does not match template `labels`',
    ),
    (
        "restartPolicy Never",
        {"template": _template(restartPolicy="Never")},
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    (
        "activeDeadlineSeconds",
        {"template": _template(activeDeadlineSeconds=5)},
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in StatefulSet is not Supported",
    ),
    (
        "retention policy",
        {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep", "whenScaled": "Retain"}},
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
        'Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [c[1:] for c in STATEFULSET_CASES],
    ids=[c[0] for c in STATEFULSET_CASES],
)
def test_statefulset_validation(spec: dict[str, Any], path: str, message: str) -> None:
    causes = apps.validate_statefulset(_statefulset(**spec))
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_statefulset_selector_is_required() -> None:
    obj = _statefulset()
    del obj["spec"]["selector"]
    assert ("spec.selector", "Required value") in [
        (c.field, c.message) for c in apps.validate_statefulset(obj)
    ]


def test_statefulset_update_allows_only_some_fields() -> None:
    old = _statefulset(serviceName="web")
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    new["spec"]["minReadySeconds"] = 3
    assert apps.validate_statefulset_update(new, old) == []
    new["spec"]["serviceName"] = "other"
    causes = apps.validate_statefulset_update(new, old)
    assert [c.field for c in causes] == ["spec"]
    assert causes[0].message.startswith(
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
    )


DAEMONSET_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "empty selector",
        {"selector": {}},
        "spec.selector",
        "Invalid value: {}: empty selector is invalid for daemonset",
    ),
    (
        "unknown strategy",
        {"updateStrategy": {"type": "Sometimes"}},
        "spec.updateStrategy",
        'Unsupported value: "Sometimes": supported values: "RollingUpdate", "OnDelete"',
    ),
    (
        "both zero",
        {
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0},
            }
        },
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        "Required value: cannot be 0 when maxSurge is 0",
    ),
    (
        "both set",
        {
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1},
            }
        },
        "spec.updateStrategy.rollingUpdate.maxSurge",
        "Invalid value: 1: may not be set when maxUnavailable is non-zero",
    ),
    (
        "over 100%",
        {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "120%"}}},
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        'Invalid value: "120%": must not be greater than 100%',
    ),
    (
        "not a percent",
        {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "ten"}}},
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        'Invalid value: "ten": a valid percent string must be a numeric string followed by an '
        "ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ),
    (
        "activeDeadlineSeconds",
        {"template": _template(activeDeadlineSeconds=5)},
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in DaemonSet is not Supported",
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [c[1:] for c in DAEMONSET_CASES],
    ids=[c[0] for c in DAEMONSET_CASES],
)
def test_daemonset_validation(spec: dict[str, Any], path: str, message: str) -> None:
    causes = apps.validate_daemonset(_daemonset(**spec))
    assert (path, message) in [(c.field, c.message) for c in causes], causes


def test_daemonset_selector_is_immutable() -> None:
    old = _daemonset()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    assert [c.field for c in apps.validate_daemonset_update(new, old)] == ["spec.selector"]


def test_controller_revision() -> None:
    good = {"metadata": {"name": "web-1"}, "data": {"spec": {}}, "revision": 1}
    assert apps.validate_controller_revision(good) == []
    missing = {"metadata": {"name": "web-1"}, "revision": -1}
    assert [(c.field, c.message) for c in apps.validate_controller_revision(missing)] == [
        ("data", "Required value: data is mandatory"),
        ("revision", "Invalid value: -1: must be greater than or equal to 0"),
    ]
    changed = {**good, "data": {"spec": {"x": 1}}}
    assert [c.field for c in apps.validate_controller_revision_update(changed, good)] == ["data"]
    assert apps.validate_controller_revision_update({**good, "revision": 2}, good) == []


def test_a_daemonsets_template_generation_counts_template_changes() -> None:
    from kubeward.api.resources.apps_sets import DAEMONSETS, DaemonSetStrategy

    strategy = DaemonSetStrategy(DAEMONSETS)
    created = _daemonset()
    strategy.prepare_for_create(created, None)
    key = "deprecated.daemonset.template.generation"
    assert created["metadata"]["annotations"] == {key: "1"}
    relabelled = copy.deepcopy(created)
    relabelled["metadata"]["annotations"][key] = "9"  # the server's, not the client's
    strategy.prepare_for_update(relabelled, created)
    assert relabelled["metadata"]["annotations"][key] == "1"
    changed = copy.deepcopy(created)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    strategy.prepare_for_update(changed, created)
    assert changed["metadata"]["annotations"][key] == "2"
