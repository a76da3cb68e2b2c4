"""The certificate controllers against a recording fake of kubeward's own APIClient."""

from __future__ import annotations

import asyncio
import base64
import datetime
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.approving import NODE_MESSAGE, SELF_MESSAGE, ApprovingController
from kubeward.controllers.cleaning import deadline_of
from kubeward.controllers.informer import Informer
from kubeward.controllers.signing import SigningConfig, SigningController
from kubeward.controllers.sources import ClientSource
from kubeward.errors import NotFound
from kubeward.pki.ca import CertificateAuthority

CA = CertificateAuthority.create("kubernetes", datetime.timedelta(days=30), algorithm="ecdsa-p256")
KEY = ec.generate_private_key(ec.SECP256R1())


class FakeClient:
    """Records writes; answers SubjectAccessReviews from ``allowed``."""

    def __init__(self, allowed: set[str] | None = None, nodes: set[str] | None = None) -> None:
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.reviews: list[dict[str, Any]] = []
        self.allowed = allowed or set()
        self.nodes = nodes or set()

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> dict[str, Any]:
        if name not in self.nodes:
            raise NotFound(f'nodes "{name}" not found')
        return {"metadata": {"name": name}}

    async def update(
        self, rt: ResourceType, obj: dict[str, Any], *, namespace: str = "", subresource: str = ""
    ) -> dict[str, Any]:
        self.updates.append((subresource, obj))
        return obj

    async def create_raw(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.reviews.append(obj)
        sub = obj["spec"]["resourceAttributes"]["subresource"]
        return {"status": {"allowed": sub in self.allowed}}


def request_pem(cn: str, orgs: tuple[str, ...] = (), dns: tuple[str, ...] = ()) -> str:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    pem = builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode()


def csr(
    name: str = "akshay",
    *,
    cn: str = "akshay",
    orgs: tuple[str, ...] = ("dev",),
    dns: tuple[str, ...] = (),
    signer: str = "kubernetes.io/kube-apiserver-client",
    usages: tuple[str, ...] = ("client auth",),
    conditions: tuple[str, ...] = ("Approved",),
    username: str = "admin",
    expiration: int | None = 86400,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "request": request_pem(cn, orgs, dns),
        "signerName": signer,
        "usages": list(usages),
        "username": username,
        "groups": ["system:authenticated"],
    }
    if expiration is not None:
        spec["expirationSeconds"] = expiration
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "5",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": spec,
        "status": {"conditions": [{"type": t, "status": "True"} for t in conditions]},
    }


def signer(objects: list[dict[str, Any]], **config: Any) -> tuple[SigningController, FakeClient]:
    fake = FakeClient()
    client = cast(APIClient, fake)
    informer = Informer(ClientSource(client, CERTIFICATE_SIGNING_REQUESTS))
    informer.cache = {o["metadata"]["name"]: o for o in objects}
    return SigningController(informer, client, SigningConfig(ca=CA, **config)), fake


def issued(update: dict[str, Any]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(update["status"]["certificate"]))


def test_signs_an_approved_client_request_for_its_expiration() -> None:
    controller, fake = signer([csr()])
    asyncio.run(controller.reconcile("akshay"))
    [(sub, obj)] = fake.updates
    cert = issued(obj)
    assert sub == "status"
    assert cert.subject.rfc4514_string() == "O=dev,CN=akshay"
    assert cert.issuer == CA.cert.subject
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(hours=24) <= lifetime <= datetime.timedelta(hours=24, minutes=10)


def test_duration_caps_the_requested_expiration() -> None:
    controller, fake = signer([csr(expiration=10 * 86400)], duration=datetime.timedelta(hours=2))
    asyncio.run(controller.reconcile("akshay"))
    cert = issued(fake.updates[0][1])
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= datetime.timedelta(
        hours=2, minutes=10
    )


def test_never_signs_the_same_request_twice_from_a_stale_cache() -> None:
    controller, fake = signer([csr()])
    asyncio.run(controller.reconcile("akshay"))
    asyncio.run(controller.reconcile("akshay"))
    assert len(fake.updates) == 1


@pytest.mark.parametrize(
    ("obj", "reason_part"),
    [
        (csr(orgs=("system:masters",)), "system:masters group"),
        (
            csr(usages=("client auth", "server auth")),
            "invalid usage for client certificate: server auth",
        ),
        (
            csr(
                signer="kubernetes.io/kube-apiserver-client-kubelet",
                cn="system:node:n1",
                orgs=("dev",),
            ),
            "subject organization is not system:nodes",
        ),
        (
            csr(
                signer="kubernetes.io/kube-apiserver-client-kubelet",
                cn="n1",
                orgs=("system:nodes",),
            ),
            "subject common name does not begin with system:node:",
        ),
        (
            csr(
                signer="kubernetes.io/kubelet-serving",
                cn="system:node:n1",
                orgs=("system:nodes",),
                usages=("digital signature", "server auth"),
            ),
            "DNS or IP subjectAltName is required",
        ),
        (
            csr(
                signer="kubernetes.io/kube-apiserver-client-kubelet",
                cn="system:node:n1",
                orgs=("system:nodes",),
                dns=("n1",),
                usages=("digital signature", "client auth"),
            ),
            "DNS subjectAltNames are not allowed",
        ),
    ],
    ids=[
        "system-masters",
        "server-usage-on-client",
        "kubelet-wrong-org",
        "kubelet-wrong-cn",
        "serving-without-san",
        "kubelet-client-with-san",
    ],
)
def test_constraint_violations_fail_the_request(obj: dict[str, Any], reason_part: str) -> None:
    controller, fake = signer([obj])
    asyncio.run(controller.reconcile("akshay"))
    [(sub, updated)] = fake.updates
    failed = [c for c in updated["status"]["conditions"] if c["type"] == "Failed"]
    assert sub == "status"
    assert "certificate" not in updated["status"]
    assert failed[0]["reason"] == "SignerValidationFailure"
    assert reason_part in failed[0]["message"]


