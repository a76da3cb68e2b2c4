"""core/v1: namespaces, pods, nodes, configmaps, secrets, serviceaccounts, events."""

from __future__ import annotations

import base64
import copy

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType, Subresource
from kubeward.api.validation import core as v
from kubeward.api.validation.meta import check_dns1123_label
from kubeward.errors import Cause

EPHEMERAL_CONTAINERS = "ephemeralcontainers"

_ALL = ("all",)
NAMESPACES = ResourceType(
    "",
    "v1",
    "Namespace",
    "namespaces",
    False,
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    short_names=("ns",),
    subresources=(
        Subresource("status", "Namespace", ("get", "patch", "update")),
        Subresource("finalize", "Namespace", ("update",)),
    ),
    returns_deleted_object=True,
)
PODS = ResourceType(
    "",
    "v1",
    "Pod",
    "pods",
    True,
    short_names=("po",),
    categories=_ALL,
    subresources=(
        Subresource("status", "Pod", ("get", "patch", "update")),
        Subresource("binding", "Binding", ("create",)),
        Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
        Subresource("ephemeralcontainers", "Pod", ("get", "patch", "update")),
        # Streamed from the node's kubelet (server.endpoints.kubelet_streams).
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
    ),
    returns_deleted_object=True,
    graceful_delete=True,
)
NODES = ResourceType(
    "",
    "v1",
    "Node",
    "nodes",
    False,
    short_names=("no",),
    subresources=(
        Subresource("status", "Node", ("get", "patch", "update")),
        Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
    ),
    returns_deleted_object=True,
)
CONFIGMAPS = ResourceType("", "v1", "ConfigMap", "configmaps", True, short_names=("cm",))
SECRETS = ResourceType("", "v1", "Secret", "secrets", True)
SERVICEACCOUNTS = ResourceType(
    "",
    "v1",
    "ServiceAccount",
    "serviceaccounts",
    True,
    short_names=("sa",),
    subresources=(
        Subresource(
            "token", "TokenRequest", ("create",), group="authentication.k8s.io", version="v1"
        ),
    ),
)
EVENTS = ResourceType("", "v1", "Event", "events", True, short_names=("ev",))
TYPES = (NAMESPACES, PODS, NODES, CONFIGMAPS, SECRETS, SERVICEACCOUNTS, EVENTS)
assert all(set(t.verbs) <= set(ALL_VERBS) for t in TYPES)


class NamespaceStrategy(Strategy):
    name_check = staticmethod(check_dns1123_label)
    has_status = True
    selectable_fields = ("status.phase",)

    def default(self, obj: JSONObject) -> None:
        spec = obj.setdefault("spec", {})
        if "finalizers" not in spec:
            spec["finalizers"] = ["kubernetes"]
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Active")
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"phase": "Active"}

    def blocks_deletion(self, obj: JSONObject) -> bool:
        return bool((obj.get("spec") or {}).get("finalizers"))

    def mark_deleting(self, obj: JSONObject) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def prepare_for_update(self, new: JSONObject, old: JSONObject) -> None:
        super().prepare_for_update(new, old)
        if (old.get("metadata") or {}).get("deletionTimestamp"):
            new.setdefault("status", {})["phase"] = "Terminating"


class PodStrategy(Strategy):
    has_status = True
    selectable_fields = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )

    def default(self, obj: JSONObject) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("securityContext", {})
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for container in spec.get(key) or []:
                if not isinstance(container, dict):
                    continue
                image = str(container.get("image") or "")
                tag = image.rsplit("/", 1)[-1]
                latest = ":" not in tag or tag.endswith(":latest")
                container.setdefault(
                    "imagePullPolicy", "Always" if latest and "@" not in tag else "IfNotPresent"
                )
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
                container.setdefault("resources", {})
                for port in container.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    if isinstance(container.get(probe), dict):
                        default_probe(container[probe])
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        obj["status"].setdefault("qosClass", "BestEffort")

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {}

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_pod(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_pod_update(new, old)

    def validate_create(self, obj: JSONObject) -> list[Cause]:
        return v.validate_pod_create(obj)

    def prepare_for_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> JSONObject:
        if subresource == "binding":
            # The binding endpoint changed the node, annotations and PodScheduled, nothing else.
            return copy.deepcopy(new)
        if subresource != EPHEMERAL_CONTAINERS:
            return super().prepare_for_subresource_update(new, old, subresource)
        # ``ephemeralcontainers`` changes only ``spec.ephemeralContainers`` (core rule 2a).
        merged = copy.deepcopy(old)
        wanted = (new.get("spec") or {}).get("ephemeralContainers")
        if wanted:
            merged.setdefault("spec", {})["ephemeralContainers"] = copy.deepcopy(wanted)
        else:
            merged.setdefault("spec", {}).pop("ephemeralContainers", None)
        return merged

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        if subresource == "binding":
            return []  # checked by the endpoint (server/endpoints/binding.py)
        if subresource == EPHEMERAL_CONTAINERS:
            return v.validate_ephemeral_containers_update(new, old)
        return super().validate_subresource_update(new, old, subresource)


def default_probe(probe: JSONObject) -> None:
    """SetDefaults_Probe and SetDefaults_HTTPGetAction."""
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        probe.setdefault(key, value)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


class NodeStrategy(Strategy):
    has_status = True
    selectable_fields = ("spec.unschedulable",)


class ConfigMapStrategy(Strategy):
    generation_fields = ()

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_config_map(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_config_map_update(new, old)


class SecretStrategy(Strategy):
    selectable_fields = ("type",)
    generation_fields = ()

    def default(self, obj: JSONObject) -> None:
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_secret(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_secret_update(new, old)


class ServiceAccountStrategy(Strategy):
    generation_fields = ()

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_service_account(obj)


class EventStrategy(Strategy):
    generation_fields = ()
    selectable_fields = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    NAMESPACES: NamespaceStrategy,
    PODS: PodStrategy,
    NODES: NodeStrategy,
    CONFIGMAPS: ConfigMapStrategy,
    SECRETS: SecretStrategy,
    SERVICEACCOUNTS: ServiceAccountStrategy,
    EVENTS: EventStrategy,
}
