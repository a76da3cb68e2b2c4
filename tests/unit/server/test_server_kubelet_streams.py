"""Choosing the container and the kubelet's address, as kube-apiserver does."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.errors import BadRequest, InternalError
from kubeward.server.endpoints.kubelet_connection import KubeletConnector, KubeletLocation
from kubeward.server.endpoints.kubelet_streams import choose_container, waiting_reason


def _pod(*names: str, init: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": n} for n in names],
            "initContainers": [{"name": n} for n in init],
        },
    }


def test_one_container_is_the_default_and_several_must_be_named() -> None:
    assert choose_container(_pod("a"), "") == "a"
    assert choose_container(_pod("a", "b"), "b") == "b"
    with pytest.raises(BadRequest) as refused:
        choose_container(_pod("a", "b", init=("setup",)), "")
    assert refused.value.message == (
        "a container name must be specified for pod p, choose one of: [a b] "
        "or one of the init containers: [setup]"
    )
    with pytest.raises(BadRequest, match=r"^container z is not valid for pod p$"):
        choose_container(_pod("a"), "z")


def test_a_waiting_container_has_a_reason() -> None:
    pod = _pod("a")
    assert waiting_reason(pod, "a") == "ContainerCreating"
    pod["status"] = {
        "containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}}]
    }
    assert waiting_reason(pod, "a") == "ErrImagePull"
    pod["status"]["containerStatuses"][0]["state"] = {"running": {}}
    assert waiting_reason(pod, "a") is None


def test_the_kubelet_is_reached_at_the_preferred_address_type() -> None:
    connector = KubeletConnector(
        certificate=None, key=None, authority=None, preferred_address_types=("InternalIP",)
    )
    node = {
        "metadata": {"name": "n"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n"},
                {"type": "InternalIP", "address": "10.0.0.5"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 12345}},
        },
    }
    assert connector.locate(node) == KubeletLocation("10.0.0.5", 12345)
    assert KubeletLocation("::1", 1).url("/pods", "a=b") == "https://[::1]:1/pods?a=b"
    node["status"]["addresses"] = [{"type": "Hostname", "address": "n"}]
    with pytest.raises(InternalError, match="no preferred addresses found"):
        connector.locate(node)
