"""Pods that run, with the real kubectl: logs, exec and the projected token through the API
server and the node's kubelet API over mTLS; the node's own authentication and authorization."""

from __future__ import annotations

import base64
import datetime
import functools
import gc
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.server.wiring.local import local_config
from kubeward.testing import Cluster, running_cluster
from kubeward.testing.cluster import free_port

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Kubectl]]:
    with running_cluster(nodes=1) as running:
        admin = Kubectl(running.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        yield running, admin


def pod(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return json.loads(kubectl.run("get", "pod", name, "-o", "json").stdout)  # type: ignore[no-any-return]


def phase_is(kubectl: Kubectl, name: str, phase: str) -> bool:
    return pod(kubectl, name).get("status", {}).get("phase") == phase


def test_run_logs_exec_token_and_graceful_delete(cluster: tuple[Cluster, Kubectl]) -> None:
    _, kubectl = cluster
    kubectl.run("run", "web", "--image=nginx", "--port=80")
    kubectl.run(
        "run",
        "hello",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo hi; echo there",
    )
    wait_for(lambda: phase_is(kubectl, "web", "Running"), "web Running")
    wait_for(lambda: phase_is(kubectl, "hello", "Succeeded"), "hello Succeeded")

    wide = kubectl.run("get", "pods", "-o", "wide").stdout
    web_line = next(line for line in wide.splitlines() if line.startswith("web "))
    # node-1's range, from the node-IPAM controller (10.244.0.0/16, a /24 per node).
    assert kubectl.run("get", "node", "node-1", "-o", "jsonpath={.spec.podCIDR}").stdout == (
        "10.244.0.0/24"
    )
    assert "10.244.0." in web_line and "node-1" in web_line and "1/1" in web_line
    assert "Completed" in next(line for line in wide.splitlines() if line.startswith("hello "))

    assert kubectl.run("logs", "hello").stdout == "hi\nthere\n"
    assert kubectl.run("logs", "hello", "--tail=1").stdout == "there\n"

    token = kubectl.run("exec", "web", "--", "cat", TOKEN_PATH).stdout
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["kubernetes.io"]["pod"]["name"] == "web"
    assert claims["kubernetes.io"]["node"]["name"] == "node-1"
    assert claims["sub"] == "system:serviceaccount:default:default"
    listing = kubectl.run("exec", "web", "--", "ls", str(Path(TOKEN_PATH).parent)).stdout
    assert listing.split() == ["ca.crt", "namespace", "token"]
    assert (
        kubectl.run("exec", "web", "--", "cat", str(Path(TOKEN_PATH).parent / "namespace")).stdout
        == "default"
    )

    kubectl.run("delete", "pod", "web", "--grace-period=5", "--wait=true", timeout=60)
    assert "web" not in kubectl.run("get", "pods", "-o", "name").stdout


def test_exec_reports_the_exit_code_and_stderr(cluster: tuple[Cluster, Kubectl]) -> None:
    _, kubectl = cluster
    kubectl.run("run", "box", "--image=busybox", "--env=GREETING=hello", "--", "sleep", "3600")
    wait_for(lambda: phase_is(kubectl, "box", "Running"), "box Running")
    failed = kubectl.run("exec", "box", "--", "sh", "-c", "echo $GREETING; exit 3", check=False)
    assert failed.returncode == 3
    assert failed.stdout == "hello\n"
    assert "command terminated with exit code 3" in failed.stderr
    missing = kubectl.run("exec", "box", "--", "cat", "/nope", check=False)
    assert missing.returncode == 1
    assert "cat: can't open '/nope': No such file or directory" in missing.stderr
    piped = kubectl.run("exec", "-i", "box", "--", "cat", input="from stdin\n")
    assert piped.stdout == "from stdin\n"


def test_a_pod_naming_a_missing_secret_stays_container_creating(
    cluster: tuple[Cluster, Kubectl],
) -> None:
    _, kubectl = cluster
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "needs-secret"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox",
                    "command": ["sleep", "3600"],
                    "volumeMounts": [{"name": "creds", "mountPath": "/etc/creds"}],
                }
            ],
            "volumes": [{"name": "creds", "secret": {"secretName": "db-creds"}}],
        },
    }
    kubectl.run("apply", "-f", "-", input=json.dumps(manifest))

    def waiting_reason() -> str:
        statuses = pod(kubectl, "needs-secret").get("status", {}).get("containerStatuses") or []
        return str(statuses[0]["state"].get("waiting", {}).get("reason", "")) if statuses else ""

    wait_for(lambda: waiting_reason() == "ContainerCreating", "ContainerCreating")
    events = kubectl.run(
        "get", "events", "--field-selector", "involvedObject.name=needs-secret", "-o", "json"
    ).stdout
    messages = [e["message"] for e in json.loads(events)["items"] if e["reason"] == "FailedMount"]
    assert messages == ['MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found']
    logs = kubectl.run("logs", "needs-secret", check=False)
    assert logs.returncode != 0
    assert (
        'container "app" in pod "needs-secret" is waiting to start: ContainerCreating'
        in logs.stderr
    )

    kubectl.run("create", "secret", "generic", "db-creds", "--from-literal=password=s3cret")
    wait_for(lambda: phase_is(kubectl, "needs-secret", "Running"), "Running once the secret exists")
    assert (
        kubectl.run("exec", "needs-secret", "--", "cat", "/etc/creds/password").stdout == "s3cret"
    )


