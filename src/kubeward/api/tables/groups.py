"""Tables of the kinds in named API groups, as Kubernetes' ``printers.go`` prints them.

Rules, per kind:

1. Deployment (apps): READY is ``<readyReplicas>/<spec.replicas>`` (``spec.replicas``
   defaults to 1, as Kubernetes defaults it on write); UP-TO-DATE and AVAILABLE are numbers;
   the wide columns are the template's container names and images, comma-joined, and the
   selector as a label query (empty when there is none, ``<invalid>`` when it is malformed).
2. Lease (coordination.k8s.io): HOLDER is ``spec.holderIdentity``, empty when unheld.
3. RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io): ROLE is
   ``<roleRef.kind>/<roleRef.name>``; the wide USERS, GROUPS and SERVICEACCOUNTS columns list
   the subjects of each kind joined by ``", "``, service accounts as ``<namespace>/<name>``.
   Role and ClusterRole have no printer in Kubernetes and get the default
   ``Name``/``Created At`` table.
4. CertificateSigningRequest (certificates.k8s.io): SIGNERNAME and REQUESTEDDURATION read
   ``<none>`` when unset (the duration as ``HumanDuration`` of ``expirationSeconds``);
   REQUESTOR is ``spec.username``; CONDITION is ``Denied``, else ``Approved``, else
   ``Pending``, then ``,Failed`` and ``,Issued`` (a certificate was issued) as they apply.
5. NetworkPolicy (networking.k8s.io): POD-SELECTOR is the pod selector as a label query,
   ``<none>`` when it selects every pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kubeward.api.tables._access import (
    integer,
    items,
    text,
    value_at,
)
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    ColumnDefinition,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import (
    INVALID,
    NONE,
    format_label_selector,
    human_duration,
    selector_string,
    translate_timestamp_since,
)

RBAC_GROUP = "rbac.authorization.k8s.io"


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


# --- Deployment --------------------------------------------------------------------------

DEPLOYMENT_COLUMNS = (
    NAME_COLUMN,
    column("Ready", "Number of the pod with ready state"),
    column(
        "Up-to-date",
        "Total number of pods targeted by this deployment that have the desired template spec.",
    ),
    column(
        "Available",
        "Total number of available pods (ready for at least minReadySeconds) targeted by "
        "this deployment.",
    ),
    AGE_COLUMN,
    column("Containers", "Names of each container in the template.", priority=1),
    column("Images", "Images referenced by each container in the template.", priority=1),
    column("Selector", "Label selector for pods targeted by this deployment.", priority=1),
)


def container_cells(pod_spec_owner: Mapping[str, Any]) -> tuple[str, str]:
    """Container names and images of a pod template, comma-joined (``layoutContainerCells``)."""
    containers = items(pod_spec_owner, "spec", "template", "spec", "containers")
    names = ",".join(text(c, "name") for c in containers)
    images = ",".join(text(c, "image") for c in containers)
    return names, images


def print_deployment(deployment: Mapping[str, Any], now: datetime) -> PrintedRow:
    replicas = value_at(deployment, "spec", "replicas")
    desired = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    ready = integer(deployment, "status", "readyReplicas")
    names, images = container_cells(deployment)
    selector = selector_string(value_at(deployment, "spec", "selector"))
    return PrintedRow(
        (
            _name(deployment),
            f"{ready}/{desired}",
            integer(deployment, "status", "updatedReplicas"),
            integer(deployment, "status", "availableReplicas"),
            _age(deployment, now),
            names,
            images,
            INVALID if selector is None else selector,
        )
    )


# --- Lease -------------------------------------------------------------------------------

LEASE_COLUMNS = (
    NAME_COLUMN,
    column("Holder", "The identity of the holder of the current lease."),
    AGE_COLUMN,
)


def print_lease(lease: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow((_name(lease), text(lease, "spec", "holderIdentity"), _age(lease, now)))


# --- RoleBinding, ClusterRoleBinding -----------------------------------------------------


def _binding_columns(kind_word: str) -> tuple[ColumnDefinition, ...]:
    return (
        NAME_COLUMN,
        column(
            "Role",
            "RoleRef can reference a Role in the current namespace or a ClusterRole in the "
            "global namespace.",
        ),
        AGE_COLUMN,
        column("Users", f"Users in the {kind_word}", priority=1),
        column("Groups", f"Groups in the {kind_word}", priority=1),
        column("ServiceAccounts", f"ServiceAccounts in the {kind_word}", priority=1),
    )


ROLE_BINDING_COLUMNS = _binding_columns("roleBinding")
CLUSTER_ROLE_BINDING_COLUMNS = _binding_columns("clusterRoleBinding")


def subjects_strings(subjects: list[Mapping[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """Users, groups and service accounts (``namespace/name``) of a binding's subjects."""
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for subject in subjects:
        kind = text(subject, "kind")
        if kind == "ServiceAccount":
            service_accounts.append(f"{text(subject, 'namespace')}/{text(subject, 'name')}")
        elif kind == "User":
            users.append(text(subject, "name"))
        elif kind == "Group":
            groups.append(text(subject, "name"))
    return users, groups, service_accounts


