"""Message tables for ``core/v1`` kinds other than Pod: Namespace, ServiceAccount, ConfigMap,
Secret, Event, Node, Service, ResourceQuota, and the reference types they share.

Field numbers from ``staging/src/k8s.io/api/core/v1/generated.proto``.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    blob_map,
    boolean,
    int32,
    int64,
    int_or_string,
    message,
    messages,
    micro_timestamp,
    object_meta,
    quantity_map,
    string,
    string_map,
    strings,
    timestamp,
)

_REFERENCES: dict[str, Message] = {
    "core.ObjectReference": {
        1: string("kind"),
        2: string("namespace"),
        3: string("name"),
        4: string("uid"),
        5: string("apiVersion"),
        6: string("resourceVersion"),
        7: string("fieldPath"),
    },
    "core.LocalObjectReference": {
        1: string("name"),
    },
    "core.TypedLocalObjectReference": {
        1: string("apiGroup", keep_zero=True),
        2: string("kind", keep_zero=True),
        3: string("name", keep_zero=True),
    },
    "core.TypedObjectReference": {
        1: string("apiGroup", keep_zero=True),
        2: string("kind", keep_zero=True),
        3: string("name", keep_zero=True),
        4: string("namespace", keep_zero=True),
    },
}

_CONFIG: dict[str, Message] = {
    "core.Namespace": {
        1: object_meta(),
        2: message("spec", "core.NamespaceSpec"),
        3: message("status", "core.NamespaceStatus"),
    },
    "core.NamespaceSpec": {
        1: strings("finalizers"),
    },
    "core.NamespaceStatus": {
        1: string("phase"),
        2: messages("conditions", "core.NamespaceCondition"),
    },
    "core.NamespaceCondition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        4: timestamp("lastTransitionTime"),
        5: string("reason"),
        6: string("message"),
    },
    "core.ServiceAccount": {
        1: object_meta(),
        2: messages("secrets", "core.ObjectReference"),
        3: messages("imagePullSecrets", "core.LocalObjectReference"),
        4: boolean("automountServiceAccountToken", keep_zero=True),
    },
    "core.ConfigMap": {
        1: object_meta(),
        4: boolean("immutable", keep_zero=True),
        2: string_map("data"),
        3: blob_map("binaryData"),
    },
    "core.Secret": {
        1: object_meta(),
        5: boolean("immutable", keep_zero=True),
        2: blob_map("data"),
        4: string_map("stringData"),
        3: string("type"),
    },
    "core.ResourceQuota": {
        1: object_meta(),
        2: message("spec", "core.ResourceQuotaSpec"),
        3: message("status", "core.ResourceQuotaStatus"),
    },
    "core.ResourceQuotaSpec": {
        1: quantity_map("hard"),
        2: strings("scopes"),
        3: message("scopeSelector", "core.ScopeSelector"),
    },
    "core.ScopeSelector": {
        1: messages("matchExpressions", "core.ScopedResourceSelectorRequirement"),
    },
    "core.ScopedResourceSelectorRequirement": {
        1: string("scopeName", keep_zero=True),
        2: string("operator", keep_zero=True),
        3: strings("values"),
    },
    "core.ResourceQuotaStatus": {
        1: quantity_map("hard"),
        2: quantity_map("used"),
    },
}

_EVENTS: dict[str, Message] = {
    "core.Event": {
        1: object_meta(),
        2: message("involvedObject", "core.ObjectReference"),
        3: string("reason"),
        4: string("message"),
        5: message("source", "core.EventSource"),
        6: timestamp("firstTimestamp"),
        7: timestamp("lastTimestamp"),
        8: int32("count"),
        9: string("type"),
        10: micro_timestamp("eventTime"),
        11: message("series", "core.EventSeries"),
        12: string("action"),
        13: message("related", "core.ObjectReference"),
        14: string("reportingComponent", keep_zero=True),
        15: string("reportingInstance", keep_zero=True),
    },
    "core.EventSource": {
        1: string("component"),
        2: string("host"),
    },
    "core.EventSeries": {
        1: int32("count"),
        2: micro_timestamp("lastObservedTime"),
    },
}

_NODES: dict[str, Message] = {
    "core.Node": {
        1: object_meta(),
        2: message("spec", "core.NodeSpec"),
        3: message("status", "core.NodeStatus"),
    },
    "core.NodeSpec": {
        1: string("podCIDR"),
        7: strings("podCIDRs"),
        3: string("providerID"),
        4: boolean("unschedulable"),
        5: messages("taints", "core.Taint"),
        6: message("configSource", "core.NodeConfigSource"),
        2: string("externalID"),
    },
    "core.Taint": {
        1: string("key", keep_zero=True),
        2: string("value"),
        3: string("effect", keep_zero=True),
        4: timestamp("timeAdded"),
    },
    "core.NodeConfigSource": {
        2: message("configMap", "core.ConfigMapNodeConfigSource"),
    },
    "core.ConfigMapNodeConfigSource": {
        1: string("namespace", keep_zero=True),
        2: string("name", keep_zero=True),
        3: string("uid"),
        4: string("resourceVersion"),
        5: string("kubeletConfigKey", keep_zero=True),
    },
    "core.NodeStatus": {
        1: quantity_map("capacity"),
        2: quantity_map("allocatable"),
        3: string("phase"),
        4: messages("conditions", "core.NodeCondition"),
        5: messages("addresses", "core.NodeAddress"),
        6: message("daemonEndpoints", "core.NodeDaemonEndpoints"),
        7: message("nodeInfo", "core.NodeSystemInfo"),
        8: messages("images", "core.ContainerImage"),
        9: strings("volumesInUse"),
        10: messages("volumesAttached", "core.AttachedVolume"),
        11: message("config", "core.NodeConfigStatus"),
        12: messages("runtimeHandlers", "core.NodeRuntimeHandler"),
        13: message("features", "core.NodeFeatures"),
        14: strings("declaredFeatures"),
    },
    "core.NodeCondition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        3: timestamp("lastHeartbeatTime"),
        4: timestamp("lastTransitionTime"),
        5: string("reason"),
        6: string("message"),
    },
    "core.NodeAddress": {
        1: string("type", keep_zero=True),
        2: string("address", keep_zero=True),
    },
    "core.NodeDaemonEndpoints": {
        1: message("kubeletEndpoint", "core.DaemonEndpoint"),
    },
    "core.DaemonEndpoint": {
        1: int32("Port", keep_zero=True),
    },
    "core.NodeSystemInfo": {
        1: string("machineID", keep_zero=True),
        2: string("systemUUID", keep_zero=True),
        3: string("bootID", keep_zero=True),
        4: string("kernelVersion", keep_zero=True),
        5: string("osImage", keep_zero=True),
        6: string("containerRuntimeVersion", keep_zero=True),
        7: string("kubeletVersion", keep_zero=True),
        8: string("kubeProxyVersion", keep_zero=True),
        9: string("operatingSystem", keep_zero=True),
        10: string("architecture", keep_zero=True),
        11: message("swap", "core.NodeSwapStatus"),
    },
    "core.NodeSwapStatus": {
        1: int64("capacity", keep_zero=True),
    },
    "core.ContainerImage": {
        1: strings("names"),
        2: int64("sizeBytes"),
    },
    "core.AttachedVolume": {
        1: string("name", keep_zero=True),
        2: string("devicePath", keep_zero=True),
    },
    "core.NodeConfigStatus": {
        1: message("assigned", "core.NodeConfigSource"),
        2: message("active", "core.NodeConfigSource"),
        3: message("lastKnownGood", "core.NodeConfigSource"),
        4: string("error"),
    },
    "core.NodeRuntimeHandler": {
        1: string("name"),
        2: message("features", "core.NodeRuntimeHandlerFeatures"),
    },
    "core.NodeRuntimeHandlerFeatures": {
        1: boolean("recursiveReadOnlyMounts", keep_zero=True),
        2: boolean("userNamespaces", keep_zero=True),
    },
    "core.NodeFeatures": {
        1: boolean("supplementalGroupsPolicy", keep_zero=True),
        2: boolean("containerUlimits", keep_zero=True),
    },
}

_SERVICES: dict[str, Message] = {
    "core.Service": {
        1: object_meta(),
        2: message("spec", "core.ServiceSpec"),
        3: message("status", "core.ServiceStatus"),
    },
    "core.ServiceSpec": {
        1: messages("ports", "core.ServicePort"),
        2: string_map("selector"),
        3: string("clusterIP"),
        18: strings("clusterIPs"),
        4: string("type"),
        5: strings("externalIPs"),
        7: string("sessionAffinity"),
        8: string("loadBalancerIP"),
        9: strings("loadBalancerSourceRanges"),
        10: string("externalName"),
        11: string("externalTrafficPolicy"),
        12: int32("healthCheckNodePort"),
        13: boolean("publishNotReadyAddresses"),
        14: message("sessionAffinityConfig", "core.SessionAffinityConfig"),
        19: strings("ipFamilies"),
        17: string("ipFamilyPolicy", keep_zero=True),
        20: boolean("allocateLoadBalancerNodePorts", keep_zero=True),
        21: string("loadBalancerClass", keep_zero=True),
        22: string("internalTrafficPolicy", keep_zero=True),
        23: string("trafficDistribution", keep_zero=True),
    },
    "core.ServicePort": {
        1: string("name"),
        2: string("protocol"),
        6: string("appProtocol", keep_zero=True),
        3: int32("port", keep_zero=True),
        4: int_or_string("targetPort"),
        5: int32("nodePort"),
    },
    "core.SessionAffinityConfig": {
        1: message("clientIP", "core.ClientIPConfig"),
    },
    "core.ClientIPConfig": {
        1: int32("timeoutSeconds", keep_zero=True),
    },
    "core.ServiceStatus": {
        1: message("loadBalancer", "core.LoadBalancerStatus"),
        2: messages("conditions", "meta.Condition"),
    },
    "core.LoadBalancerStatus": {
        1: messages("ingress", "core.LoadBalancerIngress"),
    },
    "core.LoadBalancerIngress": {
        1: string("ip"),
        2: string("hostname"),
        3: string("ipMode", keep_zero=True),
        4: messages("ports", "core.PortStatus"),
    },
    "core.PortStatus": {
        1: int32("port", keep_zero=True),
        2: string("protocol", keep_zero=True),
        3: string("error", keep_zero=True),
    },
}

MESSAGES: dict[str, Message] = {
    **_REFERENCES,
    **_CONFIG,
    **_EVENTS,
    **_NODES,
    **_SERVICES,
}
