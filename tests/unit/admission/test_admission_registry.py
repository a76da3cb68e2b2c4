"""The admission registry: Kubernetes' plugin names, defaults and fixed order, and the flags."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest, ObjectReader
from kubeward.admission.registry import build_chain, enabled_plugins
from kubeward.api.user import UserInfo
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
