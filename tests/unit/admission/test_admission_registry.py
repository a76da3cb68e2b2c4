"""The admission registry: Kubernetes' plugin names, defaults and fixed order, and the flags."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest, ObjectReader
from kubeward.admission.registry import (
    ALL_ORDERED_PLUGINS,
    DEFAULT_ENABLED,
    DEFAULT_ON_PLUGINS,
    KUBEWARD_PLUGINS,
    PLUGINS,
    build_chain,
    enabled_plugins,
)
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision
from kubeward.errors import InputError


def test_defaults_are_kubernetes_default_on_plugins_in_order() -> None:
    names = enabled_plugins()
    assert names[:3] == ["NamespaceLifecycle", "LimitRanger", "ServiceAccount"]
    assert names.index("ServiceAccount") < names.index("PodSecurity") < names.index("ResourceQuota")
    assert "AlwaysPullImages" not in names


@pytest.mark.parametrize(
    ("enable", "disable", "message"),
    [
        # kube-apiserver's wording (k8s.io/apiserver/pkg/server/options/admission.go).
        (["Bogus"], [], 'enable-admission-plugins plugin "Bogus" is unknown'),
        ([], ["Bogus"], 'disable-admission-plugins plugin "Bogus" is unknown'),
        (["PodSecurity"], ["PodSecurity"], "overlapped"),
    ],
    ids=["unknown-enable", "unknown-disable", "overlap"],
)
def test_bad_flags_are_input_errors(enable: list[str], disable: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        enabled_plugins(enable, disable)


class Recorder:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self._log = log

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        self._log.append(f"admit {self.name}")

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        self._log.append(f"validate {self.name}")


class NoReader:
    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def test_order_is_kubernetes_not_the_flag_and_mutators_run_first() -> None:
    log: list[str] = []
    factories = {
        "AlwaysPullImages": lambda: Recorder("AlwaysPullImages", log),
        "ServiceAccount": lambda: Recorder("ServiceAccount", log),
    }
    chain = build_chain(factories, enable=["AlwaysPullImages"], disable=[])
    assert chain.names == ("ServiceAccount", "AlwaysPullImages")
    request = AdmissionRequest("CREATE", "", "pods", "Pod", "", "default", "p", UserInfo("u"), {})
    asyncio.run(chain.admit(request, NoReader()))
    assert log == [
        "admit ServiceAccount",
        "admit AlwaysPullImages",
        "validate ServiceAccount",
        "validate AlwaysPullImages",
    ]


def test_disabling_removes_and_unimplemented_explicit_plugins_are_refused() -> None:
    factories = {"ServiceAccount": lambda: Recorder("ServiceAccount", [])}
    assert build_chain(factories, disable=["ServiceAccount"]).names == ()
    with pytest.raises(InputError, match="not implemented by kubeward"):
        build_chain(factories, enable=["AlwaysPullImages"])


# --- the registry of kubeward's own plugins --------------------------------------------------


class AllowEverything:
    def __init__(self) -> None:
        self.asked: list[Attributes] = []

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.asked.append(attributes)
        return AuthzResult(Decision.ALLOW, "")


def test_kubeward_plugins_are_in_kubernetes_order_and_defaults_are_upstreams() -> None:
    assert KUBEWARD_PLUGINS == (
        "NamespaceLifecycle",
        "LimitRanger",
        "ServiceAccount",
        "NodeRestriction",
        "AlwaysPullImages",
        "PodSecurity",
        "Priority",
        "DefaultTolerationSeconds",
        "DefaultStorageClass",
        "StorageObjectInUseProtection",
        "PersistentVolumeClaimResize",
        "CertificateApproval",
        "CertificateSigning",
        "DefaultIngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionWebhook",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionWebhook",
        "ResourceQuota",
    )
    assert [n for n in ALL_ORDERED_PLUGINS if n in PLUGINS] == list(KUBEWARD_PLUGINS)
    assert set(DEFAULT_ENABLED) == set(KUBEWARD_PLUGINS) & DEFAULT_ON_PLUGINS
    chain = build_chain(authorizer=AllowEverything())
    assert chain.names == DEFAULT_ENABLED


@pytest.mark.parametrize("name", KUBEWARD_PLUGINS)
def test_every_kubeward_plugin_can_be_enabled_and_disabled(name: str) -> None:
    enabled = build_chain(enable=[name], authorizer=AllowEverything())
    assert name in enabled.names
    disabled = build_chain(disable=[name], authorizer=AllowEverything())
    assert name not in disabled.names
    assert disabled.names == tuple(n for n in DEFAULT_ENABLED if n != name)


def test_disabling_every_plugin_leaves_an_empty_chain() -> None:
    chain = build_chain(disable=list(KUBEWARD_PLUGINS))
    assert chain.names == ()
    assert chain.mutating == () and chain.validating == ()


def test_disabling_a_plugin_kubeward_lacks_is_accepted() -> None:
    chain = build_chain(
        disable=["RuntimeClass", "TaintNodesByCondition"], authorizer=AllowEverything()
    )
    assert chain.names == DEFAULT_ENABLED


def test_every_error_is_reported_at_once_in_kube_apiservers_words() -> None:
    with pytest.raises(InputError) as caught:
        enabled_plugins(["Bogus", "PodSecurity"], ["Nope", "PodSecurity"])
    assert str(caught.value) == (
        '[enable-admission-plugins plugin "Bogus" is unknown, '
        'disable-admission-plugins plugin "Nope" is unknown, '
        "[PodSecurity] in enable-admission-plugins and disable-admission-plugins overlapped]"
    )


def test_plugins_that_ask_for_the_authorizer_get_it() -> None:
    authorizer = AllowEverything()
    chain = build_chain(enable=["CertificateApproval"], authorizer=authorizer)
    csr = {"metadata": {"name": "bob"}, "spec": {"signerName": "example.com/signer"}}
    request = AdmissionRequest(
        "UPDATE",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        "approval",
        "",
        "bob",
        UserInfo("u"),
        csr,
        old_object=csr,
    )
    asyncio.run(chain.admit(request, NoReader()))
    assert [(a.verb, a.resource, a.name) for a in authorizer.asked] == [
        ("approve", "signers", "example.com/signer")
    ]
    with pytest.raises(InputError, match="'CertificateApproval' needs the authorizer"):
        build_chain()


def test_mutating_plugins_are_those_with_admit_and_validating_those_with_validate() -> None:
    chain = build_chain(authorizer=AllowEverything())
    assert [p.name for p in chain.mutating] == [
        "NamespaceLifecycle",
        "LimitRanger",
        "ServiceAccount",
        "Priority",
        "DefaultTolerationSeconds",
        "DefaultStorageClass",
        "StorageObjectInUseProtection",
        "DefaultIngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionWebhook",
    ]
    assert [p.name for p in chain.validating] == [
        "LimitRanger",
        "PodSecurity",
        "Priority",
        "PersistentVolumeClaimResize",
        "CertificateApproval",
        "CertificateSigning",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionWebhook",
        "ResourceQuota",
    ]
