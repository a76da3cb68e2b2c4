"""The default ClusterRoles of Kubernetes, with its names and rules.

Transcribed from Kubernetes' bootstrap policy (``plugin/pkg/auth/authorizer/rbac/
bootstrappolicy/policy.go``, as its ``testdata/cluster-roles.yaml`` renders it with the default
feature gates), in that file's order. ``admin``, ``edit`` and ``view`` hold no rules of their
own: they aggregate the ``system:aggregate-to-*`` roles (and ``admin`` aggregates ``edit``,
which aggregates ``view``), and the aggregation controller fills their rules.
"""

from __future__ import annotations

from kubeward.authz.rbac.bootstrap.policy import (
    AGGREGATE_TO_ADMIN,
    AGGREGATE_TO_EDIT,
    AGGREGATE_TO_VIEW,
    CORE,
    EVENTS_RULE_GROUPS,
    READ,
    READ_WRITE,
    WRITE,
    Object,
    cluster_role,
    events_rule,
    rule,
)

_AUTHN = "authentication.k8s.io"
_AUTHZ = "authorization.k8s.io"
_CERTS = "certificates.k8s.io"
_COORDINATION = "coordination.k8s.io"
_STORAGE = "storage.k8s.io"


def _signer_approver(name: str, signer: str) -> Object:
    return cluster_role(name, [rule("approve", (_CERTS,), "signers", names=signer)])


