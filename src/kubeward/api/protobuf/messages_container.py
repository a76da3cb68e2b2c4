"""Message tables for ``core/v1`` Container and what it holds: ports, environment, resources,
probes, lifecycle hooks and security contexts (the pod-level one too).

Field numbers from ``staging/src/k8s.io/api/core/v1/generated.proto``. ``EphemeralContainer``
embeds the same fields (``EphemeralContainerCommon``, numbered alike) inline.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    boolean,
    int32,
    int32s,
    int64,
    int64s,
    int_or_string,
    message,
    messages,
    quantity,
    quantity_map,
    string,
    strings,
)

_CONTAINER: Message = {
    1: string("name", keep_zero=True),
    2: string("image"),
    3: strings("command"),
    4: strings("args"),
    5: string("workingDir"),
    6: messages("ports", "core.ContainerPort"),
    19: messages("envFrom", "core.EnvFromSource"),
    7: messages("env", "core.EnvVar"),
    8: message("resources", "core.ResourceRequirements"),
    23: messages("resizePolicy", "core.ContainerResizePolicy"),
    24: string("restartPolicy", keep_zero=True),
    25: messages("restartPolicyRules", "core.ContainerRestartRule"),
    9: messages("volumeMounts", "core.VolumeMount"),
    21: messages("volumeDevices", "core.VolumeDevice"),
    10: message("livenessProbe", "core.Probe"),
    11: message("readinessProbe", "core.Probe"),
    22: message("startupProbe", "core.Probe"),
    12: message("lifecycle", "core.Lifecycle"),
    13: string("terminationMessagePath"),
    20: string("terminationMessagePolicy"),
    14: string("imagePullPolicy"),
    15: message("securityContext", "core.SecurityContext"),
    16: boolean("stdin"),
    17: boolean("stdinOnce"),
    18: boolean("tty"),
}

_CONTAINERS: dict[str, Message] = {
    "core.Container": _CONTAINER,
    "core.EphemeralContainer": {
        1: message("ephemeralContainerCommon", "core.Container", inline=True),
        2: string("targetContainerName"),
    },
    "core.ContainerPort": {
        1: string("name"),
        2: int32("hostPort"),
        3: int32("containerPort", keep_zero=True),
        4: string("protocol"),
        5: string("hostIP"),
    },
    "core.EnvFromSource": {
        1: string("prefix"),
        2: message("configMapRef", "core.ConfigMapEnvSource"),
        3: message("secretRef", "core.SecretEnvSource"),
    },
    "core.ConfigMapEnvSource": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: boolean("optional", keep_zero=True),
    },
    "core.SecretEnvSource": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: boolean("optional", keep_zero=True),
    },
    "core.EnvVar": {
        1: string("name", keep_zero=True),
        2: string("value"),
        3: message("valueFrom", "core.EnvVarSource"),
    },
    "core.EnvVarSource": {
        1: message("fieldRef", "core.ObjectFieldSelector"),
        2: message("resourceFieldRef", "core.ResourceFieldSelector"),
        3: message("configMapKeyRef", "core.ConfigMapKeySelector"),
        4: message("secretKeyRef", "core.SecretKeySelector"),
        5: message("fileKeyRef", "core.FileKeySelector"),
    },
    "core.ObjectFieldSelector": {
        1: string("apiVersion"),
        2: string("fieldPath", keep_zero=True),
    },
    "core.ResourceFieldSelector": {
        1: string("containerName"),
        2: string("resource", keep_zero=True),
        3: quantity("divisor"),
    },
    "core.ConfigMapKeySelector": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: string("key", keep_zero=True),
        3: boolean("optional", keep_zero=True),
    },
    "core.SecretKeySelector": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: string("key", keep_zero=True),
        3: boolean("optional", keep_zero=True),
    },
    "core.FileKeySelector": {
        1: string("volumeName", keep_zero=True),
        2: string("path", keep_zero=True),
        3: string("key", keep_zero=True),
        4: boolean("optional", keep_zero=True),
    },
    "core.ResourceRequirements": {
        1: quantity_map("limits"),
        2: quantity_map("requests"),
        3: messages("claims", "core.ResourceClaim"),
    },
    "core.ResourceClaim": {
        1: string("name", keep_zero=True),
        2: string("request"),
    },
    "core.ContainerResizePolicy": {
        1: string("resourceName", keep_zero=True),
        2: string("restartPolicy", keep_zero=True),
    },
    "core.ContainerRestartRule": {
        1: string("action"),
        2: message("exitCodes", "core.ContainerRestartRuleOnExitCodes"),
    },
    "core.ContainerRestartRuleOnExitCodes": {
        1: string("operator"),
        2: int32s("values"),
    },
    "core.VolumeMount": {
        1: string("name", keep_zero=True),
        2: boolean("readOnly"),
        7: string("recursiveReadOnly", keep_zero=True),
        3: string("mountPath", keep_zero=True),
        4: string("subPath"),
        5: string("mountPropagation", keep_zero=True),
        6: string("subPathExpr"),
    },
    "core.VolumeDevice": {
        1: string("name", keep_zero=True),
        2: string("devicePath", keep_zero=True),
    },
    "core.Probe": {
        1: message("handler", "core.ProbeHandler", inline=True),
        2: int32("initialDelaySeconds"),
        3: int32("timeoutSeconds"),
        4: int32("periodSeconds"),
        5: int32("successThreshold"),
        6: int32("failureThreshold"),
        7: int64("terminationGracePeriodSeconds", keep_zero=True),
    },
    "core.ProbeHandler": {
        1: message("exec", "core.ExecAction"),
        2: message("httpGet", "core.HTTPGetAction"),
        3: message("tcpSocket", "core.TCPSocketAction"),
        4: message("grpc", "core.GRPCAction"),
    },
    "core.Lifecycle": {
        1: message("postStart", "core.LifecycleHandler"),
        2: message("preStop", "core.LifecycleHandler"),
        3: string("stopSignal", keep_zero=True),
    },
    "core.LifecycleHandler": {
        1: message("exec", "core.ExecAction"),
        2: message("httpGet", "core.HTTPGetAction"),
        3: message("tcpSocket", "core.TCPSocketAction"),
        4: message("sleep", "core.SleepAction"),
    },
    "core.ExecAction": {
        1: strings("command"),
    },
    "core.HTTPGetAction": {
        1: string("path"),
        2: int_or_string("port"),
        3: string("host"),
        4: string("scheme"),
        5: messages("httpHeaders", "core.HTTPHeader"),
    },
    "core.HTTPHeader": {
        1: string("name", keep_zero=True),
        2: string("value", keep_zero=True),
    },
    "core.TCPSocketAction": {
        1: int_or_string("port"),
        2: string("host"),
    },
    "core.GRPCAction": {
        1: int32("port", keep_zero=True),
        2: string("service", keep_zero=True),
    },
    "core.SleepAction": {
        1: int64("seconds", keep_zero=True),
    },
}

_SECURITY: dict[str, Message] = {
    "core.SecurityContext": {
        1: message("capabilities", "core.Capabilities"),
        2: boolean("privileged", keep_zero=True),
        3: message("seLinuxOptions", "core.SELinuxOptions"),
        10: message("windowsOptions", "core.WindowsSecurityContextOptions"),
        4: int64("runAsUser", keep_zero=True),
        8: int64("runAsGroup", keep_zero=True),
        5: boolean("runAsNonRoot", keep_zero=True),
        6: boolean("readOnlyRootFilesystem", keep_zero=True),
        7: boolean("allowPrivilegeEscalation", keep_zero=True),
        9: string("procMount", keep_zero=True),
        11: message("seccompProfile", "core.SeccompProfile"),
        12: message("appArmorProfile", "core.AppArmorProfile"),
        13: messages("ulimits", "core.Ulimit"),
    },
    "core.PodSecurityContext": {
        1: message("seLinuxOptions", "core.SELinuxOptions"),
        8: message("windowsOptions", "core.WindowsSecurityContextOptions"),
        2: int64("runAsUser", keep_zero=True),
        6: int64("runAsGroup", keep_zero=True),
        3: boolean("runAsNonRoot", keep_zero=True),
        4: int64s("supplementalGroups"),
        12: string("supplementalGroupsPolicy", keep_zero=True),
        5: int64("fsGroup", keep_zero=True),
        7: messages("sysctls", "core.Sysctl"),
        9: string("fsGroupChangePolicy", keep_zero=True),
        10: message("seccompProfile", "core.SeccompProfile"),
        11: message("appArmorProfile", "core.AppArmorProfile"),
        13: string("seLinuxChangePolicy", keep_zero=True),
    },
    "core.Capabilities": {
        1: strings("add"),
        2: strings("drop"),
    },
    "core.SELinuxOptions": {
        1: string("user"),
        2: string("role"),
        3: string("type"),
        4: string("level"),
    },
    "core.WindowsSecurityContextOptions": {
        1: string("gmsaCredentialSpecName", keep_zero=True),
        2: string("gmsaCredentialSpec", keep_zero=True),
        3: string("runAsUserName", keep_zero=True),
        4: boolean("hostProcess", keep_zero=True),
    },
    "core.SeccompProfile": {
        1: string("type", keep_zero=True),
        2: string("localhostProfile", keep_zero=True),
    },
    "core.AppArmorProfile": {
        1: string("type", keep_zero=True),
        2: string("localhostProfile", keep_zero=True),
    },
    "core.Ulimit": {
        1: string("name", keep_zero=True),
        2: int64("hard", keep_zero=True),
        3: int64("soft", keep_zero=True),
    },
    "core.Sysctl": {
        1: string("name", keep_zero=True),
        2: string("value", keep_zero=True),
    },
}

MESSAGES: dict[str, Message] = {**_CONTAINERS, **_SECURITY}