def print_binding(binding: Mapping[str, Any], now: datetime) -> PrintedRow:
    role = f"{text(binding, 'roleRef', 'kind')}/{text(binding, 'roleRef', 'name')}"
    users, groups, service_accounts = subjects_strings(items(binding, "subjects"))
    return PrintedRow(
        (
            _name(binding),
            role,
            _age(binding, now),
            ", ".join(users),
            ", ".join(groups),
            ", ".join(service_accounts),
        )
    )


# --- CertificateSigningRequest -----------------------------------------------------------

CSR_COLUMNS = (
    NAME_COLUMN,
    AGE_COLUMN,
    column("SignerName", "The requested signer, a qualified name."),
    column("Requestor", "The name of the user that created the request."),
    column("RequestedDuration", "The requested duration of validity of the issued certificate."),
    column("Condition", "The state of the request: Approved, Denied, Failed, Issued or Pending."),
)


def csr_condition(csr: Mapping[str, Any]) -> str:
    """The CONDITION cell (Kubernetes' ``extractCSRStatus``)."""
    types = {text(c, "type") for c in items(csr, "status", "conditions")}
    state = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        state += ",Failed"
    if text(csr, "status", "certificate"):
        state += ",Issued"
    return state


def print_csr(csr: Mapping[str, Any], now: datetime) -> PrintedRow:
    seconds = value_at(csr, "spec", "expirationSeconds")
    duration = NONE
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        duration = human_duration(timedelta(seconds=seconds))
    return PrintedRow(
        (
            _name(csr),
            _age(csr, now),
            text(csr, "spec", "signerName") or NONE,
            text(csr, "spec", "username"),
            duration,
            csr_condition(csr),
        )
    )


# --- NetworkPolicy -----------------------------------------------------------------------

NETWORK_POLICY_COLUMNS = (
    NAME_COLUMN,
    column("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies."),
    AGE_COLUMN,
)


def print_network_policy(policy: Mapping[str, Any], now: datetime) -> PrintedRow:
    # The pod selector is a struct, not a pointer, in Go: absent reads as empty (every pod).
    pod_selector = value_at(policy, "spec", "podSelector")
    return PrintedRow(
        (
            _name(policy),
            format_label_selector({} if pod_selector is None else pod_selector),
            _age(policy, now),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("apps", "Deployment"): TablePrinter(DEPLOYMENT_COLUMNS, print_deployment),
    ("coordination.k8s.io", "Lease"): TablePrinter(LEASE_COLUMNS, print_lease),
    (RBAC_GROUP, "RoleBinding"): TablePrinter(ROLE_BINDING_COLUMNS, print_binding),
    (RBAC_GROUP, "ClusterRoleBinding"): TablePrinter(CLUSTER_ROLE_BINDING_COLUMNS, print_binding),
    ("certificates.k8s.io", "CertificateSigningRequest"): TablePrinter(CSR_COLUMNS, print_csr),
    ("networking.k8s.io", "NetworkPolicy"): TablePrinter(
        NETWORK_POLICY_COLUMNS, print_network_policy
    ),
}
"""The printers of this module, keyed by (API group, kind)."""