def _node_port(kubectl: Kubectl) -> int:
    node = json.loads(kubectl.run("get", "node", "node-1", "-o", "json").stdout)
    return int(node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"])


def _node_get(cluster: Cluster, port: int, path: str, token: str = "") -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def test_the_node_authorizes_its_callers_through_the_api_server(
    cluster: tuple[Cluster, Kubectl],
) -> None:
    running, kubectl = cluster
    port = wait_for(lambda: _node_port(kubectl), "the kubelet port")
    assert _node_get(running, port, "/healthz") == (200, "ok")
    assert _node_get(running, port, "/pods") == (401, "Unauthorized")
    kubectl.run("create", "serviceaccount", "nobody")
    kubectl.run("create", "serviceaccount", "operator")
    kubectl.run(
        "create",
        "clusterrolebinding",
        "operator-kubelet",
        "--clusterrole=system:kubelet-api-admin",
        "--serviceaccount=default:operator",
    )
    nobody = kubectl.run("create", "token", "nobody").stdout.strip()
    operator = kubectl.run("create", "token", "operator").stdout.strip()
    assert _node_get(running, port, "/pods", nobody) == (
        403,
        "Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, "
        "subresource=proxy)",
    )
    status, body = _node_get(running, port, "/pods", operator)
    assert status == 200 and json.loads(body)["kind"] == "PodList"
    status, body = _node_get(running, port, "/stats/summary", nobody)
    assert (status, body) == (
        403,
        "Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, "
        "subresource=stats)",
    )
    assert _node_get(running, port, "/pods", "not-a-token") == (401, "Unauthorized")


def test_the_node_sees_the_api_servers_kubelet_client_certificate(
    tmp_path: Path,
) -> None:
    """An API server whose kubelet-client identity has no nodes/proxy is refused by the node."""
    port = free_port()
    local_config(tmp_path, port)
    ca = CertificateAuthority.from_dir(tmp_path / "pki")
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue_client_certificate(
        key.public_key(), "stranger-kubelet-client", [], datetime.timedelta(hours=1)
    )
    (tmp_path / "stranger.crt").write_bytes(certificate_pem(cert))
    (tmp_path / "stranger.key").write_bytes(private_key_pem(key))
    options = {
        "kubelet_client_certificate": tmp_path / "stranger.crt",
        "kubelet_client_key": tmp_path / "stranger.key",
    }
    with running_cluster(data_dir=tmp_path, port=port, nodes=1, server_options=options) as running:
        kubectl = Kubectl(running.admin_kubeconfig, tmp_path / "home")
        kubectl.run("run", "web", "--image=nginx")
        wait_for(lambda: phase_is(kubectl, "web", "Running"), "web Running")
        logs = kubectl.run("logs", "web", check=False)
        assert logs.returncode != 0
        assert (
            "Forbidden (user=stranger-kubelet-client, verb=get, resource=nodes, "
            "subresource=proxy)" in logs.stderr
        )
        exec_ = kubectl.run("exec", "web", "--", "ls", check=False)
        assert exec_.returncode != 0
        assert "user=stranger-kubelet-client" in exec_.stderr


def _http_get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
        return str(answer.read().decode())


def test_kubectl_port_forward_reaches_each_declared_port(cluster: tuple[Cluster, Kubectl]) -> None:
    _, kubectl = cluster
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "two-ports"},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]},
                {"name": "admin", "image": "nginx", "ports": [{"containerPort": 9090}]},
            ]
        },
    }
    kubectl.run("apply", "-f", "-", input=json.dumps(manifest))
    wait_for(lambda: phase_is(kubectl, "two-ports", "Running"), "two-ports Running")
    web, admin, closed = free_port(), free_port(), free_port()
    forward = kubectl.popen(
        "port-forward", "pod/two-ports", f"{web}:80", f"{admin}:9090", f"{closed}:8081"
    )
    try:
        wait_for(lambda: _listening(web), "port-forward listening")
        assert _http_get(web) == "kubeward: pod default/two-ports port 80\n"
        assert _http_get(admin) == "kubeward: pod default/two-ports port 9090\n"
        assert _http_get(web) == "kubeward: pod default/two-ports port 80\n"  # again: new stream
        # Nothing listens on 8081: the node reports it on the error stream, and kubectl 1.32
        # gives up on the forwarding.
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            _http_get(closed)
        forward.wait(timeout=30)
    finally:
        forward.terminate()
        _, err = forward.communicate(timeout=30)
    assert "connect: connection refused" in err


