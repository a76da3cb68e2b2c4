"""The official kubernetes Python client against the workload kinds, and pod eviction honouring
a PodDisruptionBudget whose status the test sets (no disruption controller runs yet)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

NS = "default"


@pytest.fixture(scope="module")
def api_client(cluster: object) -> Iterator[client.ApiClient]:
    made = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))  # type: ignore[attr-defined]
    yield made
    made.close()


def _template(app: str, restart: str = "Always") -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": app}),
        spec=client.V1PodSpec(
            restart_policy=restart, containers=[client.V1Container(name="c", image="busybox")]
        ),
    )


def test_daemonset_create_read_delete(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    body = client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="agent"),
        spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels={"app": "agent"}),
            template=_template("agent"),
        ),
    )
    created = apps.create_namespaced_daemon_set(NS, body)
    assert created.spec.update_strategy.type == "RollingUpdate"
    assert created.spec.update_strategy.rolling_update.max_unavailable == 1
    assert created.spec.revision_history_limit == 10
    read = apps.read_namespaced_daemon_set("agent", NS)
    assert read.metadata.uid == created.metadata.uid
    assert read.status.desired_number_scheduled == 0
    apps.delete_namespaced_daemon_set("agent", NS)
    with pytest.raises(ApiException) as gone:
        apps.read_namespaced_daemon_set("agent", NS)
    assert gone.value.status == 404


def test_job_create_read_delete(api_client: client.ApiClient) -> None:
    batch = client.BatchV1Api(api_client)
    body = client.V1Job(
        metadata=client.V1ObjectMeta(name="pi"),
        spec=client.V1JobSpec(template=_template("pi", "Never"), ttl_seconds_after_finished=60),
    )
    created = batch.create_namespaced_job(NS, body)
    uid = created.metadata.uid
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert created.spec.backoff_limit == 6 and created.spec.completion_mode == "NonIndexed"
    assert created.spec.ttl_seconds_after_finished == 60
    assert batch.read_namespaced_job("pi", NS).spec.template.metadata.labels["job-name"] == "pi"
    changed = {"spec": {"completions": 5}}
    with pytest.raises(ApiException) as refused:
        batch.patch_namespaced_job("pi", NS, changed)
    assert refused.value.status == 422
    assert json.loads(refused.value.body)["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 5: field is immutable",
            "field": "spec.completions",
        }
    ]
    batch.delete_namespaced_job("pi", NS)
    assert [j.metadata.name for j in batch.list_namespaced_job(NS).items] == []


def test_invalid_job_is_refused_with_nothing_stored(api_client: client.ApiClient) -> None:
    batch = client.BatchV1Api(api_client)
    body = client.V1Job(
        metadata=client.V1ObjectMeta(name="bad"),
        spec=client.V1JobSpec(template=_template("bad", "Always"), parallelism=-1),
    )
    with pytest.raises(ApiException) as refused:
        batch.create_namespaced_job(NS, body)
    status = json.loads(refused.value.body)
    assert refused.value.status == 422
    assert status["message"] == (
        'Job.batch "bad" is invalid: [spec.parallelism: Invalid value: -1: must be greater than '
        "or equal to 0, spec.template.spec.restartPolicy: Required value: valid values: "
        '"OnFailure", "Never"]'
    )
    assert batch.list_namespaced_job(NS).items == []


def test_hpa_v2(api_client: client.ApiClient) -> None:
    autoscaling = client.AutoscalingV2Api(api_client)
    body = client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(
                api_version="apps/v1", kind="Deployment", name="web"
            ),
            max_replicas=4,
        ),
    )
    created = autoscaling.create_namespaced_horizontal_pod_autoscaler(NS, body)
    assert created.spec.min_replicas == 1
    assert created.spec.metrics[0].resource.target.average_utilization == 80
    autoscaling.delete_namespaced_horizontal_pod_autoscaler("web", NS)


def _ready_pod(core: client.CoreV1Api, name: str) -> None:
    core.create_namespaced_pod(
        NS,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={"app": "web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
        ),
    )
    core.patch_namespaced_pod_status(
        name,
        NS,
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
    )


def _evict(core: client.CoreV1Api, name: str, **options: object) -> tuple[int, dict[str, object]]:
    """The answer's HTTP code and body (a Status, which the client cannot read as an Eviction)."""
    eviction = client.V1Eviction(
        metadata=client.V1ObjectMeta(name=name, namespace=NS),
        delete_options=client.V1DeleteOptions(**options) if options else None,
    )
    response = core.create_namespaced_pod_eviction(name, NS, eviction, _preload_content=False)
    try:
        return response.status, json.loads(response.data)
    finally:
        response.release_conn()


def _set_budget(policy: client.PolicyV1Api, allowed: int) -> None:
    policy.patch_namespaced_pod_disruption_budget_status(
        "web-pdb",
        NS,
        {
            "status": {
                "observedGeneration": 1,
                "disruptionsAllowed": allowed,
                "currentHealthy": 2,
                "desiredHealthy": 1,
                "expectedPods": 2,
            }
        },
    )


