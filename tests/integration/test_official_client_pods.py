"""The official ``kubernetes`` client against pods that run, as its own end-to-end suite
(``kubernetes/e2e_test/test_client.py``) exercises a cluster: pods created, read, listed and
deleted; exec through ``stream`` with stdout, stderr, stdin and exit codes; port-forwarding,
raw and HTTP; and the Service, ReplicationController, ConfigMap and Node calls of that suite.

The simulated runtime runs no images, so the commands are those it knows (``sh -c``, ``echo``,
``cat``, ``ls``, ``true``/``false``, ``exit N``, ``nc -l -p PORT -e cat`` as the echo server
upstream writes in Python, and the node's HTTP responder on a declared port in place of nginx's
page); every protocol step and assertion of the upstream tests is kept.
"""

from __future__ import annotations

import gc
import json
import select
import socket
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubeward.testing import running_cluster

kubernetes = pytest.importorskip("kubernetes")

from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.stream import portforward, stream  # noqa: E402
from kubernetes.stream.ws_client import ERROR_CHANNEL  # noqa: E402

NS = "default"

# The client's WebSocket helpers leave sockets to the garbage collector (upstream's own leak).
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def short_uuid() -> str:
    return str(uuid.uuid4())[-12:]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def shell_pod(name: str, script: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"image": "busybox", "name": "sleep", "args": ["/bin/sh", "-c", script]}]
        },
    }


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with running_cluster(nodes=1) as cluster:
        api_client = k8s_config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
        yield k8s.CoreV1Api(api_client)
        api_client.close()
        gc.collect()


def wait_for_default_service_account(api: Any) -> None:
    def found() -> bool:
        try:
            account = api.read_namespaced_service_account(name="default", namespace=NS)
        except ApiException as exc:
            assert exc.status == 404, exc
            return False
        assert account.metadata.name == "default"
        return True

    wait_for(found, "the default service account")


def running_pod(api: Any, manifest: dict[str, Any], *, ready: bool = False) -> str:
    name = manifest["metadata"]["name"]
    created = api.create_namespaced_pod(body=manifest, namespace=NS)
    assert created.metadata.name == name
    assert created.status.phase  # Pending, as the API server sets it on create

    def started() -> bool:
        pod = api.read_namespaced_pod(name=name, namespace=NS)
        assert pod.metadata.name == name and pod.status.phase
        if pod.status.phase != "Running":
            assert pod.status.phase == "Pending"
            return False
        return not ready or bool(pod.status.container_statuses[0].ready)

    wait_for(started, f"pod {name} Running")
    return name