def _disconnected(forwarded: Any) -> bool:
    return not forwarded.connected


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# kubernetes.stream's WebSocket clients leave their sockets to the garbage collector (the
# port-forward proxy thread and the exec client never close them); that is the client's leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_official_client_execs_and_forwards_ports(cluster: tuple[Cluster, Kubectl]) -> None:
    from kubernetes import client, config
    from kubernetes.stream import portforward, stream

    running, kubectl = cluster
    kubectl.run("run", "py", "--image=nginx", "--port=8080")
    wait_for(lambda: phase_is(kubectl, "py", "Running"), "py Running")
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(running.admin_kubeconfig)))
    # The client's preloading call leaves its WebSocket open: close each session here.
    first = stream(
        api.connect_get_namespaced_pod_exec,
        "py",
        "default",
        command=[
            "sh",
            "-c",
            "echo $HOSTNAME; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace",
        ],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    first.run_forever(timeout=30)
    out = first.read_all()
    first.close()
    assert out == "py\ndefault"
    session = stream(
        api.connect_get_namespaced_pod_exec,
        "py",
        "default",
        command=["sh", "-c", "exit 7"],
        stderr=True,
        stdout=True,
        _preload_content=False,
    )
    session.run_forever(timeout=30)
    session.close()
    assert session.returncode == 7

    forwarded = portforward(
        api.connect_get_namespaced_pod_portforward, "py", "default", ports="8080"
    )
    sock = forwarded.socket(8080)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: py\r\n\r\n")
    reply = b""
    while b"port 8080" not in reply:
        chunk = sock.recv(1024)
        if not chunk:
            break
        reply += chunk
    sock.close()
    forwarded.close()
    # The client's proxy thread closes its WebSocket once the local sockets are closed.
    wait_for(functools.partial(_disconnected, forwarded), "the port-forward connection closed")
    api.api_client.close()
    del session, first, forwarded, sock
    gc.collect()  # the client's leaked sockets are reported here, under this test's filter
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(
        b"kubeward: pod default/py port 8080\n"
    )


def test_kubectl_top_reads_the_nodes_resource_metrics(cluster: tuple[Cluster, Kubectl]) -> None:
    _, kubectl = cluster
    kubectl.run("run", "topped", "--image=nginx")
    wait_for(lambda: phase_is(kubectl, "topped", "Running"), "topped Running")
    pods = kubectl.run("top", "pod", "topped", "--containers").stdout.splitlines()
    assert pods[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert pods[1].split() == ["topped", "topped", "1m", "8Mi"]
    nodes = kubectl.run("top", "nodes").stdout.splitlines()
    assert nodes[1].split()[0] == "node-1"
    missing = kubectl.run(
        "get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope", check=False
    )
    assert 'podmetrics.metrics.k8s.io "nope" not found' in missing.stderr


def test_a_private_registry_needs_a_pull_secret_from_the_service_account(tmp_path: Path) -> None:
    with running_cluster(nodes=1, private_registries=("private-registry.io",)) as running:
        kubectl = Kubectl(running.admin_kubeconfig, tmp_path / "home")
        image = "private-registry.io/apps/internal-app"
        kubectl.run("run", "locked", f"--image={image}")

        def waiting(name: str) -> str:
            statuses = pod(kubectl, name).get("status", {}).get("containerStatuses") or []
            return (
                str(statuses[0]["state"].get("waiting", {}).get("reason", "")) if statuses else ""
            )

        wait_for(lambda: waiting("locked") == "ErrImagePull", "ErrImagePull")
        wait_for(lambda: waiting("locked") == "ImagePullBackOff", "ImagePullBackOff")
        events = json.loads(
            kubectl.run(
                "get", "events", "--field-selector", "involvedObject.name=locked", "-o", "json"
            ).stdout
        )["items"]
        failed = [e["message"] for e in events if e["reason"] == "Failed"]
        assert failed and failed[0].startswith(f'Failed to pull image "{image}": ')
        assert "no basic auth credentials" in failed[0]

        kubectl.run(
            "create",
            "secret",
            "docker-registry",
            "private-reg-cred",
            "--docker-server=private-registry.io",
            "--docker-username=dock_user",
            "--docker-password=dock_password",
        )
        kubectl.run(
            "patch",
            "serviceaccount",
            "default",
            "-p",
            '{"imagePullSecrets": [{"name": "private-reg-cred"}]}',
        )
        kubectl.run("run", "unlocked", f"--image={image}")
        wait_for(lambda: phase_is(kubectl, "unlocked", "Running"), "the next pod Running")
        assert waiting("locked") == "ImagePullBackOff"  # made before the secret: still locked
