"""The official kubernetes Python client against a real server, and bad input on the wire."""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

# The client's Watch.stop() leaves its urllib3 connection to the garbage collector, which then
# warns about an unclosed socket; that socket is the client's, not the server's.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def api(cluster):
    api_client = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def configmap(name, data):
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels={"suite": "py"}), data=data
    )


def test_create_list_patch_delete(api):
    created = api.create_namespaced_config_map("default", configmap("py-one", {"a": "1"}))
    assert created.metadata.uid and created.metadata.resource_version
    listed = api.list_namespaced_config_map("default", label_selector="suite=py")
    assert [c.metadata.name for c in listed.items] == ["py-one"]
    patched = api.patch_namespaced_config_map("py-one", "default", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    api.delete_namespaced_config_map("py-one", "default")
    with pytest.raises(ApiException) as caught:
        api.read_namespaced_config_map("py-one", "default")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["reason"] == "NotFound"


def test_create_pod_and_read_it_back(api):
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx")]),
    )
    api.create_namespaced_pod("default", pod)
    read = api.read_namespaced_pod("py-pod", "default")
    assert read.spec.containers[0].image_pull_policy == "Always"
    assert read.status.phase == "Pending"
    api.delete_namespaced_pod("py-pod", "default")


def test_watch_resumes_from_a_resource_version(api):
    start = api.list_namespaced_config_map("default").metadata.resource_version
    api.create_namespaced_config_map("default", configmap("w-a", {"x": "1"}))
    api.patch_namespaced_config_map("w-a", "default", {"data": {"x": "2"}})
    api.delete_namespaced_config_map("w-a", "default")
    seen = []
    stream = watch.Watch()
    for event in stream.stream(
        api.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=3
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            stream.stop()
    assert seen == [("ADDED", "w-a"), ("MODIFIED", "w-a"), ("DELETED", "w-a")]


def test_watch_sees_live_events_in_order_under_concurrent_writes(api):
    start = api.list_namespaced_config_map("default").metadata.resource_version
    names = [f"live-{i}" for i in range(20)]

    def writer():
        for name in names:
            api.create_namespaced_config_map("default", configmap(name, {"i": name}))

    thread = threading.Thread(target=writer)
    stream = watch.Watch()
    seen = []
    thread.start()
    for event in stream.stream(
        api.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=10
    ):
        if event["object"].metadata.name.startswith("live-"):
            seen.append(event["object"].metadata.name)
        if len(seen) == len(names):
            stream.stop()
    thread.join()
    assert seen == names
    for name in names:
        api.delete_namespaced_config_map(name, "default")


def test_watch_from_a_compacted_revision_is_410_and_the_client_recovers(cluster):
    import asyncio

    # A client of its own: earlier tests stopped watches mid-stream, which leaves the shared
    # client's pooled connections half-read.
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.admin_kubeconfig)))

    api.create_namespaced_config_map("default", configmap("before-compaction", {"a": "1"}))
    old = api.list_namespaced_config_map("default").metadata.resource_version
    api.patch_namespaced_config_map("before-compaction", "default", {"data": {"a": "2"}})
    current = int(api.list_namespaced_config_map("default").metadata.resource_version)
    backend = cluster._running.backend
    asyncio.run_coroutine_threadsafe(backend.compact(current), cluster._loop).result(timeout=10)
    with pytest.raises(ApiException) as caught:
        api.list_namespaced_config_map(
            "default", resource_version=old, resource_version_match="Exact"
        )
    assert caught.value.status == 410
    # A watch from the compacted revision gets an ERROR event with 410: the client retries once
    # from the same revision, gets 410 again and raises; the caller relists and watches again.
    stream = watch.Watch()
    with pytest.raises(ApiException) as gone:
        for _ in stream.stream(api.list_namespaced_config_map, "default", resource_version=old):
            pass
    assert gone.value.status == 410
    fresh = api.list_namespaced_config_map("default")
    events = list(
        watch.Watch().stream(
            api.list_namespaced_config_map,
            "default",
            resource_version=fresh.metadata.resource_version,
            timeout_seconds=1,
        )
    )
    assert events == []
    api.delete_namespaced_config_map("before-compaction", "default")