def cluster_roles() -> list[Object]:
    """Every default ClusterRole, as JSON objects (fresh copies on every call)."""
    return [
        cluster_role("admin", [], aggregate_from=AGGREGATE_TO_ADMIN),
        cluster_role(
            "cluster-admin",
            [rule("*", ("*",), "*"), rule("*", urls="*")],
        ),
        cluster_role(
            "edit",
            [],
            labels={AGGREGATE_TO_ADMIN: "true"},
            aggregate_from=AGGREGATE_TO_EDIT,
        ),
        cluster_role(
            "system:aggregate-to-admin",
            [
                rule("create", (_AUTHZ,), "localsubjectaccessreviews"),
                rule(READ_WRITE, ("rbac.authorization.k8s.io",), "rolebindings roles"),
            ],
            labels={AGGREGATE_TO_ADMIN: "true"},
        ),
        cluster_role(
            "system:aggregate-to-edit",
            [
                rule(
                    READ,
                    (CORE,),
                    "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy",
                ),
                rule("impersonate", (CORE,), "serviceaccounts"),
                rule(WRITE, (CORE,), "pods pods/attach pods/exec pods/portforward pods/proxy"),
                rule("create", (CORE,), "pods/eviction"),
                rule(
                    WRITE,
                    (CORE,),
                    "configmaps events persistentvolumeclaims replicationcontrollers"
                    " replicationcontrollers/scale secrets serviceaccounts services services/proxy",
                ),
                rule("create", (CORE,), "serviceaccounts/token"),
                rule(
                    WRITE,
                    ("apps",),
                    "daemonsets deployments deployments/rollback deployments/scale replicasets"
                    " replicasets/scale statefulsets statefulsets/scale",
                ),
                rule(WRITE, ("autoscaling",), "horizontalpodautoscalers"),
                rule(WRITE, ("batch",), "cronjobs jobs"),
                rule(
                    WRITE,
                    ("extensions",),
                    "daemonsets deployments deployments/rollback deployments/scale ingresses"
                    " networkpolicies replicasets replicasets/scale replicationcontrollers/scale",
                ),
                rule(WRITE, ("policy",), "poddisruptionbudgets"),
                rule(WRITE, ("networking.k8s.io",), "ingresses networkpolicies"),
                rule(READ_WRITE, (_COORDINATION,), "leases"),
            ],
            labels={AGGREGATE_TO_EDIT: "true"},
        ),
        cluster_role(
            "system:aggregate-to-view",
            [
                rule(
                    READ,
                    (CORE,),
                    "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status"
                    " pods replicationcontrollers replicationcontrollers/scale serviceaccounts"
                    " services services/status",
                ),
                rule(
                    READ,
                    (CORE,),
                    "bindings events limitranges namespaces/status pods/log pods/status"
                    " replicationcontrollers/status resourcequotas resourcequotas/status",
                ),
                rule(READ, (CORE,), "namespaces"),
                rule(READ, ("discovery.k8s.io",), "endpointslices"),
                rule(
                    READ,
                    ("apps",),
                    "controllerrevisions daemonsets daemonsets/status deployments"
                    " deployments/scale deployments/status replicasets replicasets/scale"
                    " replicasets/status statefulsets statefulsets/scale statefulsets/status",
                ),
                rule(
                    READ,
                    ("autoscaling",),
                    "horizontalpodautoscalers horizontalpodautoscalers/status",
                ),
                rule(READ, ("batch",), "cronjobs cronjobs/status jobs jobs/status"),
                rule(
                    READ,
                    ("extensions",),
                    "daemonsets daemonsets/status deployments deployments/scale"
                    " deployments/status ingresses ingresses/status networkpolicies replicasets"
                    " replicasets/scale replicasets/status replicationcontrollers/scale",
                ),
                rule(READ, ("policy",), "poddisruptionbudgets poddisruptionbudgets/status"),
                rule(
                    READ,
                    ("networking.k8s.io",),
                    "ingresses ingresses/status networkpolicies",
                ),
            ],
            labels={AGGREGATE_TO_VIEW: "true"},
        ),
        cluster_role(
            "system:auth-delegator",
            [
                rule("create", (_AUTHN,), "tokenreviews"),
                rule("create", (_AUTHZ,), "subjectaccessreviews"),
            ],
        ),
        cluster_role(
            "system:basic-user",
            [
                rule("create", (_AUTHZ,), "selfsubjectaccessreviews selfsubjectrulesreviews"),
                rule("create", (_AUTHN,), "selfsubjectreviews"),
            ],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [rule("create", (_CERTS,), "certificatesigningrequests/nodeclient")],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [rule("create", (_CERTS,), "certificatesigningrequests/selfnodeclient")],
        ),
        _signer_approver(
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            "kubernetes.io/kube-apiserver-client",
        ),
        _signer_approver(
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        _signer_approver(
            "system:certificates.k8s.io:kubelet-serving-approver",
            "kubernetes.io/kubelet-serving",
        ),
        _signer_approver(
            "system:certificates.k8s.io:legacy-unknown-approver",
            "kubernetes.io/legacy-unknown",
        ),
        cluster_role(
            "system:discovery",
            [
                rule(
                    "get",
                    urls="/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* /readyz"
                    " /version /version/",
                )
            ],
        ),
        cluster_role(
            "system:heapster",
            [
                rule(READ, (CORE,), "events namespaces nodes pods"),
                rule(READ, ("extensions",), "deployments"),
            ],
        ),
        cluster_role("system:kube-aggregator", [rule(READ, (CORE,), "endpoints services")]),
        cluster_role(
            "system:kube-controller-manager",
            [
                rule("create patch update", EVENTS_RULE_GROUPS, "events"),
                rule("create", (_COORDINATION,), "leases"),
                rule("get update", (_COORDINATION,), "leases", names="kube-controller-manager"),
                rule("create", (CORE,), "secrets serviceaccounts"),
                rule("delete", (CORE,), "secrets"),
                rule("get", (CORE,), "configmaps namespaces secrets serviceaccounts"),
                rule("update", (CORE,), "secrets serviceaccounts"),
                rule("create", (_AUTHN,), "tokenreviews"),
                rule("create", (_AUTHZ,), "subjectaccessreviews"),
                rule("list watch", ("*",), "*"),
                rule("create", (CORE,), "serviceaccounts/token"),
            ],
        ),
        cluster_role("system:kube-dns", [rule("list watch", (CORE,), "endpoints services")]),
        cluster_role(
            "system:kube-scheduler",
            [
                events_rule(),
                rule("create", (_COORDINATION,), "leases"),
                rule("get update", (_COORDINATION,), "leases", names="kube-scheduler"),
                rule(READ, (CORE,), "nodes"),
                rule("delete get list watch", (CORE,), "pods"),
                rule("create", (CORE,), "bindings pods/binding"),
                rule("patch update", (CORE,), "pods/status"),
                rule(READ, (CORE,), "replicationcontrollers services"),
                rule(READ, ("apps", "extensions"), "replicasets"),
                rule(READ, ("apps",), "statefulsets"),
                rule(READ, ("policy",), "poddisruptionbudgets"),
                rule(READ, (CORE,), "persistentvolumeclaims persistentvolumes"),
                rule("create", (_AUTHN,), "tokenreviews"),
                rule("create", (_AUTHZ,), "subjectaccessreviews"),
                rule(READ, (_STORAGE,), "csinodes"),
                rule(READ, (CORE,), "namespaces"),
                rule(READ, (_STORAGE,), "csidrivers"),
                rule(READ, (_STORAGE,), "csistoragecapacities"),
            ],
        ),
        cluster_role(
            "system:kubelet-api-admin",
            [
                rule(READ, (CORE,), "nodes"),
                rule("proxy", (CORE,), "nodes"),
                rule("*", (CORE,), "nodes/log nodes/metrics nodes/proxy nodes/stats"),
            ],
        ),
        cluster_role(
            "system:monitoring",
            [
                rule(
                    "get",
                    urls="/healthz /healthz/* /livez /livez/* /metrics /metrics/slis /readyz"
                    " /readyz/*",
                )
            ],
        ),
        cluster_role(
            "system:node",
            [
                rule("create", (_AUTHN,), "tokenreviews"),
                rule("create", (_AUTHZ,), "localsubjectaccessreviews subjectaccessreviews"),
                rule(READ, (CORE,), "services"),
                rule("create get list watch", (CORE,), "nodes"),
                rule("patch update", (CORE,), "nodes/status"),
                rule("patch update", (CORE,), "nodes"),
                rule("create patch update", (CORE,), "events"),
                rule(READ, (CORE,), "pods"),
                rule("create delete", (CORE,), "pods"),
                rule("patch update", (CORE,), "pods/status"),
                rule("create", (CORE,), "pods/eviction"),
                rule(READ, (CORE,), "configmaps secrets"),
                rule("get", (CORE,), "persistentvolumeclaims persistentvolumes"),
                rule("get", (CORE,), "endpoints"),
                rule("create get list watch", (_CERTS,), "certificatesigningrequests"),
                rule("create delete get patch update", (_COORDINATION,), "leases"),
                rule("get", (_STORAGE,), "volumeattachments"),
                rule("create", (CORE,), "serviceaccounts/token"),
                rule("get patch update", (CORE,), "persistentvolumeclaims/status"),
                rule(READ, (_STORAGE,), "csidrivers"),
                rule("create delete get patch update", (_STORAGE,), "csinodes"),
                rule(READ, ("node.k8s.io",), "runtimeclasses"),
            ],
        ),
        cluster_role(
            "system:node-bootstrapper",
            [rule("create get list watch", (_CERTS,), "certificatesigningrequests")],
        ),
        cluster_role(
            "system:node-problem-detector",
            [
                rule("get", (CORE,), "nodes"),
                rule("patch", (CORE,), "nodes/status"),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:node-proxier",
            [
                rule("list watch", (CORE,), "endpoints services"),
                rule(READ, (CORE,), "nodes"),
                events_rule(),
                rule("list watch", ("discovery.k8s.io",), "endpointslices"),
            ],
        ),
        cluster_role(
            "system:persistent-volume-provisioner",
            [
                rule("create delete get list watch", (CORE,), "persistentvolumes"),
                rule("get list update watch", (CORE,), "persistentvolumeclaims"),
                rule(READ, (_STORAGE,), "storageclasses"),
                rule("watch", (CORE,), "events"),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            [rule("get", urls="/healthz /livez /readyz /version /version/")],
        ),
        cluster_role(
            "system:service-account-issuer-discovery",
            [rule("get", urls="/.well-known/openid-configuration /openid/v1/jwks")],
        ),
        cluster_role(
            "system:volume-scheduler",
            [
                rule("get list patch update watch", (CORE,), "persistentvolumes"),
                rule(READ, (_STORAGE,), "storageclasses"),
                rule("get list patch update watch", (CORE,), "persistentvolumeclaims"),
            ],
        ),
        cluster_role(
            "view",
            [],
            labels={AGGREGATE_TO_EDIT: "true"},
            aggregate_from=AGGREGATE_TO_VIEW,
        ),
    ]
