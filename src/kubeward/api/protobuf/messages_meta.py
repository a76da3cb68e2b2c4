"""Message tables for ``k8s.io/apimachinery/pkg/apis/meta/v1`` (ObjectMeta and friends).

Field numbers from ``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto``;
``ManagedFieldsEntry`` 6-8 and ``Condition`` from the protobuf tags in ``types.go``.
``ObjectMeta`` 15 (``clusterName``) was removed from Kubernetes and is skipped as unknown.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    Special,
    boolean,
    int64,
    message,
    messages,
    string,
    string_map,
    strings,
    timestamp,
)

MESSAGES: dict[str, Message] = {
    "meta.ObjectMeta": {
        1: string("name"),
        2: string("generateName"),
        3: string("namespace"),
        4: string("selfLink"),
        5: string("uid"),
        6: string("resourceVersion"),
        7: int64("generation"),
        8: timestamp("creationTimestamp"),
        9: timestamp("deletionTimestamp"),
        10: int64("deletionGracePeriodSeconds", keep_zero=True),
        11: string_map("labels"),
        12: string_map("annotations"),
        13: messages("ownerReferences", "meta.OwnerReference"),
        14: strings("finalizers"),
        17: messages("managedFields", "meta.ManagedFieldsEntry"),
    },
    "meta.OwnerReference": {
        5: string("apiVersion", keep_zero=True),
        1: string("kind", keep_zero=True),
        3: string("name", keep_zero=True),
        4: string("uid", keep_zero=True),
        6: boolean("controller", keep_zero=True),
        7: boolean("blockOwnerDeletion", keep_zero=True),
    },
    "meta.ManagedFieldsEntry": {
        1: string("manager"),
        2: string("operation"),
        3: string("apiVersion"),
        4: timestamp("time"),
        6: string("fieldsType"),
        7: message("fieldsV1", Special.FIELDS_V1),
        8: string("subresource"),
    },
    "meta.LabelSelector": {
        1: string_map("matchLabels"),
        2: messages("matchExpressions", "meta.LabelSelectorRequirement"),
    },
    "meta.LabelSelectorRequirement": {
        1: string("key", keep_zero=True),
        2: string("operator", keep_zero=True),
        3: strings("values"),
    },
    "meta.Condition": {
        1: string("type", keep_zero=True),
        2: string("status", keep_zero=True),
        3: int64("observedGeneration"),
        4: timestamp("lastTransitionTime"),
        5: string("reason", keep_zero=True),
        6: string("message", keep_zero=True),
    },
}