def test_system_masters_is_signed_only_with_the_explicit_flag() -> None:
    controller, fake = signer([csr(orgs=("system:masters",))], allow_system_masters=True)
    asyncio.run(controller.reconcile("akshay"))
    assert "system:masters" in issued(fake.updates[0][1]).subject.rfc4514_string()


def test_kubelet_serving_is_signed_with_its_names() -> None:
    obj = csr(
        signer="kubernetes.io/kubelet-serving",
        cn="system:node:n1",
        orgs=("system:nodes",),
        dns=("n1.example",),
        usages=("digital signature", "server auth"),
    )
    controller, fake = signer([obj])
    asyncio.run(controller.reconcile("akshay"))
    names = issued(fake.updates[0][1]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert names.value.get_values_for_type(x509.DNSName) == ["n1.example"]


@pytest.mark.parametrize(
    "obj",
    [
        csr(conditions=()),
        csr(conditions=("Denied",)),
        csr(conditions=("Approved", "Failed")),
        csr(signer="kubernetes.io/legacy-unknown"),
        csr(signer="example.com/custom"),
    ],
    ids=["pending", "denied", "failed", "legacy-unknown", "custom-signer"],
)
def test_leaves_alone_what_it_must_not_sign(obj: dict[str, Any]) -> None:
    controller, fake = signer([obj])
    asyncio.run(controller.reconcile("akshay"))
    assert fake.updates == []


def node_csr(username: str) -> dict[str, Any]:
    return csr(
        signer="kubernetes.io/kube-apiserver-client-kubelet",
        cn="system:node:n1",
        orgs=("system:nodes",),
        usages=("digital signature", "client auth"),
        conditions=(),
        username=username,
    )


@pytest.mark.parametrize(
    ("username", "allowed", "message"),
    [
        ("system:node:n1", {"selfnodeclient"}, SELF_MESSAGE),
        ("system:node:n1", {"nodeclient"}, NODE_MESSAGE),
        ("system:bootstrap:abc", {"nodeclient"}, NODE_MESSAGE),
        ("system:bootstrap:abc", {"selfnodeclient"}, None),
        ("system:node:n1", set(), None),
    ],
    ids=[
        "self-renewal",
        "node-client-permission",
        "bootstrap",
        "self-permission-not-self",
        "no-permission",
    ],
)
def test_approving_follows_the_subject_access_reviews(
    username: str, allowed: set[str], message: str | None
) -> None:
    fake = FakeClient(allowed)
    client = cast(APIClient, fake)
    informer = Informer(ClientSource(client, CERTIFICATE_SIGNING_REQUESTS))
    informer.cache = {"akshay": node_csr(username)}
    asyncio.run(ApprovingController(informer, client).reconcile("akshay"))
    if message is None:
        assert fake.updates == []
        return
    [(sub, obj)] = fake.updates
    approved = obj["status"]["conditions"][-1]
    assert (sub, approved["type"], approved["reason"], approved["message"]) == (
        "approval",
        "Approved",
        "AutoApproved",
        message,
    )
    assert fake.reviews[-1]["spec"]["user"] == username


def test_a_bootstrap_token_cannot_take_over_a_node_that_joined() -> None:
    fake = FakeClient({"nodeclient"}, nodes={"n1"})
    client = cast(APIClient, fake)
    informer = Informer(ClientSource(client, CERTIFICATE_SIGNING_REQUESTS))
    informer.cache = {"again": node_csr("system:bootstrap:abc")}
    asyncio.run(ApprovingController(informer, client).reconcile("again"))
    assert fake.updates == []  # left for an administrator
    assert fake.reviews == []


def test_approving_ignores_other_signers() -> None:
    fake = FakeClient({"nodeclient", "selfnodeclient"})
    client = cast(APIClient, fake)
    informer = Informer(ClientSource(client, CERTIFICATE_SIGNING_REQUESTS))
    informer.cache = {"akshay": csr(conditions=())}
    asyncio.run(ApprovingController(informer, client).reconcile("akshay"))
    assert (fake.updates, fake.reviews) == ([], [])


def stamp(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([], "2026-01-02T00:00:00Z"),
        (
            [{"type": "Approved", "status": "True", "lastUpdateTime": "2026-01-01T05:00:00Z"}],
            "2026-01-01T06:00:00Z",
        ),
        (
            [{"type": "Denied", "status": "True", "lastUpdateTime": "2026-01-01T07:00:00Z"}],
            "2026-01-01T08:00:00Z",
        ),
    ],
    ids=["pending-a-day", "approved-an-hour", "denied-an-hour"],
)
def test_cleaning_deadlines(conditions: list[dict[str, str]], expected: str) -> None:
    obj = csr(conditions=())
    obj["status"] = {"conditions": conditions}
    assert deadline_of(obj) == stamp(expected)


def test_cleaning_deadline_of_an_expired_certificate() -> None:
    now = datetime.datetime.now(datetime.UTC)
    cert = CA.issue_client_certificate(KEY.public_key(), "old", [], datetime.timedelta(minutes=1))
    obj = csr(conditions=())
    obj["metadata"]["creationTimestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    obj["status"] = {
        "certificate": base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
    }
    assert deadline_of(obj) == cert.not_valid_after_utc