def test_pod_apis(api: Any) -> None:
    wait_for_default_service_account(api)
    name = running_pod(api, shell_pod("busybox-test-" + short_uuid(), "sleep 3600"))

    out = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        NS,
        command=["/bin/sh", "-c", "echo one; echo two; echo three"],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert isinstance(out, str)
    assert len(out.splitlines()) == 3

    raw = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        NS,
        command=["/bin/sh", "-c", 'echo -n "This is a test string"'],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
        binary=True,
    )
    assert isinstance(raw, bytes)
    assert raw == b"This is a test string"

    one = stream(
        api.connect_post_namespaced_pod_exec,
        name,
        NS,
        command=["echo", "up 1 day"],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert len(one.splitlines()) == 1

    for binary in (False, True):
        text: Callable[[str], Any] = (lambda s: s.encode()) if binary else (lambda s: s)
        shell = stream(
            api.connect_post_namespaced_pod_exec,
            name,
            NS,
            command=["/bin/sh"],
            stderr=True,
            stdin=True,
            stdout=True,
            tty=False,
            binary=binary,
            _preload_content=False,
        )
        shell.write_stdin(text("echo test string 1\n"))
        assert shell.readline_stdout(timeout=5) == text("test string 1")
        assert not shell.peek_stderr()
        shell.write_stdin(text("echo test string 2 >&2\n"))
        assert shell.readline_stderr(timeout=5) == text("test string 2")
        assert not shell.peek_stdout()
        shell.write_stdin(text("exit\n"))
        shell.update(timeout=5)
        line = wait_for(lambda s=shell: s.read_channel(ERROR_CHANNEL), "the exit status")
        assert json.loads(line)["status"] == "Success"
        shell.update(timeout=5)
        assert not shell.is_open()

    assert len(api.list_pod_for_all_namespaces().items) > 0
    api.delete_namespaced_pod(name=name, body={}, namespace=NS)


def test_pod_exec_close_channel(api: Any) -> None:
    name = running_pod(api, shell_pod("busybox-test-" + short_uuid(), "sleep 3600"))
    session = stream(
        api.connect_post_namespaced_pod_exec,
        name,
        NS,
        command=["/bin/sh", "-c", "cat"],
        stderr=True,
        stdin=True,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    try:
        assert session.subprotocol == "v5.channel.k8s.io"
        session.write_stdin("test-close\n")
        assert session.readline_stdout(timeout=5) == "test-close"
        session.close_channel(0)  # stdin's end: cat exits
        session.run_forever(timeout=15)
        assert not session.is_open(), "the connection closes once cat has exited"
        assert session.returncode == 0
    finally:
        if session.is_open():
            session.close()
        api.delete_namespaced_pod(name=name, body={}, namespace=NS)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["false"], 1),
        (["/bin/sh", "-c", "sleep 1; exit 3"], 3),
        (["true"], 0),
        (["/bin/sh", "-c", "ls /"], 0),
        (["/bin/sh", "-c", "exit 0"], 0),
        (["/bin/sh", "-c", "exit 1"], 1),
        (["/bin/sh", "-c", "exit 42"], 42),
        (["no-such-program"], 127),
    ],
    ids=["false", "exit-3-after-sleep", "true", "ls", "exit-0", "exit-1", "exit-42", "missing"],
)
def test_exit_code(api: Any, command: list[str], expected: int) -> None:
    wait_for_default_service_account(api)
    name = "busybox-exit"
    try:
        api.read_namespaced_pod(name=name, namespace=NS)
    except ApiException as exc:
        assert exc.status == 404
        running_pod(api, shell_pod(name, "sleep 3600"))
    session = stream(
        api.connect_get_namespaced_pod_exec,
        name,
        NS,
        command=command,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    assert session.returncode is None
    session.run_forever(timeout=10)
    assert session.returncode == expected
    assert session.returncode == expected  # idempotent
    session.close()


def echo_server_pod(name: str, config_map: str) -> dict[str, Any]:
    def container(port: int) -> dict[str, Any]:
        return {
            "name": f"port-server-{port}",
            "image": "busybox",
            "command": ["nc", "-lk", "-p", str(port), "-e", "cat"],
            "volumeMounts": [{"name": "port-server", "mountPath": "/opt", "readOnly": True}],
            "startupProbe": {
                "tcpSocket": {"port": port},
                "periodSeconds": 1,
                "failureThreshold": 30,
            },
        }

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [container(1234), container(1235)],
            "restartPolicy": "Never",
            "volumes": [{"name": "port-server", "configMap": {"name": config_map}}],
        },
    }


def _echoed(socks: dict[Any, bytes]) -> None:
    """Read from each socket until it has echoed exactly what was sent to it."""
    replies = {sock: b"" for sock in socks}
    deadline = time.monotonic() + 60
    while any(replies[s] != sent for s, sent in socks.items()):
        assert time.monotonic() < deadline, replies
        for sock in socks:
            assert sock.fileno() != -1
        ready, _, _ = select.select(list(socks), [], [], 1)
        for sock in ready:
            data = sock.recv(1024)
            assert data != b"", "unexpected socket close"
            replies[sock] += data
            assert socks[sock].startswith(replies[sock])


def test_portforward_raw(api: Any) -> None:
    name = "portforward-raw-" + short_uuid()
    api.create_namespaced_config_map(
        body={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"port-server.sh": "nc -lk -p 1234 -e cat\n"},
        },
        namespace=NS,
    )
    running_pod(api, echo_server_pod(name, name), ready=True)
    for ix in range(1, 11):
        n = str(ix).encode()
        forwarded = portforward(
            api.connect_get_namespaced_pod_portforward, name, NS, ports="1234,1235,1236"
        )
        assert forwarded.connected
        sock1234, sock1235 = forwarded.socket(1234), forwarded.socket(1235)
        sock1234.setblocking(True)
        sock1235.setblocking(True)
        sent = {
            sock1234: b"Test " + n + b" port 1234 forwarding",
            sock1235: b"Test " + n + b" port 1235 forwarding",
        }
        for sock, data in sent.items():
            sock.sendall(data)
        _echoed(sent)
        assert forwarded.connected

        nobody = forwarded.socket(1236)  # nothing listens there: refused at once
        nobody.setblocking(True)
        assert nobody.recv(1024) == b""
        assert forwarded.error(1236) is not None
        assert "connection refused" in forwarded.error(1236)
        nobody.close()

        for sock in (sock1234, sock1235):
            assert forwarded.connected
            again = b"Another test " + n + b" using fileno " + str(sock.fileno()).encode()
            sock.sendall(again)
            _echoed({sock: again})
            sock.close()
        wait_for(lambda f=forwarded: not f.connected, "the forwarding closed")
        assert forwarded.error(1234) is None
        assert forwarded.error(1235) is None
    api.delete_namespaced_pod(name=name, namespace=NS)
    api.delete_namespaced_config_map(name=name, namespace=NS)


