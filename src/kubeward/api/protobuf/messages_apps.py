"""Message tables for the workload and cluster groups kubectl's generators send: apps/v1
Deployment and ReplicaSet, coordination/v1 Lease, networking/v1 NetworkPolicy, Ingress and IngressClass,
policy/v1 PodDisruptionBudget and scheduling/v1 PriorityClass.

Field numbers from ``staging/src/k8s.io/api/{apps,coordination,networking,policy,scheduling}/v1/
generated.proto`` (``PodDisruptionBudgetSpec`` 4 from the protobuf tag in ``types.go``).
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    Special,
    boolean,
    int32,
    int64,
    int_or_string,
    message,
    message_map,
    messages,
    micro_timestamp,
    object_meta,
    string,
    strings,
    timestamp,
)

_APPS: dict[str, Message] = {
    "apps.Deployment": {
        1: object_meta(),
        2: message("spec", "apps.DeploymentSpec"),
        3: message("status", "apps.DeploymentStatus"),
    },
    "apps.DeploymentSpec": {
        1: int32("replicas", keep_zero=True),
        2: message("selector", "meta.LabelSelector"),
        3: message("template", "core.PodTemplateSpec"),
        4: message("strategy", "apps.DeploymentStrategy"),
        5: int32("minReadySeconds"),
        6: int32("revisionHistoryLimit", keep_zero=True),
        7: boolean("paused"),
        9: int32("progressDeadlineSeconds", keep_zero=True),
        10: string("podReplacementPolicy", keep_zero=True),
    },
    "apps.DeploymentStrategy": {
        1: string("type"),
        2: message("rollingUpdate", "apps.RollingUpdateDeployment"),
    },
    "apps.RollingUpdateDeployment": {
        1: int_or_string("maxUnavailable"),
        2: int_or_string("maxSurge"),
    },
    "apps.DeploymentStatus": {
        1: int64("observedGeneration"),
        2: int32("replicas"),
        3: int32("updatedReplicas"),
        7: int32("readyReplicas"),
        4: int32("availableReplicas"),
        5: int32("unavailableReplicas"),
        9: int32("terminatingReplicas", keep_zero=True),
        6: messages("conditions", "apps.DeploymentCondition"),
        8: int32("collisionCount", keep_zero=True),
    },
    "apps.DeploymentCondition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        6: timestamp("lastUpdateTime"),
        7: timestamp("lastTransitionTime"),
        4: string("reason"),
        5: string("message"),
    },
    "apps.ReplicaSet": {
        1: object_meta(),
        2: message("spec", "apps.ReplicaSetSpec"),
        3: message("status", "apps.ReplicaSetStatus"),
    },
    "apps.ReplicaSetSpec": {
        1: int32("replicas", keep_zero=True),
        4: int32("minReadySeconds"),
        2: message("selector", "meta.LabelSelector"),
        3: message("template", "core.PodTemplateSpec"),
    },
    "apps.ReplicaSetStatus": {
        1: int32("replicas", keep_zero=True),
        2: int32("fullyLabeledReplicas"),
        4: int32("readyReplicas"),
        5: int32("availableReplicas"),
        7: int32("terminatingReplicas", keep_zero=True),
        3: int64("observedGeneration"),
        6: messages("conditions", "apps.ReplicaSetCondition"),
    },
    "apps.ReplicaSetCondition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        3: timestamp("lastTransitionTime"),
        4: string("reason"),
        5: string("message"),
    },
}

_COORDINATION: dict[str, Message] = {
    "coordination.Lease": {
        1: object_meta(),
        2: message("spec", "coordination.LeaseSpec"),
    },
    "coordination.LeaseSpec": {
        1: string("holderIdentity", keep_zero=True),
        2: int32("leaseDurationSeconds", keep_zero=True),
        3: micro_timestamp("acquireTime"),
        4: micro_timestamp("renewTime"),
        5: int32("leaseTransitions", keep_zero=True),
        6: string("strategy", keep_zero=True),
        7: string("preferredHolder", keep_zero=True),
    },
}

_NETWORKING: dict[str, Message] = {
    "networking.NetworkPolicy": {
        1: object_meta(),
        2: message("spec", "networking.NetworkPolicySpec"),
    },
    "networking.NetworkPolicySpec": {
        1: message("podSelector", "meta.LabelSelector"),
        2: messages("ingress", "networking.NetworkPolicyIngressRule"),
        3: messages("egress", "networking.NetworkPolicyEgressRule"),
        4: strings("policyTypes"),
    },
    "networking.NetworkPolicyIngressRule": {
        1: messages("ports", "networking.NetworkPolicyPort"),
        2: messages("from", "networking.NetworkPolicyPeer"),
    },
    "networking.NetworkPolicyEgressRule": {
        1: messages("ports", "networking.NetworkPolicyPort"),
        2: messages("to", "networking.NetworkPolicyPeer"),
    },
    "networking.NetworkPolicyPeer": {
        1: message("podSelector", "meta.LabelSelector"),
        2: message("namespaceSelector", "meta.LabelSelector"),
        3: message("ipBlock", "networking.IPBlock"),
    },
    "networking.IPBlock": {
        1: string("cidr", keep_zero=True),
        2: strings("except"),
    },
    "networking.NetworkPolicyPort": {
        1: string("protocol", keep_zero=True),
        2: int_or_string("port"),
        3: int32("endPort", keep_zero=True),
    },
    "networking.Ingress": {
        1: object_meta(),
        2: message("spec", "networking.IngressSpec"),
        3: message("status", "networking.IngressStatus"),
    },
    "networking.IngressSpec": {
        4: string("ingressClassName", keep_zero=True),
        1: message("defaultBackend", "networking.IngressBackend"),
        2: messages("tls", "networking.IngressTLS"),
        3: messages("rules", "networking.IngressRule"),
    },
    "networking.IngressBackend": {
        4: message("service", "networking.IngressServiceBackend"),
        3: message("resource", "core.TypedLocalObjectReference"),
    },
    "networking.IngressServiceBackend": {
        1: string("name", keep_zero=True),
        2: message("port", "networking.ServiceBackendPort"),
    },
    "networking.ServiceBackendPort": {
        1: string("name"),
        2: int32("number"),
    },
    "networking.IngressTLS": {
        1: strings("hosts"),
        2: string("secretName"),
    },
    "networking.IngressRule": {
        1: string("host"),
        2: message("ingressRuleValue", "networking.IngressRuleValue", inline=True),
    },
    "networking.IngressRuleValue": {
        1: message("http", "networking.HTTPIngressRuleValue"),
    },
    "networking.HTTPIngressRuleValue": {
        1: messages("paths", "networking.HTTPIngressPath"),
    },
    "networking.HTTPIngressPath": {
        1: string("path"),
        3: string("pathType", keep_zero=True),
        2: message("backend", "networking.IngressBackend"),
    },
    "networking.IngressStatus": {
        1: message("loadBalancer", "networking.IngressLoadBalancerStatus"),
    },
    "networking.IngressLoadBalancerStatus": {
        1: messages("ingress", "networking.IngressLoadBalancerIngress"),
    },
    "networking.IngressLoadBalancerIngress": {
        1: string("ip"),
        2: string("hostname"),
        4: messages("ports", "networking.IngressPortStatus"),
    },
    "networking.IngressPortStatus": {
        1: int32("port", keep_zero=True),
        2: string("protocol", keep_zero=True),
        3: string("error", keep_zero=True),
    },
    "networking.IngressClass": {
        1: object_meta(),
        2: message("spec", "networking.IngressClassSpec"),
    },
    "networking.IngressClassSpec": {
        1: string("controller"),
        2: message("parameters", "networking.IngressClassParametersReference"),
    },
    "networking.IngressClassParametersReference": {
        1: string("apiGroup", keep_zero=True),
        2: string("kind", keep_zero=True),
        3: string("name", keep_zero=True),
        4: string("scope", keep_zero=True),
        5: string("namespace", keep_zero=True),
    },
}

_POLICY: dict[str, Message] = {
    "policy.PodDisruptionBudget": {
        1: object_meta(),
        2: message("spec", "policy.PodDisruptionBudgetSpec"),
        3: message("status", "policy.PodDisruptionBudgetStatus"),
    },
    "policy.PodDisruptionBudgetSpec": {
        1: int_or_string("minAvailable"),
        2: message("selector", "meta.LabelSelector"),
        3: int_or_string("maxUnavailable"),
        4: string("unhealthyPodEvictionPolicy", keep_zero=True),
    },
    "policy.PodDisruptionBudgetStatus": {
        1: int64("observedGeneration"),
        2: message_map("disruptedPods", Special.TIME),
        3: int32("disruptionsAllowed", keep_zero=True),
        4: int32("currentHealthy", keep_zero=True),
        5: int32("desiredHealthy", keep_zero=True),
        6: int32("expectedPods", keep_zero=True),
        7: messages("conditions", "meta.Condition"),
    },
    "scheduling.PriorityClass": {
        1: object_meta(),
        2: int32("value", keep_zero=True),
        3: boolean("globalDefault"),
        4: string("description"),
        5: string("preemptionPolicy", keep_zero=True),
    },
}

MESSAGES: dict[str, Message] = {**_APPS, **_COORDINATION, **_NETWORKING, **_POLICY}
