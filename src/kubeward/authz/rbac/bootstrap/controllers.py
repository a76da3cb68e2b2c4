"""The controller roles of the bootstrap policy (``controller_policy.go``) for the controllers
kubeward runs.

Kubernetes binds each ``system:controller:NAME`` role to the controller's service account in
kube-system, which is who the controller is under ``--use-service-account-credentials`` (the
default of ``kubeward up``). Without that flag kubeward's controller-manager runs every
controller under its own certificate identity (``system:kube-controller-manager``), so each
binding names that user as well; a controller running as its service account is authorized
by its own role only.
"""

from __future__ import annotations

from kubeward.api.user import KUBE_CONTROLLER_MANAGER
from kubeward.authz.rbac.bootstrap.policy import (
    Object,
    cluster_role,
    cluster_role_binding,
    events_rule,
    rule,
    service_account,
    user,
)

_CERTS = ("certificates.k8s.io",)
_CSRS = "certificatesigningrequests"
_KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
_SIGNERS = (
    "kubernetes.io/kube-apiserver-client kubernetes.io/kube-apiserver-client-kubelet "
    "kubernetes.io/kubelet-serving kubernetes.io/legacy-unknown"
)
_APPS = ("apps", "extensions")
_BATCH = ("batch",)
PREFIX = "system:controller:"
CERTIFICATE_CONTROLLER = f"{PREFIX}certificate-controller"

# The service account of each role below (the role's name without the prefix).
CONTROLLER_ACCOUNTS = (
    "certificate-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "node-controller",
    "replicaset-controller",
    "replication-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
)


def controller_roles() -> list[Object]:
    return [
        cluster_role(
            CERTIFICATE_CONTROLLER,
            [
                rule("delete get list watch", _CERTS, _CSRS),
                rule("update", _CERTS, f"{_CSRS}/approval {_CSRS}/status"),
                rule("approve", _CERTS, "signers", names=_KUBELET_CLIENT),
                rule("sign", _CERTS, "signers", names=_SIGNERS),
                rule("create", ("authorization.k8s.io",), "subjectaccessreviews"),
                # Beyond upstream: the approver checks whether a node already joined
                # (controllers.approving rule 6).
                rule("get", ("",), "nodes"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}daemon-set-controller",
            [
                rule("get list watch", _APPS, "daemonsets"),
                rule("update", _APPS, "daemonsets/status"),
                rule("update", _APPS, "daemonsets/finalizers"),
                rule("list watch", ("",), "nodes"),
                rule("list watch create delete patch", ("",), "pods"),
                rule("create", ("",), "pods/binding"),
                rule("get list watch create delete update patch", ("apps",), "controllerrevisions"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}cronjob-controller",
            [
                rule("get list watch update", _BATCH, "cronjobs"),
                rule("get list watch create update delete patch", _BATCH, "jobs"),
                rule("update", _BATCH, "cronjobs/status"),
                rule("update", _BATCH, "cronjobs/finalizers"),
                rule("list delete", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}deployment-controller",
            [
                rule("get list watch update", _APPS, "deployments"),
                rule("update", _APPS, "deployments/status"),
                rule("update", _APPS, "deployments/finalizers"),
                rule("get list watch create update patch delete", _APPS, "replicasets"),
                rule("get list watch update", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}disruption-controller",
            [
                rule("get list watch", _APPS, "deployments"),
                rule("get list watch", _APPS, "replicasets"),
                rule("get list watch", ("",), "replicationcontrollers"),
                rule("get list watch", ("policy",), "poddisruptionbudgets"),
                rule("get list watch", ("apps",), "statefulsets"),
                rule("update", ("policy",), "poddisruptionbudgets/status"),
                rule("patch update", ("",), "pods/status"),
                rule("get", ("*",), "*/scale"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}endpoint-controller",
            [
                rule("get list watch", ("",), "services pods"),
                rule("get list create update delete", ("",), "endpoints"),
                rule("create", ("",), "endpoints/restricted"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}endpointslice-controller",
            [
                rule("get list watch", ("",), "services pods nodes"),
                rule("update", ("",), "services/finalizers"),
                rule("get list create update delete", ("discovery.k8s.io",), "endpointslices"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}generic-garbage-collector",
            [
                rule("get list watch patch update delete", ("*",), "*"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}horizontal-pod-autoscaler",
            [
                rule("get list watch", ("autoscaling",), "horizontalpodautoscalers"),
                rule("update", ("autoscaling",), "horizontalpodautoscalers/status"),
                rule("get update", ("*",), "*/scale"),
                rule("list", ("",), "pods"),
                # Resource, custom and external metrics.
                rule("list", ("metrics.k8s.io",), "pods"),
                rule("get list", ("custom.metrics.k8s.io",), "*"),
                rule("get list", ("external.metrics.k8s.io",), "*"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}job-controller",
            [
                rule("get list watch update patch", _BATCH, "jobs"),
                rule("update patch", _BATCH, "jobs/status"),
                rule("update", _BATCH, "jobs/finalizers"),
                rule("list watch create delete patch", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}node-controller",
            [
                rule("get list update delete patch", ("",), "nodes"),
                rule("patch update", ("",), "nodes/status"),
                rule("update", ("",), "pods/status"),
                rule("list delete", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}replicaset-controller",
            [
                rule("get list watch update", _APPS, "replicasets"),
                rule("update", _APPS, "replicasets/status"),
                rule("update", _APPS, "replicasets/finalizers"),
                rule("list watch patch create delete", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}replication-controller",
            [
                rule("get list watch update", ("",), "replicationcontrollers"),
                rule("update", ("",), "replicationcontrollers/status"),
                rule("update", ("",), "replicationcontrollers/finalizers"),
                rule("list watch patch create delete", ("",), "pods"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}statefulset-controller",
            [
                rule("list watch", ("",), "pods"),
                rule("get list watch", ("apps",), "statefulsets"),
                rule("update", ("apps",), "statefulsets/status"),
                rule("update", ("apps",), "statefulsets/finalizers"),
                rule("get create delete update patch", ("",), "pods"),
                rule("get create delete update patch list watch", ("apps",), "controllerrevisions"),
                rule("get create list watch", ("",), "persistentvolumeclaims"),
                rule("update delete", ("",), "persistentvolumeclaims"),
                rule("update", ("",), "pods/finalizers"),
                events_rule(),
            ],
        ),
        cluster_role(
            f"{PREFIX}ttl-after-finished-controller",
            [rule("get list watch delete", _BATCH, "jobs"), events_rule()],
        ),
    ]


def controller_role_bindings() -> list[Object]:
    return [
        cluster_role_binding(
            f"{PREFIX}{account}",
            f"{PREFIX}{account}",
            [service_account("kube-system", account), user(KUBE_CONTROLLER_MANAGER)],
        )
        for account in CONTROLLER_ACCOUNTS
    ]