def test_portforward_http(api: Any) -> None:
    name = "portforward-http-" + short_uuid()
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]
        },
    }
    running_pod(api, manifest)
    original = socket.create_connection

    def kubernetes_create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        parts = host.split(".")
        if len(parts) != 3 or parts[2] != "kubernetes":
            return original(address, *args, **kwargs)
        forwarded = portforward(
            api.connect_get_namespaced_pod_portforward, parts[0], parts[1], ports=str(address[1])
        )
        return forwarded.socket(address[1])

    socket.create_connection = kubernetes_create_connection  # type: ignore[assignment]
    try:
        response = urllib.request.urlopen(f"http://{name}.{NS}.kubernetes/")
        html = response.read().decode("utf-8")
    finally:
        socket.create_connection = original
    assert response.code == 200
    assert html == f"kubeward: pod {NS}/{name} port 80\n"  # the node's responder, not nginx's page
    api.delete_namespaced_pod(name=name, body={}, namespace=NS)


def test_service_apis(api: Any) -> None:
    name = "frontend-" + short_uuid()
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"labels": {"name": name}, "name": name},
        "spec": {
            "ports": [{"name": "port", "port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"name": name},
        },
    }
    created = api.create_namespaced_service(body=manifest, namespace=NS)
    assert created.metadata.name == name and created.status
    read = api.read_namespaced_service(name=name, namespace=NS)
    assert read.metadata.name == name and read.status
    manifest["spec"]["ports"] = [
        {"name": "new", "port": 8080, "protocol": "TCP", "targetPort": 8080}
    ]
    patched = api.patch_namespaced_service(body=manifest, name=name, namespace=NS)
    assert len(patched.spec.ports) == 2  # strategic merge: ports merge by port number
    assert patched.status
    api.delete_namespaced_service(name=name, body={}, namespace=NS)


def test_replication_controller_apis(api: Any) -> None:
    name = "frontend-" + short_uuid()
    manifest = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"labels": {"name": name}, "name": name},
        "spec": {
            "replicas": 2,
            "selector": {"name": name},
            "template": {
                "metadata": {"labels": {"name": name}},
                "spec": {
                    "containers": [
                        {
                            "image": "nginx",
                            "name": "nginx",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
    }
    created = api.create_namespaced_replication_controller(body=manifest, namespace=NS)
    assert created.metadata.name == name and created.spec.replicas == 2
    read = api.read_namespaced_replication_controller(name=name, namespace=NS)
    assert read.metadata.name == name and read.spec.replicas == 2
    api.delete_namespaced_replication_controller(
        name=name, namespace=NS, propagation_policy="Background"
    )


def test_configmap_apis(api: Any) -> None:
    name = "test-configmap-" + short_uuid()
    manifest = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": {"e2e-tests": "true"}},
        "data": {
            "config.json": '{"command":"/usr/bin/mysqld_safe"}',
            "frontend.cnf": "[mysqld]\nbind-address = 10.0.0.3\nport = 3306\n",
        },
    }
    assert api.create_namespaced_config_map(body=manifest, namespace=NS).metadata.name == name
    assert api.read_namespaced_config_map(name=name, namespace=NS).metadata.name == name
    json_patch = [{"op": "replace", "path": "/data", "value": {"new_value": "json_patch_name"}}]
    patched = api.patch_namespaced_config_map(name=name, namespace=NS, body=json_patch)
    assert patched.data["new_value"] == "json_patch_name"
    assert patched.data.get("config.json") is None and patched.data.get("frontend.cnf") is None
    merge_patch = {"data": {"new_value": "merge_patch_name"}}
    patched = api.patch_namespaced_config_map(name=name, namespace=NS, body=merge_patch)
    assert patched.data["new_value"] == "merge_patch_name"
    assert patched.data.get("config.json") is None and patched.data.get("frontend.cnf") is None
    api.delete_namespaced_config_map(name=name, body={}, namespace=NS)
    assert api.list_namespaced_config_map(NS, label_selector="e2e-tests=true").items == []


def test_node_apis(api: Any) -> None:
    nodes = wait_for(lambda: api.list_node().items, "a node")
    for item in nodes:
        node = api.read_node(name=item.metadata.name)
        assert isinstance(node.metadata.labels, dict) and len(node.metadata.labels) > 0
        assert node.spec.pod_cidr == "10.244.0.0/24"  # from the node-IPAM controller
