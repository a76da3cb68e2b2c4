"""Which top-level kinds the protobuf decoder reads, and the message table of each.

Rules:
 1. A kind is looked up by the ``apiVersion`` and ``kind`` of the envelope's TypeMeta, exactly
    as sent; a kind not listed is refused (400), as Kubernetes refuses an unregistered kind.
 2. The list covers what kubectl 1.32's typed client sends: ``auth can-i`` / ``auth whoami``
    reviews, ``create token``, ``certificate approve|deny`` and every ``kubectl create``
    generator, plus the core kinds kubeward serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kubeward.api.protobuf import (
    messages_access,
    messages_apps,
    messages_batch,
    messages_container,
    messages_core,
    messages_meta,
    messages_pod,
    messages_volumes,
)
from kubeward.api.protobuf.schema import Message

MESSAGES: Final[Mapping[str, Message]] = {
    **messages_meta.MESSAGES,
    **messages_access.MESSAGES,
    **messages_core.MESSAGES,
    **messages_pod.MESSAGES,
    **messages_container.MESSAGES,
    **messages_volumes.MESSAGES,
    **messages_apps.MESSAGES,
    **messages_batch.MESSAGES,
}

ROOTS: Final[Mapping[tuple[str, str], str]] = {
    ("v1", "Namespace"): "core.Namespace",
    ("v1", "ServiceAccount"): "core.ServiceAccount",
    ("v1", "ConfigMap"): "core.ConfigMap",
    ("v1", "Secret"): "core.Secret",
    ("v1", "Pod"): "core.Pod",
    ("v1", "Node"): "core.Node",
    ("v1", "Event"): "core.Event",
    ("v1", "Service"): "core.Service",
    ("v1", "ResourceQuota"): "core.ResourceQuota",
    ("authentication.k8s.io/v1", "TokenRequest"): "authentication.TokenRequest",
    ("authentication.k8s.io/v1", "TokenReview"): "authentication.TokenReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "authentication.SelfSubjectReview",
    ("authentication.k8s.io/v1beta1", "SelfSubjectReview"): "authentication.SelfSubjectReview",
    ("authentication.k8s.io/v1alpha1", "SelfSubjectReview"): "authentication.SelfSubjectReview",
    ("authorization.k8s.io/v1", "SubjectAccessReview"): "authorization.SubjectAccessReview",
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): (
        "authorization.LocalSubjectAccessReview"
    ),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): (
        "authorization.SelfSubjectAccessReview"
    ),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "authorization.SelfSubjectRulesReview",
    ("rbac.authorization.k8s.io/v1", "Role"): "rbac.Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac.RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac.ClusterRoleBinding",
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): (
        "certificates.CertificateSigningRequest"
    ),
    ("coordination.k8s.io/v1", "Lease"): "coordination.Lease",
    ("apps/v1", "Deployment"): "apps.Deployment",
    ("apps/v1", "ReplicaSet"): "apps.ReplicaSet",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networking.NetworkPolicy",
    ("networking.k8s.io/v1", "Ingress"): "networking.Ingress",
    ("networking.k8s.io/v1", "IngressClass"): "networking.IngressClass",
    ("policy/v1", "PodDisruptionBudget"): "policy.PodDisruptionBudget",
    ("scheduling.k8s.io/v1", "PriorityClass"): "scheduling.PriorityClass",
    ("batch/v1", "Job"): "batch.Job",
    ("batch/v1", "CronJob"): "batch.CronJob",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "autoscaling.HorizontalPodAutoscaler",
}
