"""Strategic-merge-patch metadata for the built-in kinds: which lists merge, and by which key.

Kubernetes reads this metadata from the ``patchStrategy``/``patchMergeKey`` struct tags of its
Go types; kubeward keeps the same facts in a table. Only what changes the merge is listed:

 1. A field with ``patchStrategy:"merge"`` (``strategy="merge"``) and its ``patchMergeKey``; a
    list of scalars with merge strategy (``finalizers``) has no key and merges as a set.
 2. A struct field with ``patchStrategy:"replace"`` (``PodDisruptionBudgetSpec.selector``).
 3. The path down to those fields (``Pod.spec`` -> ``PodSpec``, ``PodSpec.containers`` ->
    ``Container``). A field not listed merges like an untyped JSON value: objects merge key by
    key, lists are replaced, ``null`` deletes.
 ``retainKeys`` needs no entry: the server acts on the ``$retainKeys`` directive in the patch.

Facts from the ``+patchStrategy``/``+patchMergeKey`` markers of ``staging/src/k8s.io/api/
{core,apps,batch,policy,storage}/v1`` and ``autoscaling/v2`` (as copied into
``generated.proto``) and ``apimachinery/.../meta/v1``.
Adding a built-in kind is one line in :data:`KINDS` (plus its types if it has merge lists);
a kind not in :data:`KINDS` is treated as a custom resource and refused strategic merge patch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class PatchMeta:
    """How one field merges: its strategy, merge key, and the type of its value or elements."""

    strategy: str = ""  # "merge", "replace" or "" (objects merge, lists are replaced)
    merge_key: str = ""
    type: str = ""  # name in TYPES of the struct (or list element) type; "" when untyped


NO_META: Final = PatchMeta()


def _of(type_name: str) -> PatchMeta:
    """A struct-valued field whose own fields have metadata."""
    return PatchMeta(type=type_name)


def _merge(merge_key: str = "", type_name: str = "") -> PatchMeta:
    return PatchMeta("merge", merge_key, type_name)


_CONDITIONS: Final = _merge("type")

TYPES: Final[Mapping[str, Mapping[str, PatchMeta]]] = {
    # --- meta/v1 ---
    "ObjectMeta": {
        "ownerReferences": _merge("uid"),
        "finalizers": _merge(),
    },
    # --- core/v1: pods ---
    "Pod": {"metadata": _of("ObjectMeta"), "spec": _of("PodSpec"), "status": _of("PodStatus")},
    "PodTemplate": {"metadata": _of("ObjectMeta"), "template": _of("PodTemplateSpec")},
    "PodTemplateSpec": {"metadata": _of("ObjectMeta"), "spec": _of("PodSpec")},
    "PodSpec": {
        "volumes": _merge("name"),
        "initContainers": _merge("name", "Container"),
        "containers": _merge("name", "Container"),
        "ephemeralContainers": _merge("name", "Container"),
        "imagePullSecrets": _merge("name"),
        "hostAliases": _merge("ip"),
        "topologySpreadConstraints": _merge("topologyKey"),
        "schedulingGates": _merge("name"),
        "resourceClaims": _merge("name"),
    },
    "Container": {
        "ports": _merge("containerPort"),
        "env": _merge("name"),
        "volumeMounts": _merge("mountPath"),
        "volumeDevices": _merge("devicePath"),
    },
    "PodStatus": {
        "conditions": _CONDITIONS,
        "hostIPs": _merge("ip"),
        "podIPs": _merge("ip"),
        "resourceClaimStatuses": _merge("name"),
    },
    # --- core/v1: other kinds with merge lists ---
    "Node": {"metadata": _of("ObjectMeta"), "spec": _of("NodeSpec"), "status": _of("NodeStatus")},
    "NodeSpec": {"podCIDRs": _merge()},
    "NodeStatus": {"conditions": _CONDITIONS, "addresses": _merge("type")},
    "Namespace": {"metadata": _of("ObjectMeta"), "status": _of("ConditionsStatus")},
    "ServiceAccount": {"metadata": _of("ObjectMeta"), "secrets": _merge("name")},
    "Service": {
        "metadata": _of("ObjectMeta"),
        "spec": _of("ServiceSpec"),
        "status": _of("ConditionsStatus"),
    },
    "ServiceSpec": {"ports": _merge("port")},
    "PersistentVolumeClaim": {"metadata": _of("ObjectMeta"), "status": _of("ConditionsStatus")},
    "ReplicationController": {
        "metadata": _of("ObjectMeta"),
        "spec": _of("WorkloadSpec"),
        "status": _of("ConditionsStatus"),
    },
    "ComponentStatus": {"metadata": _of("ObjectMeta"), "conditions": _CONDITIONS},
    # --- apps/v1 and policy/v1 ---
    "Workload": {
        "metadata": _of("ObjectMeta"),
        "spec": _of("WorkloadSpec"),
        "status": _of("ConditionsStatus"),
    },
    "WorkloadSpec": {"template": _of("PodTemplateSpec")},
    "PodDisruptionBudget": {
        "metadata": _of("ObjectMeta"),
        "spec": _of("PodDisruptionBudgetSpec"),
        "status": _of("ConditionsStatus"),
    },
    "PodDisruptionBudgetSpec": {"selector": PatchMeta(strategy="replace")},
    # --- batch, autoscaling and storage.k8s.io ---
    "CronJob": {
        "metadata": _of("ObjectMeta"),
        "spec": _of("CronJobSpec"),
        "status": _of("ConditionsStatus"),
    },
    "CronJobSpec": {"jobTemplate": _of("JobTemplateSpec")},
    "JobTemplateSpec": {"metadata": _of("ObjectMeta"), "spec": _of("WorkloadSpec")},
    "CSINode": {"metadata": _of("ObjectMeta"), "spec": _of("CSINodeSpec")},
    "CSINodeSpec": {"drivers": _merge("name")},
    "Conditioned": {"metadata": _of("ObjectMeta"), "status": _of("ConditionsStatus")},
    # --- admissionregistration.k8s.io/v1 ---
    "WebhookConfiguration": {
        "metadata": _of("ObjectMeta"),
        "webhooks": PatchMeta(strategy="merge", merge_key="name"),
    },
    # --- shared shapes ---
    # Every status above whose only merge list is ``conditions`` keyed by ``type``.
    "ConditionsStatus": {"conditions": _CONDITIONS},
    # Kinds whose only merge metadata is in ObjectMeta.
    "Object": {"metadata": _of("ObjectMeta")},
}

KINDS: Final[Mapping[tuple[str, str, str], str]] = {
    ("", "v1", "Pod"): "Pod",
    ("", "v1", "PodTemplate"): "PodTemplate",
    ("", "v1", "Node"): "Node",
    ("", "v1", "Namespace"): "Namespace",
    ("", "v1", "ServiceAccount"): "ServiceAccount",
    ("", "v1", "Service"): "Service",
    ("", "v1", "PersistentVolumeClaim"): "PersistentVolumeClaim",
    ("", "v1", "ReplicationController"): "ReplicationController",
    ("", "v1", "ComponentStatus"): "ComponentStatus",
    ("", "v1", "ConfigMap"): "Object",
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): "Object",
    ("", "v1", "Secret"): "Object",
    ("", "v1", "Event"): "Object",
    ("", "v1", "Endpoints"): "Object",
    ("", "v1", "LimitRange"): "Object",
    ("", "v1", "ResourceQuota"): "Object",
    ("", "v1", "PersistentVolume"): "Object",
    ("discovery.k8s.io", "v1", "EndpointSlice"): "Object",
    ("apps", "v1", "Deployment"): "Workload",
    ("apps", "v1", "ReplicaSet"): "Workload",
    ("apps", "v1", "StatefulSet"): "Workload",
    ("apps", "v1", "DaemonSet"): "Workload",
    ("apps", "v1", "ControllerRevision"): "Object",
    ("autoscaling", "v1", "Scale"): "Object",  # the /scale subresource of workloads
    ("policy", "v1", "PodDisruptionBudget"): "PodDisruptionBudget",
    ("coordination.k8s.io", "v1", "Lease"): "Object",
    ("rbac.authorization.k8s.io", "v1", "Role"): "Object",
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): "Object",
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): "Object",
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): "Object",
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"): "Object",
    ("networking.k8s.io", "v1", "NetworkPolicy"): "Object",
    ("networking.k8s.io", "v1", "Ingress"): "Object",
    ("networking.k8s.io", "v1", "IngressClass"): "Object",
    ("scheduling.k8s.io", "v1", "PriorityClass"): "Object",
    ("batch", "v1", "Job"): "Workload",
    ("batch", "v1", "CronJob"): "CronJob",
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): "Conditioned",
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): "Object",
    ("storage.k8s.io", "v1", "StorageClass"): "Object",
    ("storage.k8s.io", "v1", "CSIDriver"): "Object",
    ("storage.k8s.io", "v1", "CSINode"): "CSINode",
    ("storage.k8s.io", "v1", "VolumeAttachment"): "Object",
    ("events.k8s.io", "v1", "Event"): "Object",
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"): (
        "WebhookConfiguration"
    ),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"): "WebhookConfiguration",
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"): "Object",
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding"): "Object",
    ("admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicy"): "Object",
    ("admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicyBinding"): "Object",
}


def field_meta(type_name: str, field: str) -> PatchMeta:
    """The metadata of ``field`` in the struct ``type_name`` (empty when nothing is known)."""
    return TYPES.get(type_name, {}).get(field, NO_META)


def root_type(group: str, version: str, kind: str) -> str | None:
    """The struct type a built-in kind's object starts from; ``None`` for custom resources."""
    return KINDS.get((group, version, kind))
