"""What a pod or persistent volume refers to, as upstream's podutil and pvutil visitors."""

from __future__ import annotations

from typing import Any

from kubeward.authz.node.references import (
    pod_claim_names,
    pod_configmap_names,
    pod_resource_claim_names,
    pod_secret_names,
    pv_secret_refs,
)

POD: dict[str, Any] = {
    "metadata": {"name": "web"},
    "spec": {
        "imagePullSecrets": [{"name": "pull"}],
        "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
        "containers": [
            {
                "name": "c",
                "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-key", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cm-key", "key": "k"}}},
                ],
                "envFrom": [{"configMapRef": {"name": "cm-env"}}],
            }
        ],
        "ephemeralContainers": [{"name": "e", "envFrom": [{"secretRef": {"name": "debug"}}]}],
        "volumes": [
            {"name": "s", "secret": {"secretName": "vol"}},
            {
                "name": "p",
                "projected": {
                    "sources": [{"secret": {"name": "proj"}}, {"configMap": {"name": "proj-cm"}}]
                },
            },
            {"name": "f", "flexVolume": {"driver": "d", "secretRef": {"name": "flex"}}},
            {"name": "x", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi"}}},
            {"name": "a", "azureFile": {"secretName": "azure", "shareName": "s"}},
            {"name": "cm", "configMap": {"name": "vol-cm"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
        ],
        "resourceClaims": [
            {"name": "gpu", "resourceClaimName": "gpu-claim"},
            {"name": "tpl", "resourceClaimTemplateName": "t"},
            {"name": "pending", "resourceClaimTemplateName": "t"},
        ],
    },
    "status": {"resourceClaimStatuses": [{"name": "tpl", "resourceClaimName": "web-tpl-x"}]},
}


def test_every_secret_a_pod_names() -> None:
    assert pod_secret_names(POD) == {
        "pull",
        "init-env",
        "env-key",
        "debug",
        "vol",
        "proj",
        "flex",
        "csi",
        "azure",
    }


def test_every_configmap_a_pod_names() -> None:
    assert pod_configmap_names(POD) == {"cm-key", "cm-env", "proj-cm", "vol-cm"}


def test_claims_of_a_pod_including_ephemeral_volumes_and_generated_resource_claims() -> None:
    assert pod_claim_names(POD) == {"data", "web-scratch"}
    assert pod_resource_claim_names(POD) == {"gpu-claim", "web-tpl-x"}


def test_pv_secrets_the_kubelet_reads_in_their_namespaces() -> None:
    pv = {
        "spec": {
            "claimRef": {"namespace": "apps", "name": "data"},
            "flexVolume": {"driver": "d", "secretRef": {"name": "flex"}},
            "rbd": {"secretRef": {"name": "rbd", "namespace": "ceph"}},
            "csi": {
                "driver": "d",
                "nodeStageSecretRef": {"name": "stage", "namespace": "csi"},
                "controllerPublishSecretRef": {"name": "controller", "namespace": "csi"},
            },
        }
    }
    assert pv_secret_refs(pv) == {("apps", "flex"), ("ceph", "rbd"), ("csi", "stage")}
