"""Cross-check the patch engine against Kubernetes' own implementation, as shipped in kubectl.

``kubectl patch --local -f obj.json --type=... -p ... -o json`` applies a patch on the client
with the same Go code the API server runs (``strategicpatch.StrategicMergePatch`` with the
compiled-in types, ``evanphx/json-patch`` for JSON and merge patches) and needs no server. Each
case applies the same patch with :func:`apply_patch` and with kubectl; the results must match.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubeward.api.patch import apply_patch
from kubeward.api.patch.strategies import root_type
from kubeward.errors import BadRequest, Invalid, StatusError

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
_KUBECTL_TYPE = {STRATEGIC: "strategic", MERGE: "merge", JSON_PATCH: "json"}


def _pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a.io/x", "b.io/y"]},
        "spec": {
            "containers": [
                {
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}],
                },
                {"name": "side", "image": "busybox:1.36"},
            ],
            "volumes": [{"name": "cfg", "emptyDir": {}}],
            "tolerations": [{"key": "k", "operator": "Exists"}],
            **spec,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "Initialized", "status": "True"},
            ],
        },
    }


_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
        },
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "a:1"}]},
        },
    },
}

_NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "n1"},
    "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady"},
            {"type": "MemoryPressure", "status": "False"},
        ],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
    },
}

_SERVICE_ACCOUNT = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {
        "name": "bot",
        "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "u-1"},
        ],
    },
    "secrets": [{"name": "s1"}, {"name": "s2"}],
    "imagePullSecrets": [{"name": "r1"}],
}

_PDB = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "pdb"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "1", "b": "2"}}},
}

_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "svc"},
    "spec": {
        "selector": {"app": "web"},
        "ports": [
            {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
        ],
    },
}

_ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "r", "annotations": {"a": "1"}},
    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
}

_CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}},
    "data": {"x": "1", "y": "2"},
}

CASES: list[tuple[str, dict[str, Any], str, Any]] = [
    (
        "kubectl-apply-pod-set-element-order-and-delete",
        _pod(),
        STRATEGIC,
        {
            "metadata": {
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "labels": {"tier": "fe"},
            },
            "spec": {
                "$setElementOrder/containers": [{"name": "nginx"}],
                "containers": [
                    {"image": "nginx:1.28", "name": "nginx"},
                    {"$patch": "delete", "name": "side"},
                ],
            },
        },
    ),
    (
        "new-container-without-order",
        _pod(),
        STRATEGIC,
        {"spec": {"containers": [{"name": "log", "image": "fluent:1"}]}},
    ),
    (
        "new-container-with-order",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "$setElementOrder/containers": [
                    {"name": "nginx"},
                    {"name": "log"},
                    {"name": "side"},
                ],
                "containers": [{"name": "log", "image": "fluent:1"}],
            }
        },
    ),
    (
        "reorder-containers-only",
        _pod(),
        STRATEGIC,
        {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "nginx"}]}},
    ),
    (
        "env-merge-add-change-delete",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "env": [
                            {"name": "B", "value": "22"},
                            {"name": "C", "value": "3"},
                            {"name": "A", "$patch": "delete"},
                        ],
                    }
                ]
            }
        },
    ),
    (
        "env-with-set-element-order",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "side"}],
                "containers": [
                    {
                        "name": "nginx",
                        "$setElementOrder/env": [{"name": "C"}, {"name": "A"}, {"name": "B"}],
                        "env": [{"name": "C", "value": "3"}],
                    }
                ],
            }
        },
    ),
    (
        "ports-by-container-port",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                    }
                ]
            }
        },
    ),
    (
        "volume-mounts-by-mount-path",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "volumeMounts": [
                            {"mountPath": "/etc/cfg", "readOnly": True},
                            {"mountPath": "/data", "name": "data"},
                        ],
                    }
                ]
            }
        },
    ),
    (
        "volume-retain-keys-switches-source",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "volumes": [
                    {
                        "name": "cfg",
                        "$retainKeys": ["configMap", "name"],
                        "configMap": {"name": "web-config"},
                    }
                ]
            }
        },
    ),
    (
        "tolerations-are-atomic",
        _pod(),
        STRATEGIC,
        {"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}},
    ),
    (
        "finalizers-merge-as-set",
        _pod(),
        STRATEGIC,
        {"metadata": {"finalizers": ["c.io/z", "a.io/x"]}},
    ),
    (
        "finalizers-delete-from-primitive-list",
        _pod(),
        STRATEGIC,
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}},
    ),
    (
        "finalizers-set-element-order",
        _pod(),
        STRATEGIC,
        {
            "metadata": {
                "$setElementOrder/finalizers": ["b.io/y", "c.io/z", "a.io/x"],
                "finalizers": ["c.io/z"],
            }
        },
    ),
    (
        "null-deletes-label-and-field",
        _pod(),
        STRATEGIC,
        {"metadata": {"labels": {"app": None, "new": "x"}}, "spec": {"tolerations": None}},
    ),
    (
        "map-patch-replace",
        _pod(),
        STRATEGIC,
        {"metadata": {"labels": {"$patch": "replace", "only": "this"}}},
    ),
    (
        "map-patch-delete",
        _pod(),
        STRATEGIC,
        {"status": {"$patch": "delete"}},
    ),
    (
        "list-patch-replace",
        _pod(),
        STRATEGIC,
        {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x:1"}]}},
    ),
    (
        "pod-status-conditions-by-type",
        _pod(),
        STRATEGIC,
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "PodScheduled", "status": "True"},
                ]
            }
        },
    ),
    (
        "init-containers-added",
        _pod(),
        STRATEGIC,
        {"spec": {"initContainers": [{"name": "init", "image": "busybox:1"}]}},
    ),
    (
        "image-pull-secrets-by-name",
        _pod(imagePullSecrets=[{"name": "r1"}]),
        STRATEGIC,
        {"spec": {"imagePullSecrets": [{"name": "r2"}]}},
    ),
    (
        "type-change-replaces",
        _pod(),
        STRATEGIC,
        {"spec": {"containers": "oops"}},
    ),
    (
        "deployment-strategy-retain-keys",
        _DEPLOYMENT,
        STRATEGIC,
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
    ),
    (
        "deployment-template-containers",
        _DEPLOYMENT,
        STRATEGIC,
        {
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}},
            }
        },
    ),
    (
        "node-conditions-and-addresses",
        _NODE,
        STRATEGIC,
        {
            "spec": {"podCIDRs": ["10.0.1.0/24"], "taints": [{"key": "b", "effect": "NoExecute"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "False", "reason": "NotReady"}],
                "addresses": [{"type": "Hostname", "address": "n1"}],
            },
        },
    ),
    (
        "service-account-secrets-and-owner-references",
        _SERVICE_ACCOUNT,
        STRATEGIC,
        {
            "metadata": {
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Secret", "name": "b", "uid": "u-2"},
                ]
            },
            "secrets": [{"name": "s3"}, {"name": "s1", "$patch": "delete"}],
            "imagePullSecrets": [{"name": "r2"}],
        },
    ),
    (
        "pdb-selector-replace-strategy",
        _PDB,
        STRATEGIC,
        {"spec": {"selector": {"matchLabels": {"c": "3"}}}},
    ),
    (
        "service-ports-by-port",
        _SERVICE,
        STRATEGIC,
        {"spec": {"ports": [{"port": 443, "targetPort": 9443}, {"port": 8080, "name": "alt"}]}},
    ),
    (
        "role-rules-replaced",
        _ROLE,
        STRATEGIC,
        {
            "metadata": {"annotations": {"b": "2"}},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}],
        },
    ),
    (
        "configmap-data-strategic",
        _CONFIG_MAP,
        STRATEGIC,
        {"data": {"x": None, "z": "3"}},
    ),
    (
        "merge-labels-and-annotations",
        _CONFIG_MAP,
        MERGE,
        {"metadata": {"labels": {"a": None, "c": "3"}, "annotations": {"note": "hi"}}},
    ),
    (
        "merge-replaces-lists",
        _pod(),
        MERGE,
        {"spec": {"containers": [{"name": "only", "image": "x:1"}]}},
    ),
    (
        "merge-object-into-scalar",
        _CONFIG_MAP,
        MERGE,
        {"data": {"x": {"nested": "v", "gone": None}}},
    ),
    (
        "json-patch-all-operations",
        _CONFIG_MAP,
        JSON_PATCH,
        [
            {"op": "test", "path": "/data/x", "value": "1"},
            {"op": "add", "path": "/data/z", "value": "3"},
            {"op": "replace", "path": "/data/y", "value": "22"},
            {"op": "remove", "path": "/metadata/labels/b"},
            {"op": "copy", "from": "/data/x", "path": "/data/x2"},
            {"op": "move", "from": "/data/z", "path": "/metadata/labels/z"},
        ],
    ),
    (
        "json-patch-array-indices",
        _pod(),
        JSON_PATCH,
        [
            {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "C", "value": "3"}},
            {"op": "add", "path": "/spec/containers/0/env/0", "value": {"name": "Z", "value": "0"}},
            {"op": "remove", "path": "/spec/containers/1"},
            {"op": "replace", "path": "/metadata/finalizers/-1", "value": "last.io/x"},
            {"op": "add", "path": "/metadata/annotations", "value": {"a~b/c": "1"}},
            {"op": "test", "path": "/metadata/annotations/a~0b~1c", "value": "1"},
        ],
    ),
]


def _run_kubectl_patch(
    directory: Path, obj: dict[str, Any], content_type: str, patch: Any
) -> subprocess.CompletedProcess[str]:
    (directory / "home").mkdir(exist_ok=True)
    (directory / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: unused}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\n"
        "current-context: x\n"
    )
    (directory / "object.json").write_text(json.dumps(obj))
    return subprocess.run(
        [
            "kubectl",
            "patch",
            "--local",
            "-f",
            str(directory / "object.json"),
            f"--type={_KUBECTL_TYPE[content_type]}",
            "-p",
            json.dumps(patch),
            "-o",
            "json",
        ],
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(directory / "home"),
            "KUBECONFIG": str(directory / "kubeconfig"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _kubectl_patch(directory: Path, obj: dict[str, Any], content_type: str, patch: Any) -> Any:
    result = _run_kubectl_patch(directory, obj, content_type, patch)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _kubectl_patch_fails(
    directory: Path, obj: dict[str, Any], content_type: str, patch: Any
) -> bool:
    result = _run_kubectl_patch(directory, obj, content_type, patch)
    return result.returncode != 0 and not result.stdout


@pytest.mark.parametrize(
    ("obj", "content_type", "patch"),
    [(obj, ct, patch) for _, obj, ct, patch in CASES],
    ids=[case[0] for case in CASES],
)
def test_patch_matches_kubectls_implementation(
    tmp_path: Path, obj: dict[str, Any], content_type: str, patch: Any
) -> None:
    group, _, version = obj["apiVersion"].rpartition("/")
    ours = apply_patch(
        obj,
        json.dumps(patch).encode(),
        content_type,
        merge_root=root_type(group, version, obj["kind"]),
    )
    assert ours == _kubectl_patch(tmp_path, obj, content_type, patch)


ERROR_CASES: list[tuple[str, dict[str, Any], str, Any, type[StatusError]]] = [
    (
        "strategic-missing-merge-key",
        _pod(),
        STRATEGIC,
        {"spec": {"containers": [{"image": "x:1"}]}},
        BadRequest,
    ),
    (
        "strategic-unknown-directive",
        _pod(),
        STRATEGIC,
        {"metadata": {"labels": {"$patch": "explode"}}},
        BadRequest,
    ),
    (
        "strategic-list-merge-directive",
        _pod(),
        STRATEGIC,
        {"spec": {"containers": [{"$patch": "merge"}]}},
        BadRequest,
    ),
    (
        "strategic-retain-keys-missing-key",
        _DEPLOYMENT,
        STRATEGIC,
        {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}},
        BadRequest,
    ),
    (
        "strategic-order-contradicts-patch",
        _pod(),
        STRATEGIC,
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "nginx"}],
                "containers": [{"name": "side", "image": "b:2"}],
            }
        },
        BadRequest,
    ),
    (
        "json-patch-test-fails",
        _CONFIG_MAP,
        JSON_PATCH,
        [{"op": "test", "path": "/data/x", "value": "2"}],
        Invalid,
    ),
    (
        "json-patch-remove-missing",
        _CONFIG_MAP,
        JSON_PATCH,
        [{"op": "remove", "path": "/data/nope"}],
        Invalid,
    ),
    (
        "json-patch-index-out-of-range",
        _pod(),
        JSON_PATCH,
        [{"op": "add", "path": "/spec/containers/5", "value": {}}],
        Invalid,
    ),
    (
        "json-patch-unknown-op",
        _CONFIG_MAP,
        JSON_PATCH,
        [{"op": "frobnicate", "path": "/data/x"}],
        Invalid,
    ),
]


@pytest.mark.parametrize(
    ("obj", "content_type", "patch", "error"),
    [(obj, ct, patch, error) for _, obj, ct, patch, error in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_patch_kubectl_refuses_is_refused(
    tmp_path: Path, obj: dict[str, Any], content_type: str, patch: Any, error: type[StatusError]
) -> None:
    group, _, version = obj["apiVersion"].rpartition("/")
    with pytest.raises(error):
        apply_patch(
            obj,
            json.dumps(patch).encode(),
            content_type,
            merge_root=root_type(group, version, obj["kind"]),
        )
    assert _kubectl_patch_fails(tmp_path, obj, content_type, patch)