def test_eviction_honours_the_disruption_budget(api_client: client.ApiClient) -> None:
    core, policy = client.CoreV1Api(api_client), client.PolicyV1Api(api_client)
    _ready_pod(core, "web-1")
    _ready_pod(core, "web-2")
    policy.create_namespaced_pod_disruption_budget(
        NS,
        client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="web-pdb"),
            spec=client.V1PodDisruptionBudgetSpec(
                min_available=1, selector=client.V1LabelSelector(match_labels={"app": "web"})
            ),
        ),
    )
    _set_budget(policy, 0)
    with pytest.raises(ApiException) as refused:
        _evict(core, "web-1")
    assert refused.value.status == 429
    body = json.loads(refused.value.body)
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 1 healthy pods and has 2 currently",
        }
    ]
    assert core.read_namespaced_pod("web-1", NS).metadata.deletion_timestamp is None

    _set_budget(policy, 1)
    _evict(core, "web-1", dry_run=["All"])
    assert core.read_namespaced_pod("web-1", NS)
    assert (
        policy.read_namespaced_pod_disruption_budget("web-pdb", NS).status.disruptions_allowed == 1
    )

    code, done = _evict(core, "web-1", grace_period_seconds=0)
    assert (code, done["kind"], done["status"]) == (201, "Status", "Success")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("web-1", NS)
    assert gone.value.status == 404
    status = policy.read_namespaced_pod_disruption_budget("web-pdb", NS).status
    assert status.disruptions_allowed == 0
    assert list(status.disrupted_pods) == ["web-1"]
    assert [(c.type, c.status, c.reason) for c in status.conditions] == [
        ("DisruptionAllowed", "False", "InsufficientPods")
    ]
    with pytest.raises(ApiException) as second:
        _evict(core, "web-2")
    assert second.value.status == 429


def test_eviction_of_a_missing_or_pending_pod(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as missing:
        _evict(core, "nowhere")
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'pods "nowhere" not found'
    core.create_namespaced_pod(
        NS,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="pending", labels={"app": "web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
        ),
    )
    _evict(core, "pending")  # Pending pods are not protected by budgets
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("pending", NS)
    assert gone.value.status == 404


def test_events_have_two_views_of_one_object(api_client: client.ApiClient) -> None:
    events, core = client.EventsV1Api(api_client), client.CoreV1Api(api_client)
    created = events.create_namespaced_event(
        NS,
        client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="web.scaled"),
            event_time=datetime.datetime(2024, 6, 1, 12, 0, tzinfo=datetime.UTC),
            reporting_controller="example.com/scaler",
            reporting_instance="scaler-1",
            action="Scale",
            reason="Scaled",
            type="Normal",
            note="scaled to 3",
            regarding=client.V1ObjectReference(kind="Deployment", name="web", namespace=NS),
        ),
    )
    assert created.note == "scaled to 3"
    legacy = core.read_namespaced_event("web.scaled", NS)
    assert (legacy.message, legacy.involved_object.name, legacy.reporting_component) == (
        "scaled to 3",
        "web",
        "example.com/scaler",
    )
    core.patch_namespaced_event("web.scaled", NS, {"message": "scaled to 4"})
    assert events.read_namespaced_event("web.scaled", NS).note == "scaled to 4"
    with pytest.raises(ApiException) as refused:
        events.create_namespaced_event(
            NS,
            client.EventsV1Event(
                metadata=client.V1ObjectMeta(name="bare"),
                event_time=datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC),
            ),
        )
    assert refused.value.status == 422
    events.delete_namespaced_event("web.scaled", NS)
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_event("web.scaled", NS)
    assert gone.value.status == 404


def test_an_evicted_pod_is_marked_as_a_disruption_target(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name="evict-node")))
    core.create_namespaced_pod(
        NS,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="on-node"),
            spec=client.V1PodSpec(
                node_name="evict-node", containers=[client.V1Container(name="c", image="nginx")]
            ),
        ),
    )
    core.patch_namespaced_pod_status("on-node", NS, {"status": {"phase": "Running"}})
    code, _ = _evict(core, "on-node")
    assert code == 201
    pod = core.read_namespaced_pod("on-node", NS)  # on a node: deleted gracefully
    assert pod.metadata.deletion_timestamp is not None
    [condition] = [c for c in pod.status.conditions if c.type == "DisruptionTarget"]
    assert (condition.status, condition.reason, condition.message) == (
        "True",
        "EvictionByEvictionAPI",
        "Eviction API: evicting",
    )
    stale = client.V1Preconditions(resource_version="1")
    with pytest.raises(ApiException) as conflict:
        _evict(core, "on-node", preconditions=stale)
    assert conflict.value.status == 409