def _raw(
    cluster, method, path, body: bytes | None = None, content_type: str | None = "application/json"
):
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    user = cluster.kubeconfig_for("raw-admin", ["system:masters"])
    import base64

    import yaml

    doc = yaml.safe_load(user.read_text())
    cert = base64.b64decode(doc["users"][0]["user"]["client-certificate-data"])
    key = base64.b64decode(doc["users"][0]["user"]["client-key-data"])
    (user.parent / "raw.crt").write_bytes(cert)
    (user.parent / "raw.key").write_bytes(key)
    context.load_cert_chain(str(user.parent / "raw.crt"), str(user.parent / "raw.key"))
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(
        f"{cluster.url}{path}", data=body, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


CM_PATH = "/api/v1/namespaces/default/configmaps"
BAD = [
    ("malformed-json", "POST", CM_PATH, b'{"metadata": {', "application/json", 400, "BadRequest"),
    (
        "malformed-yaml",
        "POST",
        CM_PATH,
        b"metadata: [unclosed",
        "application/yaml",
        400,
        "BadRequest",
    ),
    (
        "malformed-protobuf",
        "POST",
        CM_PATH,
        b"k8s\x00\x0a\xff\xff",
        "application/vnd.kubernetes.protobuf",
        400,
        "BadRequest",
    ),
    (
        "kind-mismatch",
        "POST",
        CM_PATH,
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}',
        "application/json",
        400,
        "BadRequest",
    ),
    (
        "namespace-mismatch",
        "POST",
        CM_PATH,
        b'{"metadata":{"name":"x","namespace":"other"}}',
        "application/json",
        400,
        "BadRequest",
    ),
    (
        "name-mismatch",
        "PUT",
        CM_PATH + "/a",
        b'{"metadata":{"name":"b"}}',
        "application/json",
        400,
        "BadRequest",
    ),
    (
        "invalid-name",
        "POST",
        CM_PATH,
        b'{"metadata":{"name":"UPPER"}}',
        "application/json",
        422,
        "Invalid",
    ),
    (
        "invalid-label",
        "POST",
        CM_PATH,
        b'{"metadata":{"name":"ok","labels":{"bad key":"v"}}}',
        "application/json",
        422,
        "Invalid",
    ),
    (
        "unknown-field-strict",
        "POST",
        CM_PATH + "?fieldValidation=Strict",
        b'{"metadata":{"name":"ok2"},"extra":1}',
        "application/json",
        400,
        "BadRequest",
    ),
    ("unsupported-media", "POST", CM_PATH, b"name=x", "text/plain", 415, "UnsupportedMediaType"),
    ("unknown-resource", "GET", "/api/v1/namespaces/default/widgets", None, None, 404, "NotFound"),
    (
        "wrong-method",
        "POST",
        "/api/v1/namespaces/default/configmaps/x",
        b"{}",
        "application/json",
        405,
        "MethodNotAllowed",
    ),
    (
        "oversized",
        "POST",
        CM_PATH,
        b'{"metadata":{"name":"big"},"data":{"a":"' + b"x" * (3 * 1024 * 1024 + 10) + b'"}}',
        "application/json",
        413,
        "RequestEntityTooLarge",
    ),
]


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "content_type", "code", "reason"),
    BAD,
    ids=[b[0] for b in BAD],
)
def test_bad_input_gets_the_status_kubernetes_sends_and_stores_nothing(
    cluster, case, method, path, body, content_type, code, reason
):
    before = _raw(cluster, "GET", CM_PATH)[1]["items"]
    status, answer = _raw(cluster, method, path, body, content_type)
    assert (status, answer["kind"], answer["reason"], answer["code"]) == (
        code,
        "Status",
        reason,
        code,
    ), answer
    assert answer["message"]
    after = _raw(cluster, "GET", CM_PATH)[1]["items"]
    assert [i["metadata"]["name"] for i in after] == [i["metadata"]["name"] for i in before]
    # ... and the server goes on serving.
    assert _raw(cluster, "GET", "/version")[0] == 200


def test_invalid_object_lists_its_causes(cluster):
    status, answer = _raw(
        cluster, "POST", CM_PATH, b'{"metadata":{"name":"UPPER","labels":{"bad key":"v"}}}'
    )
    assert status == 422
    fields = {c["field"] for c in answer["details"]["causes"]}
    assert fields == {"metadata.name", "metadata.labels"}
