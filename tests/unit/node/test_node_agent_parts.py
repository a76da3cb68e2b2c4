"""The node agent's parts on plain values: pod IPs, the node and pod status it reports."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest

from kubeward.errors import ServiceUnavailable
from kubeward.node.config import NodeConfig
from kubeward.node.ipam import PodIPs
from kubeward.node.pod_status import pod_status
from kubeward.node.runtime import Sandbox, make_container
from kubeward.node.status import node_object, node_status
from kubeward.node.volumes import PodVolumes


def test_pod_ips_skip_the_bridge_are_kept_and_reused() -> None:
    ips = PodIPs(ipaddress.IPv4Network("10.244.3.0/29"))
    assert ips.allocate("ns/a") == "10.244.3.2"
    assert ips.allocate("ns/b") == "10.244.3.3"
    assert ips.allocate("ns/a") == "10.244.3.2"
    ips.release("ns/a")
    assert ips.allocate("ns/c") == "10.244.3.2"
    ips.hold("ns/old", "10.244.3.4")
    ips.hold("ns/elsewhere", "10.9.9.9")  # not from this range: ignored
    assert ips.allocate("ns/d") == "10.244.3.5"
    assert ips.allocate("ns/e") == "10.244.3.6"
    with pytest.raises(ServiceUnavailable, match=r"no free pod IP left in 10\.244\.3\.0/29"):
        ips.allocate("ns/f")


def test_ipv6_pod_ips_are_counted_not_listed() -> None:
    ips = PodIPs(ipaddress.ip_network("fd00:10:244:1::/64"))
    assert ips.allocate("ns/a") == "fd00:10:244:1::2"
    ips.hold("ns/v4", "10.244.1.5")  # the other family: ignored
    assert ips.allocate("ns/b") == "fd00:10:244:1::3"


def test_the_node_registers_as_a_kubelet_does() -> None:
    config = NodeConfig("worker-1", labels={"disk": "ssd"})
    node = node_object(config)
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "worker-1"
    assert node["metadata"]["labels"]["disk"] == "ssd"
    assert node["spec"] == {}  # the node-IPAM controller sets its range
    given = node_object(NodeConfig("worker-2", pod_cidr=ipaddress.ip_network("10.244.9.0/24")))
    assert given["spec"] == {"podCIDR": "10.244.9.0/24", "podCIDRs": ["10.244.9.0/24"]}
    status = node_status(config)
    assert status["allocatable"] == status["capacity"] == config.capacity
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.0"


def test_a_running_pod_keeps_its_scheduled_condition_and_reports_each_container() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "t0"}],
        },
    }
    sandbox = Sandbox("ns", "p", "u1", "10.244.1.2", PodVolumes(), "Always")
    for spec in pod["spec"]["containers"]:
        sandbox.containers.append(make_container(spec, pod, "10.244.1.2", PodVolumes(), {}))
    sandbox.advance(datetime.datetime.now(datetime.UTC))
    status = pod_status(pod, sandbox, "192.0.2.10")
    assert status["phase"] == "Running"
    assert (status["podIP"], status["hostIP"]) == ("10.244.1.2", "192.0.2.10")
    types = {c["type"]: c for c in status["conditions"]}
    assert set(types) == {
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    }
    assert types["PodScheduled"]["lastTransitionTime"] == "t0"
    assert [c["name"] for c in status["containerStatuses"]] == ["a", "b"]
    assert all(c["ready"] and "running" in c["state"] for c in status["containerStatuses"])


def test_rotation_is_due_between_70_and_90_percent_of_the_life(tmp_path: Path) -> None:
    import datetime
    import random

    from kubeward.node.credentials import rotation_deadline, usable
    from kubeward.pki.ca import CertificateAuthority, certificate_pem
    from kubeward.pki.keys import generate_private_key

    ca = CertificateAuthority.create("ca", datetime.timedelta(days=10))
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue_client_certificate(
        key.public_key(), "system:node:n", ["system:nodes"], datetime.timedelta(days=1)
    )
    pem = tmp_path / "kubelet-client-current.pem"
    pem.write_bytes(certificate_pem(cert))
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    for seed in range(20):
        deadline = rotation_deadline(pem, rng=random.Random(seed))
        assert deadline is not None
        assert start + (end - start) * 0.7 <= deadline <= start + (end - start) * 0.9
    assert usable(pem)
    assert not usable(pem, now=end + datetime.timedelta(seconds=1))
    assert rotation_deadline(tmp_path / "absent.pem") is None
