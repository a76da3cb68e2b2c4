"""The controller roles of the bootstrap policy (``controller_policy.go``) for the controllers
kubeward runs.

Kubernetes binds each ``system:controller:NAME`` role to the controller's service account in
kube-system, for a controller-manager started with ``--use-service-account-credentials``.
kubeward's controller-manager runs every controller under its own certificate identity
(``system:kube-controller-manager``), so each binding names that user as well.
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
CERTIFICATE_CONTROLLER = "system:controller:certificate-controller"


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
                events_rule(),
            ],
        )
    ]


def controller_role_bindings() -> list[Object]:
    return [
        cluster_role_binding(
            CERTIFICATE_CONTROLLER,
            CERTIFICATE_CONTROLLER,
            [
                service_account("kube-system", "certificate-controller"),
                user(KUBE_CONTROLLER_MANAGER),
            ],
        )
    ]
