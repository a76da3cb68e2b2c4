"""The node-lifecycle controller against a real server: a node whose Lease stopped is marked
Unknown and tainted, pods that do not tolerate it are evicted, pods that do stay."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubectl_runner import Kubectl

from kubeward.testing import running_cluster


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_silent_node_is_tainted_and_emptied(tmp_path: Path) -> None:
    with running_cluster() as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
        kubectl.run(
            "create",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ghost"}}),
        )
        ready = {
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
            }
        }
        kubectl.run(
            "patch",
            "node",
            "ghost",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(ready),
        )
        long_ago = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "ghost", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "ghost", "leaseDurationSeconds": 40, "renewTime": long_ago},
        }
        kubectl.run("create", "-f", "-", input=json.dumps(lease))
        for name, tolerations in (
            (
                "doomed",
                [
                    {
                        "key": "node.kubernetes.io/unreachable",
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": 0,
                    }
                ],
            ),
            ("patient", []),  # DefaultTolerationSeconds gives it 300 s
        ):
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {
                    "nodeName": "ghost",
                    "tolerations": tolerations,
                    "containers": [{"name": "c", "image": "nginx"}],
                },
            }
            kubectl.run("create", "-f", "-", input=json.dumps(pod))

        def node() -> dict[str, Any]:
            return dict(json.loads(kubectl.run("get", "node", "ghost", "-o", "json").stdout))

        def condition() -> dict[str, Any]:
            return next(c for c in node()["status"]["conditions"] if c["type"] == "Ready")

        wait_for(lambda: condition()["status"] == "Unknown", "the node marked Unknown")
        assert condition()["reason"] == "NodeStatusUnknown"
        assert condition()["message"] == "Kubelet stopped posting node status."
        taints = wait_for(lambda: node()["spec"].get("taints"), "the taints")
        assert {(t["key"], t["effect"]) for t in taints} == {
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        }

        def deleting(name: str) -> bool:
            got = kubectl.run("get", "pod", name, "-o", "json", check=False)
            return got.returncode != 0 or bool(
                json.loads(got.stdout)["metadata"].get("deletionTimestamp")
            )

        wait_for(lambda: deleting("doomed"), "the pod that does not tolerate it evicted")
        assert not deleting("patient")
