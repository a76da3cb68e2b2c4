"""One admission seam, through a real server and the official Python client.

A mutating plugin's change is validated on update as on create (and patch); deletecollection
admits each item; ``--enable/--disable-admission-plugins`` turn CertificateApproval on and off.
The test plugins are added to the running server's chain (``handlers.admission``), kubeward's
own seam; everything else is real: TLS, authentication, RBAC, SQLite.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import (
    CREATE,
    DELETE,
    UPDATE,
    AdmissionRequest,
    ObjectReader,
    forbidden,
)
from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

pytestmark = pytest.mark.timeout(120)

TRIGGER = "admission-test"


class InvalidLabeller:
    """Mutating: a configmap labelled ``admission-test: break`` gets a label key with a space."""

    name = "TestInvalidLabeller"

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.resource != "configmaps" or request.operation not in (CREATE, UPDATE):
            return
        labels = (request.object.get("metadata") or {}).get("labels") or {}
        if labels.get(TRIGGER) == "break":
            labels["bad label"] = "x"


class Keeper:
    """Validating: a configmap labelled ``keep: "yes"`` may not be deleted; records deletes."""

    name = "TestKeeper"

    def __init__(self) -> None:
        self.deletes: list[tuple[str, str, str]] = []

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.resource != "configmaps" or request.operation != DELETE:
            return
        self.deletes.append((request.verb, request.namespace, request.name))
        labels = (request.object.get("metadata") or {}).get("labels") or {}
        if labels.get("keep") == "yes":
            raise forbidden(request, "kept by the test plugin")


@pytest.fixture(scope="module")
def keeper(cluster: Cluster) -> Iterator[Keeper]:
    handlers = cluster._running.server.handlers
    real = handlers.admission
    added = Keeper()
    handlers.admission = AdmissionChain(
        (*real.mutating, InvalidLabeller()), (*real.validating, added)
    )
    yield added
    handlers.admission = real


@pytest.fixture(scope="module")
def api(cluster: Cluster, keeper: Keeper) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def configmap(name: str, labels: dict[str, str]) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels), data={"k": "v"}
    )


def refused(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    status: dict[str, Any] = json.loads(caught.value.body)
    status["code"] = caught.value.status
    return status


def test_a_mutating_change_is_validated_on_create(api: client.CoreV1Api) -> None:
    status = refused(
        api.create_namespaced_config_map, "default", configmap("broken", {TRIGGER: "break"})
    )
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert "metadata.labels" in status["message"]
    assert refused(api.read_namespaced_config_map, "broken", "default")["code"] == 404


def test_a_mutating_change_is_validated_on_update_and_patch(api: client.CoreV1Api) -> None:
    api.create_namespaced_config_map("default", configmap("fine", {"suite": "update"}))
    put = api.read_namespaced_config_map("fine", "default")
    put.metadata.labels[TRIGGER] = "break"
    status = refused(api.replace_namespaced_config_map, "fine", "default", put)
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert "metadata.labels" in status["message"]
    patch = {"metadata": {"labels": {TRIGGER: "break"}}}
    status = refused(api.patch_namespaced_config_map, "fine", "default", patch)
    assert (status["code"], status["reason"]) == (422, "Invalid")
    stored = api.read_namespaced_config_map("fine", "default")
    assert stored.metadata.labels == {"suite": "update"}
    # Without the trigger the same writes go through.
    api.patch_namespaced_config_map("fine", "default", {"data": {"k": "2"}})
    assert api.read_namespaced_config_map("fine", "default").data == {"k": "2"}


def test_deletecollection_admits_each_item_and_a_refused_one_stays(
    api: client.CoreV1Api, keeper: Keeper
) -> None:
    for name, labels in (
        ("dc-a", {"suite": "dc"}),
        ("dc-b", {"suite": "dc", "keep": "yes"}),
        ("dc-c", {"suite": "dc"}),
    ):
        api.create_namespaced_config_map("default", configmap(name, labels))
    keeper.deletes.clear()
    status = refused(
        api.delete_collection_namespaced_config_map, "default", label_selector="suite=dc"
    )
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    assert status["message"] == 'configmaps "dc-b" is forbidden: kept by the test plugin'
    left = api.list_namespaced_config_map("default", label_selector="suite=dc")
    names = [item.metadata.name for item in left.items]
    assert "dc-a" not in names and "dc-b" in names
    assert keeper.deletes[:2] == [
        ("deletecollection", "default", "dc-a"),
        ("deletecollection", "default", "dc-b"),
    ]
    # A single delete of the kept item is refused too; the others go.
    assert refused(api.delete_namespaced_config_map, "dc-b", "default")["code"] == 403
    api.patch_namespaced_config_map("dc-b", "default", {"metadata": {"labels": {"keep": "no"}}})
    api.delete_collection_namespaced_config_map("default", label_selector="suite=dc")
    assert api.list_namespaced_config_map("default", label_selector="suite=dc").items == []


# --- the flags, for the plugins whose effect a client sees: CertificateApproval -----------------


def csr_body(name: str) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    pem = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(pem.public_bytes(serialization.Encoding.PEM)).decode(),
            "signerName": "example.com/custom",
            "usages": ["client auth"],
        },
    }


APPROVAL_UPDATER = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "csr-approval-updater"},
    "rules": [
        {
            "apiGroups": ["certificates.k8s.io"],
            "resources": ["certificatesigningrequests", "certificatesigningrequests/approval"],
            "verbs": ["get", "update"],
        }
    ],
}


def approve_as_updater(cluster: Cluster, name: str) -> client.V1CertificateSigningRequest:
    """Create CSR ``name`` as admin, then approve it as a user who may update ``/approval``
    but holds no ``approve`` on the signer."""
    admin = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    updater = config.new_client_from_config(config_file=str(cluster.kubeconfig_for("updater")))
    try:
        rbac = client.RbacAuthorizationV1Api(admin)
        rbac.create_cluster_role(APPROVAL_UPDATER)
        rbac.create_cluster_role_binding(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "csr-approval-updater"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "csr-approval-updater",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "updater"}
                ],
            }
        )
        client.CertificatesV1Api(admin).create_certificate_signing_request(csr_body(name))
        certs = client.CertificatesV1Api(updater)
        csr = certs.read_certificate_signing_request(name)
        csr.status = client.V1CertificateSigningRequestStatus(
            conditions=[
                client.V1CertificateSigningRequestCondition(
                    type="Approved", status="True", reason="Test", message="approved by the test"
                )
            ]
        )
        return certs.replace_certificate_signing_request_approval(name, csr)
    finally:
        admin.close()
        updater.close()


def test_certificate_approval_is_enforced_when_enabled_explicitly() -> None:
    with (
        running_cluster(
            enable_admission_plugins=("CertificateApproval",), controller_manager=False
        ) as cluster,
        pytest.raises(ApiException) as caught,
    ):
        approve_as_updater(cluster, "enabled")
    assert caught.value.status == 403
    assert 'user not permitted to approve requests with signerName "example.com/custom"' in str(
        json.loads(caught.value.body)["message"]
    )


def test_certificate_approval_disabled_lets_an_updater_approve() -> None:
    with running_cluster(
        disable_admission_plugins=("CertificateApproval",), controller_manager=False
    ) as cluster:
        approved = approve_as_updater(cluster, "disabled")
    assert [c.type for c in approved.status.conditions] == ["Approved"]


def test_namespace_lifecycle_runs_before_validation_as_upstreams_admit(
    api: client.CoreV1Api,
) -> None:
    status = refused(
        api.create_namespaced_config_map, "no-such-ns", configmap("Not_Valid", {"a": "b"})
    )
    assert (status["code"], status["message"]) == (404, 'namespaces "no-such-ns" not found')
