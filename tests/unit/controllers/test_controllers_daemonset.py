"""The daemonset controller, its node rules and its rolling update, against a recording fake
client and seeded informers."""

from __future__ import annotations

import asyncio
from typing import Any

from workload_fakes import RecordingClient, seeded

from kubeward.api import meta as m
from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS, DAEMONSETS
from kubeward.api.resources.core import NODES, PODS
from kubeward.controllers import daemonset_nodes as dn
from kubeward.controllers import daemonset_rollout, history
from kubeward.controllers.daemonset import DaemonSetController, new_pod

UID = "ds-uid"


def ds(image: str = "agent:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "ns", "uid": UID, "generation": 1},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            **spec,
        },
        "status": {},
    }


def node(name: str, labels: dict[str, str] | None = None, taints: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints} if taints else {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def revision(image: str = "agent:1", number: int = 1) -> dict[str, Any]:
    made = history.new_revision(ds(image), DAEMONSETS, number, None)
    made["metadata"]["uid"] = f"rev-{number}"
    return made


def pod(on: str, *, ready: bool = True, rev: dict[str, Any] | None = None) -> dict[str, Any]:
    made = new_pod(ds(), on, history.hash_of(rev or revision()))
    made["metadata"].update(name=f"agent-{on}", uid=f"pod-{on}")
    made["spec"]["nodeName"] = on
    made["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return made


def run(
    obj: dict[str, Any],
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    revisions: list[dict[str, Any]] | None = None,
) -> RecordingClient:
    client = RecordingClient()

    async def scenario() -> None:
        controller = DaemonSetController(
            await seeded(DAEMONSETS, [obj]),
            await seeded(PODS, pods),
            await seeded(NODES, nodes),
            await seeded(CONTROLLER_REVISIONS, [revision()] if revisions is None else revisions),
            client.as_client(),
        )
        await controller.reconcile("ns/agent")
        await asyncio.sleep(0)

    asyncio.run(scenario())
    return client


def created_on(client: RecordingClient) -> list[str]:
    return sorted(dn.target_node(c[2]) for c in client.of("create") if c[1] == "pods")


def deleted(client: RecordingClient) -> list[str]:
    return sorted(c[1] for c in client.of("delete"))


def status(client: RecordingClient) -> dict[str, Any]:
    (update,) = [c[2] for c in client.of("update/status")]
    return dict(update["status"])


def test_a_daemon_pod_tolerates_node_problems_and_is_bound_by_affinity() -> None:
    made = new_pod(ds(), "node-1", "abc")
    assert made["metadata"]["generateName"] == "agent-"
    assert made["metadata"]["labels"] == {"app": "agent", "controller-revision-hash": "abc"}
    assert made["spec"]["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "In", "values": ["node-1"]}
                        ]
                    }
                ]
            }
        }
    }
    assert {(t["key"], t["effect"]) for t in made["spec"]["tolerations"]} == {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    }
    assert "nodeName" not in made["spec"]


def test_host_network_pods_tolerate_an_unavailable_network() -> None:
    spec: dict[str, Any] = {"hostNetwork": True}
    dn.add_daemon_tolerations(spec)
    assert {
        "key": "node.kubernetes.io/network-unavailable",
        "operator": "Exists",
        "effect": "NoSchedule",
    } in spec["tolerations"]


