"""Two controller-managers against one API server: only the Lease holder acts (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeward.api.resources.apps import LEASES, REPLICA_SETS
from kubeward.api.resources.core import PODS, SERVICEACCOUNTS
from kubeward.client.api import APIClient
from kubeward.controllers.leader import LeaderElectionConfig
from kubeward.controllers.manager import ControllerManager, ManagerConfig
from kubeward.controllers.names import ControllerSelection

FAST = LeaderElectionConfig(lease_duration=1.5, renew_deadline=1.0, retry_period=0.1)


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kubeward.testing import running_cluster

    with running_cluster(
        data_dir=tmp_path_factory.mktemp("cluster"), controller_manager=False
    ) as running:
        # The managers under test run the replicaset controller only; their pods run as the
        # default account, which the (absent) serviceaccount controller would have created.

        async def create_default_account() -> None:
            async with APIClient.from_kubeconfig(running.admin_kubeconfig) as admin:
                await admin.create(SERVICEACCOUNTS, {"metadata": {"name": "default"}}, "default")

        asyncio.run(create_default_account())
        yield running


def manager(data_dir: Path) -> ControllerManager:
    kubeconfig = data_dir / "controller-manager.conf"
    client = APIClient.from_kubeconfig(kubeconfig, max_connections=0)
    config = ManagerConfig(
        controllers=ControllerSelection.parse(["replicaset"]),
        use_service_account_credentials=True,
        kubeconfig=kubeconfig,
        leader_election=FAST,
    )
    return ControllerManager(client, config)


async def until(check: Any, what: str, timeout: float = 30.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def replica_set(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def test_only_the_lease_holder_acts_and_a_standby_takes_over(bare_cluster: Any) -> None:
    async def scenario() -> None:
        admin = APIClient.from_kubeconfig(bare_cluster.admin_kubeconfig)
        first, second = manager(bare_cluster.data_dir), manager(bare_cluster.data_dir)
        tasks = {m: asyncio.create_task(m.run()) for m in (first, second)}
        try:

            async def one_leads() -> Any:
                leading = [m for m in (first, second) if m.controllers]
                return leading[0] if leading else None

            leader = await until(one_leads, "a leader")
            standby = second if leader is first else first
            lease = await admin.get(LEASES, "kube-controller-manager", "kube-system")
            assert lease["spec"]["holderIdentity"] == leader.elector.identity  # type: ignore[union-attr]
            hostname, _, suffix = lease["spec"]["holderIdentity"].partition("_")
            assert hostname and len(suffix) == 36
            assert lease["spec"]["leaseDurationSeconds"] == 1

            await admin.create(REPLICA_SETS, replica_set("led", 2), "default")

            async def pods_of(name: str, count: int) -> bool:
                listed = await admin.list(PODS, "default", params={"labelSelector": f"app={name}"})
                return len(listed["items"]) == count

            await until(lambda: pods_of("led", 2), "the leader's pods")
            # The standby has built nothing and follows nothing while it waits.
            assert standby.controllers == []
            assert standby.factory.tasks() == []

            # The leader dies without giving the lease up: the standby takes over once the
            # lease has gone unrenewed for its duration, and then it acts.
            leader.elector.release = _no_release  # type: ignore[method-assign,union-attr]
            tasks[leader].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tasks[leader]

            async def standby_leads() -> bool:
                return bool(standby.controllers)

            await until(standby_leads, "the standby to take over")
            lease = await admin.get(LEASES, "kube-controller-manager", "kube-system")
            assert lease["spec"]["holderIdentity"] == standby.elector.identity  # type: ignore[union-attr]
            assert lease["spec"]["leaseTransitions"] == 1
            await admin.create(REPLICA_SETS, replica_set("taken-over", 1), "default")
            await until(lambda: pods_of("taken-over", 1), "the new leader's pods")
        finally:
            for task in tasks.values():
                task.cancel()
            for m, task in tasks.items():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                await m.client.close()
            await admin.close()

    asyncio.run(scenario())


async def _no_release() -> None:
    """A crashed leader does not give its lease up."""


def test_the_controller_manager_command_runs_controllers_as_their_accounts(
    bare_cluster: Any, tmp_path: Path
) -> None:
    """``kubeward controller-manager`` as its own process, leader-elected, one controller."""
    import subprocess
    import sys

    log = tmp_path / "cm.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeward",
                "controller-manager",
                "--kubeconfig",
                str(bare_cluster.data_dir / "controller-manager.conf"),
                "--controllers",
                "replicaset",
                "--use-service-account-credentials",
                "--leader-elect-lease-duration",
                "2s",
                "--leader-elect-renew-deadline",
                "1500ms",
                "--leader-elect-retry-period",
                "200ms",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        async def scenario() -> None:
            async with APIClient.from_kubeconfig(bare_cluster.admin_kubeconfig) as admin:
                await admin.create(REPLICA_SETS, replica_set("from-cli", 2), "default")

                async def two_pods() -> bool:
                    listed = await admin.list(
                        PODS, "default", params={"labelSelector": "app=from-cli"}
                    )
                    return len(listed["items"]) == 2

                await until(two_pods, "pods from the controller-manager process", timeout=60)
                lease = await admin.get(LEASES, "kube-controller-manager", "kube-system")
                assert lease["spec"]["holderIdentity"].count("_") == 1

        asyncio.run(scenario())
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    assert "controller-manager: started replicaset" in text
    assert "acquired lease kube-system/kube-controller-manager" in text
    assert "controller credentials: kube-system:replicaset-controller" in text
