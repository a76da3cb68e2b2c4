"""Message tables for batch/v1 Job and CronJob and autoscaling/v1 HorizontalPodAutoscaler, which
``kubectl create job``, ``kubectl create cronjob`` and ``kubectl autoscale`` send as protobuf.

Field numbers from ``staging/src/k8s.io/api/{batch,autoscaling}/v1/generated.proto``. The Go fields that are
pointers (``parallelism``, ``completions``, ``backoffLimit``, ``suspend``, ``timeZone``, the
history limits …) keep an explicit zero or false (schema rule 2).
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    boolean,
    int32,
    int32s,
    int64,
    message,
    messages,
    object_meta,
    string,
    strings,
    timestamp,
)

MESSAGES: dict[str, Message] = {
    "batch.Job": {
        1: object_meta(),
        2: message("spec", "batch.JobSpec"),
        3: message("status", "batch.JobStatus"),
    },
    "batch.JobSpec": {
        1: int32("parallelism", keep_zero=True),
        2: int32("completions", keep_zero=True),
        3: int64("activeDeadlineSeconds", keep_zero=True),
        11: message("podFailurePolicy", "batch.PodFailurePolicy"),
        16: message("successPolicy", "batch.SuccessPolicy"),
        7: int32("backoffLimit", keep_zero=True),
        12: int32("backoffLimitPerIndex", keep_zero=True),
        13: int32("maxFailedIndexes", keep_zero=True),
        4: message("selector", "meta.LabelSelector"),
        5: boolean("manualSelector", keep_zero=True),
        6: message("template", "core.PodTemplateSpec"),
        8: int32("ttlSecondsAfterFinished", keep_zero=True),
        9: string("completionMode", keep_zero=True),
        10: boolean("suspend", keep_zero=True),
        14: string("podReplacementPolicy", keep_zero=True),
        15: string("managedBy", keep_zero=True),
    },
    "batch.PodFailurePolicy": {1: messages("rules", "batch.PodFailurePolicyRule")},
    "batch.PodFailurePolicyRule": {
        1: string("action", keep_zero=True),
        2: message("onExitCodes", "batch.PodFailurePolicyOnExitCodesRequirement"),
        3: messages("onPodConditions", "batch.PodFailurePolicyOnPodConditionsPattern"),
    },
    "batch.PodFailurePolicyOnExitCodesRequirement": {
        1: string("containerName", keep_zero=True),
        2: string("operator", keep_zero=True),
        3: int32s("values"),
    },
    "batch.PodFailurePolicyOnPodConditionsPattern": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
    },
    "batch.SuccessPolicy": {1: messages("rules", "batch.SuccessPolicyRule")},
    "batch.SuccessPolicyRule": {
        1: string("succeededIndexes", keep_zero=True),
        2: int32("succeededCount", keep_zero=True),
    },
    "batch.JobStatus": {
        1: messages("conditions", "batch.JobCondition"),
        2: timestamp("startTime"),
        3: timestamp("completionTime"),
        4: int32("active"),
        5: int32("succeeded"),
        6: int32("failed"),
        11: int32("terminating", keep_zero=True),
        7: string("completedIndexes"),
        10: string("failedIndexes", keep_zero=True),
        8: message("uncountedTerminatedPods", "batch.UncountedTerminatedPods"),
        9: int32("ready", keep_zero=True),
    },
    "batch.JobCondition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        3: timestamp("lastProbeTime"),
        4: timestamp("lastTransitionTime"),
        5: string("reason"),
        6: string("message"),
    },
    "batch.UncountedTerminatedPods": {1: strings("succeeded"), 2: strings("failed")},
    "batch.CronJob": {
        1: object_meta(),
        2: message("spec", "batch.CronJobSpec"),
        3: message("status", "batch.CronJobStatus"),
    },
    "batch.CronJobSpec": {
        1: string("schedule", keep_zero=True),
        8: string("timeZone", keep_zero=True),
        2: int64("startingDeadlineSeconds", keep_zero=True),
        3: string("concurrencyPolicy"),
        4: boolean("suspend", keep_zero=True),
        5: message("jobTemplate", "batch.JobTemplateSpec"),
        6: int32("successfulJobsHistoryLimit", keep_zero=True),
        7: int32("failedJobsHistoryLimit", keep_zero=True),
    },
    "batch.JobTemplateSpec": {
        1: object_meta(),
        2: message("spec", "batch.JobSpec"),
    },
    "batch.CronJobStatus": {
        1: messages("active", "core.ObjectReference"),
        4: timestamp("lastScheduleTime"),
        5: timestamp("lastSuccessfulTime"),
    },
    "autoscaling.HorizontalPodAutoscaler": {
        1: object_meta(),
        2: message("spec", "autoscaling.HorizontalPodAutoscalerSpec"),
        3: message("status", "autoscaling.HorizontalPodAutoscalerStatus"),
    },
    "autoscaling.HorizontalPodAutoscalerSpec": {
        1: message("scaleTargetRef", "autoscaling.CrossVersionObjectReference"),
        2: int32("minReplicas", keep_zero=True),
        3: int32("maxReplicas", keep_zero=True),
        4: int32("targetCPUUtilizationPercentage", keep_zero=True),
    },
    "autoscaling.CrossVersionObjectReference": {
        1: string("kind", keep_zero=True),
        2: string("name", keep_zero=True),
        3: string("apiVersion"),
    },
    "autoscaling.HorizontalPodAutoscalerStatus": {
        1: int64("observedGeneration", keep_zero=True),
        2: timestamp("lastScaleTime"),
        3: int32("currentReplicas", keep_zero=True),
        4: int32("desiredReplicas", keep_zero=True),
        5: int32("currentCPUUtilizationPercentage", keep_zero=True),
    },
}