def test_binding_keeps_the_templates_expressions() -> None:
    expressions = [{"key": "disk", "operator": "In", "values": ["ssd"]}]
    spec: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": expressions}]
                }
            }
        }
    }
    dn.bind_to_node(spec, "node-2")
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == expressions
    assert term["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]
    assert dn.target_node({"spec": spec}) == "node-2"


def test_taints_decide_running_and_continuing() -> None:
    spec: dict[str, Any] = {}
    dn.add_daemon_tolerations(spec)
    no_schedule = node("n", taints=[{"key": "gpu", "effect": "NoSchedule"}])
    no_execute = node("n", taints=[{"key": "gpu", "effect": "NoExecute"}])
    cordoned = node(
        "n", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    )
    assert dn.should_run(spec, no_schedule) == (False, True)
    assert dn.should_run(spec, no_execute) == (False, False)
    assert dn.should_run(spec, cordoned) == (True, True)
    assert dn.should_run({"nodeSelector": {"disk": "ssd"}}, node("n")) == (False, False)


def test_one_pod_is_created_on_every_eligible_node() -> None:
    nodes = [
        node("node-1"),
        node("node-2"),
        node("node-3", taints=[{"key": "x", "effect": "NoSchedule"}]),
    ]
    client = run(ds(), nodes, [])
    assert created_on(client) == ["node-1", "node-2"]
    assert [e["message"] for e in client.events] == [
        "Created pod: agent-x",
        "Created pod: agent-x1",
    ]
    assert status(client)["desiredNumberScheduled"] == 2


def test_a_node_selector_limits_the_nodes() -> None:
    obj = ds()
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    client = run(obj, [node("node-1", {"disk": "ssd"}), node("node-2")], [])
    assert created_on(client) == ["node-1"]


def test_pods_leave_a_node_with_an_untolerated_no_execute_taint() -> None:
    tainted = node("node-2", taints=[{"key": "x", "effect": "NoExecute"}])
    client = run(ds(), [node("node-1"), tainted], [pod("node-1"), pod("node-2")])
    assert deleted(client) == ["pods/agent-node-2"]
    assert status(client)["numberMisscheduled"] == 1


def test_status_counts_scheduled_ready_and_updated() -> None:
    nodes = [node("node-1"), node("node-2"), node("node-3")]
    client = run(ds(), nodes, [pod("node-1"), pod("node-2", ready=False)])
    assert created_on(client) == ["node-3"]
    assert status(client) == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 1,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
        "numberAvailable": 1,
        "numberUnavailable": 2,
    }


def test_a_rolling_update_replaces_one_available_pod_at_a_time() -> None:
    nodes = [node("node-1"), node("node-2"), node("node-3")]
    pods = [pod("node-1"), pod("node-2"), pod("node-3")]
    client = run(ds("agent:2"), nodes, pods)
    (made,) = [c[2] for c in client.of("create") if c[1] == "controllerrevisions"]
    assert made["revision"] == 2
    assert len(deleted(client)) == 1


def test_an_unavailable_old_pod_goes_at_once() -> None:
    nodes = [node("node-1"), node("node-2"), node("node-3")]
    pods = [pod("node-1", ready=False), pod("node-2", ready=False), pod("node-3")]
    new = revision("agent:2", 2)
    client = run(ds("agent:2"), nodes, pods, [revision(), new])
    assert deleted(client) == ["pods/agent-node-1", "pods/agent-node-2"]


def test_surge_creates_new_pods_before_deleting_old_ones() -> None:
    obj = ds(
        "agent:2",
        updateStrategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
    )
    new = revision("agent:2", 2)
    by_node = {"node-1": [pod("node-1")], "node-2": [pod("node-2")]}
    nodes = [("node-1", True), ("node-2", True)]
    create, delete = daemonset_rollout.rolling_update(
        obj, nodes, by_node, history.hash_of(new), m.now()
    )
    assert (len(create), delete) == (1, [])
    surged = pod("node-1", rev=new)
    surged["metadata"]["name"] = "agent-new"
    by_node["node-1"].append(surged)
    create, delete = daemonset_rollout.rolling_update(
        obj, nodes, by_node, history.hash_of(new), m.now()
    )
    assert [m.name_of(p) for p in delete] == ["agent-node-1"]
    assert create == ["node-2"]


def test_on_delete_leaves_old_pods() -> None:
    obj = ds("agent:2", updateStrategy={"type": "OnDelete"})
    client = run(obj, [node("node-1")], [pod("node-1")])
    assert deleted(client) == []


def test_an_unscheduled_pod_for_a_vanished_node_is_deleted() -> None:
    gone = pod("node-9")
    del gone["spec"]["nodeName"]
    bound = pod("node-8")
    client = run(ds(), [node("node-1")], [pod("node-1"), gone, bound])
    assert deleted(client) == ["pods/agent-node-9"]
