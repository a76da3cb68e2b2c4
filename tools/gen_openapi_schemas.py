"""Generate kubeward's OpenAPI v3 component schemas from the official ``kubernetes`` client.

Run at development time, never at run time::

    python tools/gen_openapi_schemas.py            # writes src/kubeward/api/openapi/schemas.json
    python tools/gen_openapi_schemas.py --check    # exits 1 if the committed file is stale

Why from the client: its generated model classes carry, per API type, the JSON field names
(``attribute_map``), the field types (``openapi_types``: ``List[V1Container]``,
``Dict[str, str]``, ``datetime``, ``object``) and which fields are required (pydantic
``model_fields``). That is the structure of the upstream OpenAPI document without having to
vendor the multi-megabyte upstream JSON.

Rules this generator follows:

1. Schemas are named as Kubernetes names them (``io.k8s.api.core.v1.Pod``,
   ``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``). The client drops the Go package from
   class names (``V1Pod``; ``CoreV1Event`` only when two groups clash), so the package is
   decided here: types listed in ``META_CLASSES`` are apimachinery meta types; every other type
   belongs to the group of the first kind (in ``KINDS`` order, core first) that reaches it,
   except ``CORE_CLASSES``, which other groups embed but no core kind reaches.
2. No prose is copied from the client: field descriptions are left out, and the few top-level
   kinds get a one-line description written here.
3. Object references are ``{"allOf": [{"$ref": ...}]}`` as upstream writes them; timestamps are
   strings with ``format: date-time``; ``[]byte`` is ``format: byte``; IntOrString and Quantity
   are the upstream named schemas; free-form values (RawExtension, FieldsV1) carry
   ``x-kubernetes-preserve-unknown-fields``.
4. The client cannot tell a Quantity from a plain string, so ``QUANTITY_FIELDS`` lists them.
   IntOrString is recognised from the pydantic annotation ``int | str``.
5. Top-level kinds carry ``x-kubernetes-group-version-kind``; ``required`` lists the fields the
   client marks required.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import __version__ as CLIENT_VERSION
from kubernetes.client import models

OUTPUT = Path(__file__).resolve().parent.parent / "src/kubeward/api/openapi/schemas.json"

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
PATCH = f"{META}.Patch"

# API group -> the Go package segment under io.k8s.api.
GROUP_PACKAGES = {
    "": "core",
    "apps": "apps",
    "autoscaling": "autoscaling",
    "policy": "policy",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "rbac.authorization.k8s.io": "rbac",
    "authorization.k8s.io": "authorization",
    "authentication.k8s.io": "authentication",
    "certificates.k8s.io": "certificates",
    "networking.k8s.io": "networking",
    "apiextensions.k8s.io": "apiextensions",
    "flowcontrol.apiserver.k8s.io": "flowcontrol",
    "batch": "batch",
    "scheduling.k8s.io": "scheduling",
    "storage.k8s.io": "storage",
    "events.k8s.io": "events",
    "admissionregistration.k8s.io": "admissionregistration",
}


@dataclass(frozen=True)
class Kind:
    model: str  # client class name
    group: str
    version: str
    kind: str
    list_model: str = ""  # client class of the List kind, if the kind has one


# Core kinds come first: the package of a shared type is the group of the first kind reaching it.
KINDS = (
    Kind("V1Namespace", "", "v1", "Namespace", "V1NamespaceList"),
    Kind("V1Pod", "", "v1", "Pod", "V1PodList"),
    Kind("V1Node", "", "v1", "Node", "V1NodeList"),
    Kind("V1ConfigMap", "", "v1", "ConfigMap", "V1ConfigMapList"),
    Kind("V1Secret", "", "v1", "Secret", "V1SecretList"),
    Kind("V1ServiceAccount", "", "v1", "ServiceAccount", "V1ServiceAccountList"),
    Kind("CoreV1Event", "", "v1", "Event", "CoreV1EventList"),
    Kind("V1Binding", "", "v1", "Binding"),
    Kind("V1Service", "", "v1", "Service", "V1ServiceList"),
    Kind("V1Endpoints", "", "v1", "Endpoints", "V1EndpointsList"),
    Kind(
        "V1ReplicationController", "", "v1", "ReplicationController", "V1ReplicationControllerList"
    ),
    Kind("V1PodTemplate", "", "v1", "PodTemplate", "V1PodTemplateList"),
    Kind("V1PersistentVolume", "", "v1", "PersistentVolume", "V1PersistentVolumeList"),
    Kind(
        "V1PersistentVolumeClaim", "", "v1", "PersistentVolumeClaim", "V1PersistentVolumeClaimList"
    ),
    Kind("V1LimitRange", "", "v1", "LimitRange", "V1LimitRangeList"),
    Kind("V1ResourceQuota", "", "v1", "ResourceQuota", "V1ResourceQuotaList"),
    Kind("V1EndpointSlice", "discovery.k8s.io", "v1", "EndpointSlice", "V1EndpointSliceList"),
    Kind("V1Lease", "coordination.k8s.io", "v1", "Lease", "V1LeaseList"),
    Kind("V1Deployment", "apps", "v1", "Deployment", "V1DeploymentList"),
    Kind("V1ReplicaSet", "apps", "v1", "ReplicaSet", "V1ReplicaSetList"),
    Kind("V1Scale", "autoscaling", "v1", "Scale"),
    Kind("V1Eviction", "policy", "v1", "Eviction"),
    Kind("V1Role", "rbac.authorization.k8s.io", "v1", "Role", "V1RoleList"),
    Kind("V1RoleBinding", "rbac.authorization.k8s.io", "v1", "RoleBinding", "V1RoleBindingList"),
    Kind("V1ClusterRole", "rbac.authorization.k8s.io", "v1", "ClusterRole", "V1ClusterRoleList"),
    Kind(
        "V1ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "V1ClusterRoleBindingList",
    ),
    Kind("V1SubjectAccessReview", "authorization.k8s.io", "v1", "SubjectAccessReview"),
    Kind("V1LocalSubjectAccessReview", "authorization.k8s.io", "v1", "LocalSubjectAccessReview"),
    Kind("V1SelfSubjectAccessReview", "authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
    Kind("V1SelfSubjectRulesReview", "authorization.k8s.io", "v1", "SelfSubjectRulesReview"),
    Kind("V1TokenReview", "authentication.k8s.io", "v1", "TokenReview"),
    Kind("V1SelfSubjectReview", "authentication.k8s.io", "v1", "SelfSubjectReview"),
    Kind("AuthenticationV1TokenRequest", "authentication.k8s.io", "v1", "TokenRequest"),
    Kind(
        "V1CertificateSigningRequest",
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "V1CertificateSigningRequestList",
    ),
    Kind("V1NetworkPolicy", "networking.k8s.io", "v1", "NetworkPolicy", "V1NetworkPolicyList"),
    Kind(
        "V1CustomResourceDefinition",
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "V1CustomResourceDefinitionList",
    ),
    Kind("V1FlowSchema", "flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "V1FlowSchemaList"),
    Kind(
        "V1ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "V1ValidatingWebhookConfigurationList",
    ),
    Kind(
        "V1MutatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "V1MutatingWebhookConfigurationList",
    ),
    Kind(
        "V1ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
        "V1ValidatingAdmissionPolicyList",
    ),
    Kind(
        "V1ValidatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "V1ValidatingAdmissionPolicyBindingList",
    ),
    Kind(
        "V1alpha1MutatingAdmissionPolicy",
        "admissionregistration.k8s.io",
        "v1alpha1",
        "MutatingAdmissionPolicy",
        "V1alpha1MutatingAdmissionPolicyList",
    ),
    Kind(
        "V1alpha1MutatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io",
        "v1alpha1",
        "MutatingAdmissionPolicyBinding",
        "V1alpha1MutatingAdmissionPolicyBindingList",
    ),
    Kind(
        "V1PriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "PriorityLevelConfiguration",
        "V1PriorityLevelConfigurationList",
    ),
    Kind("V1StatefulSet", "apps", "v1", "StatefulSet", "V1StatefulSetList"),
    Kind("V1DaemonSet", "apps", "v1", "DaemonSet", "V1DaemonSetList"),
    Kind("V1ControllerRevision", "apps", "v1", "ControllerRevision", "V1ControllerRevisionList"),
    Kind("V1Job", "batch", "v1", "Job", "V1JobList"),
    Kind("V1CronJob", "batch", "v1", "CronJob", "V1CronJobList"),
    Kind(
        "V2HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "V2HorizontalPodAutoscalerList",
    ),
    Kind(
        "V1HorizontalPodAutoscaler",
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "V1HorizontalPodAutoscalerList",
    ),
    Kind(
        "V1PodDisruptionBudget", "policy", "v1", "PodDisruptionBudget", "V1PodDisruptionBudgetList"
    ),
    Kind("V1Ingress", "networking.k8s.io", "v1", "Ingress", "V1IngressList"),
    Kind("V1IngressClass", "networking.k8s.io", "v1", "IngressClass", "V1IngressClassList"),
    Kind("V1StorageClass", "storage.k8s.io", "v1", "StorageClass", "V1StorageClassList"),
    Kind("V1CSIDriver", "storage.k8s.io", "v1", "CSIDriver", "V1CSIDriverList"),
    Kind("V1CSINode", "storage.k8s.io", "v1", "CSINode", "V1CSINodeList"),
    Kind(
        "V1VolumeAttachment", "storage.k8s.io", "v1", "VolumeAttachment", "V1VolumeAttachmentList"
    ),
    Kind("V1PriorityClass", "scheduling.k8s.io", "v1", "PriorityClass", "V1PriorityClassList"),
    Kind("EventsV1Event", "events.k8s.io", "v1", "Event", "EventsV1EventList"),
)

# One line per kind, written for kubeward (rule 2).
DESCRIPTIONS = {
    "Namespace": "A scope for names of namespaced objects.",
    "Pod": "A group of containers scheduled together onto one node.",
    "Node": "A machine that runs pods, as registered by its agent.",
    "ConfigMap": "Non-secret configuration data as key/value pairs.",
    "Secret": "Sensitive data, such as passwords, tokens or keys.",
    "ServiceAccount": "An identity for processes that run in pods.",
    "Event": "A report of something that happened to an object.",
    "Binding": "Binds a pod to a node; posted by a scheduler.",
    "Service": "A named, stable network endpoint for a set of pods.",
    "Endpoints": "The addresses and ports a Service's traffic goes to.",
    "ReplicationController": "Keeps a number of copies of a pod running (the predecessor of ReplicaSet).",
    "PodTemplate": "A stored pod template, for others to create pods from.",
    "PersistentVolume": "A piece of storage in the cluster, provisioned by an administrator or a class.",
    "PersistentVolumeClaim": "A request for storage by a user, bound to a PersistentVolume.",
    "LimitRange": "Default and bounding resource amounts for the objects of a namespace.",
    "ResourceQuota": "Limits on the total resources the objects of a namespace may use.",
    "EndpointSlice": "A subset of the endpoints behind a Service.",
    "Lease": "A time-bound claim, used for leader election and node heartbeats.",
    "Deployment": "Declarative updates for a replicated set of pods.",
    "ReplicaSet": "Keeps a stable number of replica pods running from one template.",
    "Scale": "The desired and observed replica count of a scalable resource.",
    "Eviction": "A request to evict a pod, subject to disruption budgets.",
    "Role": "A namespaced set of permission rules.",
    "RoleBinding": "Grants the permissions of a role to subjects within one namespace.",
    "ClusterRole": "A cluster-wide set of permission rules.",
    "ClusterRoleBinding": "Grants the permissions of a cluster role to subjects in every namespace.",
    "SubjectAccessReview": "Asks whether a given user may perform an action.",
    "LocalSubjectAccessReview": "Asks whether a given user may perform an action in one namespace.",
    "SelfSubjectAccessReview": "Asks whether the requesting user may perform an action.",
    "SelfSubjectRulesReview": "Lists what the requesting user may do in a namespace.",
    "TokenReview": "Asks the API server to authenticate a bearer token.",
    "SelfSubjectReview": "Returns the identity the API server sees for the requesting user.",
    "TokenRequest": "Requests a bound token for a service account.",
    "CertificateSigningRequest": "A request to have a certificate signed by a named signer.",
    "NetworkPolicy": "Which network traffic is allowed to and from a set of pods.",
    "CustomResourceDefinition": "A new kind of resource that the API server serves.",
    "FlowSchema": "Which requests go to which priority level, and how they are split into flows.",
    "PriorityLevelConfiguration": "A share of the server's concurrency and how requests queue for it.",
    "StatefulSet": "Pods with stable identities and storage, created and replaced in order.",
    "DaemonSet": "One copy of a pod on each eligible node.",
    "ControllerRevision": "An immutable snapshot of a controller's pod template, for rollbacks.",
    "Job": "Pods that run until a number of them complete successfully.",
    "CronJob": "Jobs created on a cron schedule.",
    "HorizontalPodAutoscaler": "Scales a workload's replicas to keep metrics near their targets.",
    "PodDisruptionBudget": "How many pods of a set voluntary disruptions may take down at once.",
    "Ingress": "HTTP routes from outside the cluster to services, by host and path.",
    "IngressClass": "Which controller implements the Ingresses of a class.",
    "StorageClass": "A kind of storage that volumes can be provisioned from dynamically.",
    "CSIDriver": "How the cluster talks to one CSI volume driver.",
    "CSINode": "The CSI drivers installed on a node.",
    "VolumeAttachment": "A request to attach or detach a volume to or from a node.",
    "PriorityClass": "A named pod priority and its preemption behaviour.",
    "ValidatingWebhookConfiguration": "Webhooks that admission asks to accept or refuse writes.",
    "MutatingWebhookConfiguration": "Webhooks that admission asks to change writes before they are stored.",
    "ValidatingAdmissionPolicy": "CEL rules that admission checks writes against.",
    "ValidatingAdmissionPolicyBinding": "Where a ValidatingAdmissionPolicy applies, with which parameters and actions.",
    "MutatingAdmissionPolicy": "CEL mutations that admission applies to writes.",
    "MutatingAdmissionPolicyBinding": "Where a MutatingAdmissionPolicy applies, with which parameters.",
}

# apimachinery meta/v1 types: (client class, GVK kind or "" when the schema is not a kind).
META_CLASSES = {
    "V1ObjectMeta": "",
    "V1ListMeta": "",
    "V1Status": "Status",
    "V1StatusDetails": "",
    "V1StatusCause": "",
    "V1DeleteOptions": "DeleteOptions",
    "V1Preconditions": "",
    "V1WatchEvent": "WatchEvent",
    "V1OwnerReference": "",
    "V1ManagedFieldsEntry": "",
    "V1LabelSelector": "",
    "V1LabelSelectorRequirement": "",
    "V1FieldSelectorRequirement": "",
    "V1Condition": "",
    "V1ShardInfo": "",
}
META_DESCRIPTIONS = {
    "Status": "The result of an operation that does not return an object, such as an error.",
    "DeleteOptions": "Options for a delete request.",
    "WatchEvent": "One event of a watch stream.",
}

# Core types that other groups embed but that no core kind in KINDS reaches.
CORE_CLASSES = {"V1PodTemplateSpec", "V1PersistentVolumeClaim", "V1PersistentVolumeSpec"}

# (client class, JSON field) whose string (or map-of-string values) is a resource.Quantity.
QUANTITY_FIELDS = {
    ("V1ResourceRequirements", "limits"),
    ("V1ResourceRequirements", "requests"),
    ("V1VolumeResourceRequirements", "limits"),
    ("V1VolumeResourceRequirements", "requests"),
    ("V1PodSpec", "overhead"),
    ("V1PodStatus", "allocatedResources"),
    ("V1ContainerStatus", "allocatedResources"),
    ("V1NodeStatus", "capacity"),
    ("V1PersistentVolumeSpec", "capacity"),
    ("V1PersistentVolumeClaimStatus", "capacity"),
    ("V1PersistentVolumeClaimStatus", "allocatedResources"),
    ("V1LimitRangeItem", "default"),
    ("V1LimitRangeItem", "defaultRequest"),
    ("V1LimitRangeItem", "max"),
    ("V1LimitRangeItem", "min"),
    ("V1LimitRangeItem", "maxLimitRequestRatio"),
    ("V1ResourceQuotaSpec", "hard"),
    ("V1ResourceQuotaStatus", "hard"),
    ("V1ResourceQuotaStatus", "used"),
    ("V1NodeStatus", "allocatable"),
    ("V1EmptyDirVolumeSource", "sizeLimit"),
    ("V1ResourceFieldSelector", "divisor"),
    ("V1NodeAllocatableMappedResources", "quantity"),
    ("V1NodeAllocatableOverheadResources", "perContainer"),
    ("V1NodeAllocatableOverheadResources", "perPod"),
    ("V1PersistentVolumeSpec", "capacity"),
    ("V1PersistentVolumeClaimStatus", "capacity"),
    ("V1PersistentVolumeClaimStatus", "allocatedResources"),
    ("V2MetricTarget", "value"),
    ("V2MetricTarget", "averageValue"),
    ("V2MetricValueStatus", "value"),
    ("V2MetricValueStatus", "averageValue"),
}

SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "bytes": {"type": "string", "format": "byte"},
}
FREE_FORM: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

_VERSION_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")


def ref(name: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}


def model(name: str) -> Any:
    cls = getattr(models, name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        raise SystemExit(f"gen_openapi_schemas: the client has no model class {name}")
    return cls


def short_name(class_name: str) -> str:
    match = _VERSION_PREFIX.match(class_name)
    if match is None:
        raise SystemExit(f"gen_openapi_schemas: cannot strip the version from {class_name}")
    return class_name[match.end() :]


def referenced_classes(type_string: str) -> list[str]:
    return [t for t in re.findall(r"[A-Za-z0-9_]+", type_string) if hasattr(models, t)]


def is_int_or_string(annotation: Any) -> bool:
    """True for pydantic annotations of the form ``int | str`` (optionally ``| None``)."""
    members = {_strip_annotated(a) for a in typing.get_args(annotation)}
    members.discard(type(None))
    return members == {int, str}


def _strip_annotated(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


class Generator:
    def __init__(self) -> None:
        self.package: dict[str, str] = {}  # client class -> Go package (schema name prefix)
        self.schemas: dict[str, dict[str, Any]] = {}

    # -- packages -----------------------------------------------------------------------------

    def assign_packages(self) -> None:
        for name in META_CLASSES:
            self._claim(name, META)
        for kind in KINDS:
            package = f"io.k8s.api.{GROUP_PACKAGES[kind.group]}.{kind.version}"
            if kind.group == "":
                for name in CORE_CLASSES:
                    self._claim(name, package)
            for name in (kind.model, kind.list_model):
                if name:
                    self._claim(name, package)

    def _claim(self, name: str, package: str) -> None:
        if name in self.package:
            return
        self.package[name] = package
        for type_string in model(name).openapi_types.values():
            for child in referenced_classes(type_string):
                self._claim(child, package)

    def schema_name(self, class_name: str) -> str:
        return f"{self.package[class_name]}.{short_name(class_name)}"

    # -- schemas ------------------------------------------------------------------------------

    def build(self) -> dict[str, dict[str, Any]]:
        self.assign_packages()
        for class_name in self.package:
            self.schemas[self.schema_name(class_name)] = self.object_schema(class_name)
        for kind in KINDS:
            self._mark_kind(
                kind.model, kind.group, kind.version, kind.kind, DESCRIPTIONS[kind.kind]
            )
            if kind.list_model:
                self._mark_kind(
                    kind.list_model,
                    kind.group,
                    kind.version,
                    f"{kind.kind}List",
                    f"A list of {kind.kind} objects.",
                )
        for class_name, kind_name in META_CLASSES.items():
            if kind_name:
                self._mark_kind(class_name, "", "v1", kind_name, META_DESCRIPTIONS[kind_name])
        self.schemas[INT_OR_STRING] = {
            "format": "int-or-string",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
        }
        self.schemas[QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
        self.schemas[PATCH] = {"type": "object", "description": "The body of a PATCH request."}
        return dict(sorted(self.schemas.items()))

    def _mark_kind(
        self, class_name: str, group: str, version: str, kind: str, description: str
    ) -> None:
        schema = self.schemas[self.schema_name(class_name)]
        schema["description"] = description
        schema["x-kubernetes-group-version-kind"] = [
            {"group": group, "kind": kind, "version": version}
        ]

    def object_schema(self, class_name: str) -> dict[str, Any]:
        cls = model(class_name)
        fields_by_json = {
            (info.serialization_alias or python_name): info
            for python_name, info in cls.model_fields.items()
        }
        properties: dict[str, Any] = {}
        required: list[str] = []
        for python_name, type_string in cls.openapi_types.items():
            json_name = cls.attribute_map[python_name]
            info = fields_by_json[json_name]
            quantity = (class_name, json_name) in QUANTITY_FIELDS
            properties[json_name] = self.field_schema(type_string, info.annotation, quantity)
            if info.is_required():
                required.append(json_name)
        schema: dict[str, Any] = {"type": "object", "properties": dict(sorted(properties.items()))}
        if required:
            schema["required"] = sorted(required)
        return schema

    def field_schema(self, type_string: str, annotation: Any, quantity: bool) -> dict[str, Any]:
        if type_string.startswith("List[") and type_string.endswith("]"):
            inner = self.field_schema(type_string[5:-1], None, quantity)
            return {"type": "array", "items": inner}
        if type_string.startswith("Dict[str, ") and type_string.endswith("]"):
            inner = self.field_schema(type_string[10:-1], None, quantity)
            return {"type": "object", "additionalProperties": inner}
        if quantity:
            if type_string != "str":
                raise SystemExit(f"gen_openapi_schemas: Quantity field of type {type_string}")
            return ref(QUANTITY)
        if type_string == "object":
            if annotation is not None and is_int_or_string(annotation):
                return ref(INT_OR_STRING)
            return dict(FREE_FORM)
        if type_string in SCALARS:
            return dict(SCALARS[type_string])
        if hasattr(models, type_string):
            return ref(self.schema_name(type_string))
        raise SystemExit(f"gen_openapi_schemas: unknown client type {type_string!r}")


def render() -> str:
    document = {
        "generatedBy": "tools/gen_openapi_schemas.py",
        "kubernetesClient": CLIENT_VERSION,
        "schemas": Generator().build(),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run tools/gen_openapi_schemas.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text.encode())} bytes, client {CLIENT_VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
