"""Message tables for ``core/v1`` Pod: the Pod, its template, PodSpec, PodStatus and the
scheduling types (affinity, tolerations, topology spread).

Field numbers from ``staging/src/k8s.io/api/core/v1/generated.proto``.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    boolean,
    int32,
    int64,
    int64s,
    message,
    messages,
    object_meta,
    quantity_map,
    string,
    string_map,
    strings,
    timestamp,
)

_POD: dict[str, Message] = {
    "core.Pod": {
        1: object_meta(),
        2: message("spec", "core.PodSpec"),
        3: message("status", "core.PodStatus"),
    },
    "core.PodTemplateSpec": {
        1: object_meta(),
        2: message("spec", "core.PodSpec"),
    },
    "core.PodSpec": {
        1: messages("volumes", "core.Volume"),
        20: messages("initContainers", "core.Container"),
        2: messages("containers", "core.Container"),
        34: messages("ephemeralContainers", "core.EphemeralContainer"),
        3: string("restartPolicy"),
        4: int64("terminationGracePeriodSeconds", keep_zero=True),
        5: int64("activeDeadlineSeconds", keep_zero=True),
        6: string("dnsPolicy"),
        7: string_map("nodeSelector"),
        8: string("serviceAccountName"),
        9: string("serviceAccount"),
        21: boolean("automountServiceAccountToken", keep_zero=True),
        10: string("nodeName"),
        11: boolean("hostNetwork"),
        12: boolean("hostPID"),
        13: boolean("hostIPC"),
        27: boolean("shareProcessNamespace", keep_zero=True),
        14: message("securityContext", "core.PodSecurityContext"),
        15: messages("imagePullSecrets", "core.LocalObjectReference"),
        16: string("hostname"),
        17: string("subdomain"),
        18: message("affinity", "core.Affinity"),
        19: string("schedulerName"),
        22: messages("tolerations", "core.Toleration"),
        23: messages("hostAliases", "core.HostAlias"),
        24: string("priorityClassName"),
        25: int32("priority", keep_zero=True),
        26: message("dnsConfig", "core.PodDNSConfig"),
        28: messages("readinessGates", "core.PodReadinessGate"),
        29: string("runtimeClassName", keep_zero=True),
        30: boolean("enableServiceLinks", keep_zero=True),
        31: string("preemptionPolicy", keep_zero=True),
        32: quantity_map("overhead"),
        33: messages("topologySpreadConstraints", "core.TopologySpreadConstraint"),
        35: boolean("setHostnameAsFQDN", keep_zero=True),
        36: message("os", "core.PodOS"),
        37: boolean("hostUsers", keep_zero=True),
        38: messages("schedulingGates", "core.PodSchedulingGate"),
        39: messages("resourceClaims", "core.PodResourceClaim"),
        40: message("resources", "core.ResourceRequirements"),
        41: string("hostnameOverride", keep_zero=True),
        42: message("workloadRef", "core.WorkloadReference"),
    },
}

_STATUS: dict[str, Message] = {
    "core.PodStatus": {
        17: int64("observedGeneration"),
        1: string("phase"),
        2: messages("conditions", "core.PodCondition"),
        3: string("message"),
        4: string("reason"),
        11: string("nominatedNodeName"),
        5: string("hostIP"),
        16: messages("hostIPs", "core.HostIP"),
        6: string("podIP"),
        12: messages("podIPs", "core.PodIP"),
        7: timestamp("startTime"),
        10: messages("initContainerStatuses", "core.ContainerStatus"),
        8: messages("containerStatuses", "core.ContainerStatus"),
        9: string("qosClass"),
        13: messages("ephemeralContainerStatuses", "core.ContainerStatus"),
        14: string("resize"),
        15: messages("resourceClaimStatuses", "core.PodResourceClaimStatus"),
        19: quantity_map("allocatedResources"),
        20: message("resources", "core.ResourceRequirements"),
    },
    "core.PodCondition": {
        1: string("type", keep_zero=True),
        7: int64("observedGeneration"),
        2: string("status", keep_zero=True),
        3: timestamp("lastProbeTime"),
        4: timestamp("lastTransitionTime"),
        5: string("reason"),
        6: string("message"),
    },
    "core.HostIP": {
        1: string("ip", keep_zero=True),
    },
    "core.PodIP": {
        1: string("ip", keep_zero=True),
    },
    "core.PodResourceClaimStatus": {
        1: string("name", keep_zero=True),
        2: string("resourceClaimName", keep_zero=True),
    },
    "core.ContainerStatus": {
        1: string("name", keep_zero=True),
        2: message("state", "core.ContainerState"),
        3: message("lastState", "core.ContainerState"),
        4: boolean("ready", keep_zero=True),
        5: int32("restartCount", keep_zero=True),
        6: string("image", keep_zero=True),
        7: string("imageID", keep_zero=True),
        8: string("containerID"),
        9: boolean("started", keep_zero=True),
        10: quantity_map("allocatedResources"),
        11: message("resources", "core.ResourceRequirements"),
        12: messages("volumeMounts", "core.VolumeMountStatus"),
        13: message("user", "core.ContainerUser"),
        14: messages("allocatedResourcesStatus", "core.ResourceStatus"),
        15: string("stopSignal", keep_zero=True),
    },
    "core.ContainerState": {
        1: message("waiting", "core.ContainerStateWaiting"),
        2: message("running", "core.ContainerStateRunning"),
        3: message("terminated", "core.ContainerStateTerminated"),
    },
    "core.ContainerStateWaiting": {
        1: string("reason"),
        2: string("message"),
    },
    "core.ContainerStateRunning": {
        1: timestamp("startedAt"),
    },
    "core.ContainerStateTerminated": {
        1: int32("exitCode", keep_zero=True),
        2: int32("signal"),
        3: string("reason"),
        4: string("message"),
        5: timestamp("startedAt"),
        6: timestamp("finishedAt"),
        7: string("containerID"),
    },
    "core.VolumeMountStatus": {
        1: string("name", keep_zero=True),
        2: string("mountPath", keep_zero=True),
        3: boolean("readOnly"),
        4: string("recursiveReadOnly", keep_zero=True),
    },
    "core.ContainerUser": {
        1: message("linux", "core.LinuxContainerUser"),
    },
    "core.LinuxContainerUser": {
        1: int64("uid", keep_zero=True),
        2: int64("gid", keep_zero=True),
        3: int64s("supplementalGroups"),
    },
    "core.ResourceStatus": {
        1: string("name", keep_zero=True),
        2: messages("resources", "core.ResourceHealth"),
    },
    "core.ResourceHealth": {
        1: string("resourceID", keep_zero=True),
        2: string("health"),
        6: string("message", keep_zero=True),
    },
}

_SCHEDULING: dict[str, Message] = {
    "core.Affinity": {
        1: message("nodeAffinity", "core.NodeAffinity"),
        2: message("podAffinity", "core.PodAffinity"),
        3: message("podAntiAffinity", "core.PodAffinity"),
    },
    "core.NodeAffinity": {
        1: message("requiredDuringSchedulingIgnoredDuringExecution", "core.NodeSelector"),
        2: messages(
            "preferredDuringSchedulingIgnoredDuringExecution", "core.PreferredSchedulingTerm"
        ),
    },
    "core.NodeSelector": {
        1: messages("nodeSelectorTerms", "core.NodeSelectorTerm"),
    },
    "core.NodeSelectorTerm": {
        1: messages("matchExpressions", "core.NodeSelectorRequirement"),
        2: messages("matchFields", "core.NodeSelectorRequirement"),
    },
    "core.NodeSelectorRequirement": {
        1: string("key", keep_zero=True),
        2: string("operator", keep_zero=True),
        3: strings("values"),
    },
    "core.PreferredSchedulingTerm": {
        1: int32("weight", keep_zero=True),
        2: message("preference", "core.NodeSelectorTerm"),
    },
    # PodAntiAffinity has the same two fields as PodAffinity, numbered alike.
    "core.PodAffinity": {
        1: messages("requiredDuringSchedulingIgnoredDuringExecution", "core.PodAffinityTerm"),
        2: messages(
            "preferredDuringSchedulingIgnoredDuringExecution", "core.WeightedPodAffinityTerm"
        ),
    },
    "core.PodAffinityTerm": {
        1: message("labelSelector", "meta.LabelSelector"),
        2: strings("namespaces"),
        3: string("topologyKey", keep_zero=True),
        4: message("namespaceSelector", "meta.LabelSelector"),
        5: strings("matchLabelKeys"),
        6: strings("mismatchLabelKeys"),
    },
    "core.WeightedPodAffinityTerm": {
        1: int32("weight", keep_zero=True),
        2: message("podAffinityTerm", "core.PodAffinityTerm"),
    },
    "core.Toleration": {
        1: string("key"),
        2: string("operator"),
        3: string("value"),
        4: string("effect"),
        5: int64("tolerationSeconds", keep_zero=True),
    },
    "core.HostAlias": {
        1: string("ip", keep_zero=True),
        2: strings("hostnames"),
    },
    "core.PodDNSConfig": {
        1: strings("nameservers"),
        2: strings("searches"),
        3: messages("options", "core.PodDNSConfigOption"),
    },
    "core.PodDNSConfigOption": {
        1: string("name"),
        2: string("value", keep_zero=True),
    },
    "core.PodReadinessGate": {
        1: string("conditionType", keep_zero=True),
    },
    "core.TopologySpreadConstraint": {
        1: int32("maxSkew", keep_zero=True),
        2: string("topologyKey", keep_zero=True),
        3: string("whenUnsatisfiable", keep_zero=True),
        4: message("labelSelector", "meta.LabelSelector"),
        5: int32("minDomains", keep_zero=True),
        6: string("nodeAffinityPolicy", keep_zero=True),
        7: string("nodeTaintsPolicy", keep_zero=True),
        8: strings("matchLabelKeys"),
    },
    "core.PodOS": {
        1: string("name", keep_zero=True),
    },
    "core.PodSchedulingGate": {
        1: string("name", keep_zero=True),
    },
    "core.PodResourceClaim": {
        1: string("name", keep_zero=True),
        3: string("resourceClaimName", keep_zero=True),
        4: string("resourceClaimTemplateName", keep_zero=True),
    },
    "core.WorkloadReference": {
        1: string("name"),
        2: string("podGroup"),
        3: string("podGroupReplicaKey"),
    },
}

MESSAGES: dict[str, Message] = {**_POD, **_STATUS, **_SCHEDULING}
