"""A scripted kubectl session against a real kubeward server (real TLS, real SQLite)."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import yaml

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80, name: http}]
  - name: side
    image: busybox
"""

POD_V2 = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: fe}
spec:
  containers:
  - name: nginx
    image: nginx:1.28
    ports: [{containerPort: 80, name: http}]
"""


def test_version_and_discovery(kubectl):
    version = kubectl.run("version", "-o", "json")
    assert json.loads(version.stdout)["serverVersion"]["minor"] == "32"
    versions = kubectl.run("api-versions").stdout.split()
    assert {"v1", "apps/v1", "coordination.k8s.io/v1", "authentication.k8s.io/v1"} <= set(versions)
    rows: dict[str, str] = {}
    for line in kubectl.run("api-resources", "-o", "wide").stdout.splitlines()[1:]:
        # The first row of a name is the core one (metrics.k8s.io also has nodes and pods).
        rows.setdefault(line.split()[0], line)
    for name in (
        "pods",
        "namespaces",
        "configmaps",
        "secrets",
        "deployments",
        "leases",
        "serviceaccounts",
        "nodes",
        "events",
    ):
        assert name in rows, name
    assert rows["pods"].split()[1] == "po"
    assert "create,delete,deletecollection,get,list,patch,update,watch" in rows["pods"]


def test_typed_create_commands_send_protobuf_and_work(kubectl):
    kubectl.run("create", "namespace", "team-a")
    kubectl.run(
        "create",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--from-literal=mode=fast",
        "--from-literal=size=3",
    )
    kubectl.run("create", "serviceaccount", "bot", "-n", "team-a")
    kubectl.run(
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "-n",
        "team-a",
        "--docker-server=registry.example.com",
        "--docker-username=u",
        "--docker-password=p",
    )
    cm = json.loads(
        kubectl.run("get", "configmap", "settings", "-n", "team-a", "-o", "json").stdout
    )
    assert cm["data"] == {"mode": "fast", "size": "3"}
    secret = json.loads(
        kubectl.run("get", "secret", "regcred", "-n", "team-a", "-o", "json").stdout
    )
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert ".dockerconfigjson" in secret["data"]
    names = kubectl.run("get", "sa", "-n", "team-a", "-o", "name").stdout.split()
    assert "serviceaccount/bot" in names


def test_pod_lifecycle_with_get_formats_label_annotate_patch_apply_replace_delete(
    kubectl, tmp_path
):
    pod_file = tmp_path / "pod.yaml"
    pod_file.write_text(POD)
    out = kubectl.run("create", "-f", str(pod_file))
    assert "pod/web created" in out.stdout

    table = kubectl.run("get", "pods").stdout
    assert table.splitlines()[0].split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "web" in table and "0/2" in table and "Pending" in table
    wide = kubectl.run("get", "pods", "-o", "wide").stdout
    assert "NOMINATED NODE" in wide
    as_yaml = yaml.safe_load(kubectl.run("get", "pod", "web", "-o", "yaml").stdout)
    assert as_yaml["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert kubectl.run("get", "pod", "web", "-o", "name").stdout.strip() == "pod/web"
    assert (
        kubectl.run("get", "pod", "web", "-o", "jsonpath={.spec.containers[*].name}").stdout
        == "nginx side"
    )
    described = kubectl.run("describe", "pod", "web").stdout
    assert "nginx:1.27" in described and "Name:" in described

    kubectl.run("label", "pod", "web", "env=prod")
    kubectl.run("annotate", "pod", "web", "owner=team-a")
    shown = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    assert shown["metadata"]["labels"]["env"] == "prod"
    assert shown["metadata"]["annotations"]["owner"] == "team-a"
    kubectl.run("label", "pod", "web", "env-")
    shown = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    assert "env" not in shown["metadata"]["labels"]

    kubectl.run(
        "patch",
        "pod",
        "web",
        "-p",
        '{"spec":{"containers":[{"name":"side","image":"busybox:1.36"}]}}',
    )
    kubectl.run(
        "patch",
        "pod",
        "web",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/labels/patched","value":"yes"}]',
    )
    shown = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    images = {c["name"]: c["image"] for c in shown["spec"]["containers"]}
    assert images == {"nginx": "nginx:1.27", "side": "busybox:1.36"}
    assert shown["metadata"]["labels"]["patched"] == "yes"

    # apply twice: the first records last-applied, the second is a strategic merge patch.
    cm_file = tmp_path / "cm.yaml"
    cm_file.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {a: '1'}\n"
    )
    assert "configmap/applied created" in kubectl.run("apply", "-f", str(cm_file)).stdout
    cm_file.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, labels: {v: '2'}}\ndata: {a: '2', b: '3'}\n"
    )
    assert "configmap/applied configured" in kubectl.run("apply", "-f", str(cm_file)).stdout
    cm = json.loads(kubectl.run("get", "cm", "applied", "-o", "json").stdout)
    assert cm["data"] == {"a": "2", "b": "3"} and cm["metadata"]["labels"] == {"v": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in cm["metadata"]["annotations"]

    cm["data"] = {"replaced": "yes"}
    replaced_file = tmp_path / "replaced.json"
    replaced_file.write_text(json.dumps(cm))
    assert "configmap/applied replaced" in kubectl.run("replace", "-f", str(replaced_file)).stdout
    assert json.loads(kubectl.run("get", "cm", "applied", "-o", "json").stdout)["data"] == {
        "replaced": "yes"
    }

    assert 'pod "web" deleted' in kubectl.run("delete", "pod", "web").stdout
    assert 'configmap "applied" deleted' in kubectl.run("delete", "-f", str(cm_file)).stdout
    gone = kubectl.run("get", "pod", "web", check=False)
    assert gone.returncode != 0 and 'pods "web" not found' in gone.stderr


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: applied, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27"}
      - {name: side, image: busybox}
"""


def test_apply_merges_containers_by_name_and_deletes_removed_ones(kubectl, tmp_path):
    # kubectl computes the patch from the OpenAPI patch metadata: the removed container is sent
    # as {"$patch": "delete", "name": "side"} and the kept one is merged by name.
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOYMENT)
    kubectl.run("apply", "-f", str(path))
    path.write_text(
        DEPLOYMENT.replace("      - {name: side, image: busybox}\n", "")
        .replace("nginx:1.27", "nginx:1.28")
        .replace("labels: {app: web}}", "labels: {app: web, tier: fe}}", 1)
    )
    kubectl.run("apply", "-f", str(path))
    shown = json.loads(kubectl.run("get", "deployment", "applied", "-o", "json").stdout)
    containers = shown["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("nginx", "nginx:1.28")]
    assert shown["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    assert shown["metadata"]["generation"] == 2


def test_removing_a_container_from_a_pod_is_refused_as_kubernetes_does(kubectl, tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(POD.replace("name: web", "name: fixed-pod", 1))
    kubectl.run("apply", "-f", str(path))
    path.write_text(POD_V2.replace("name: web", "name: fixed-pod", 1))
    refused = kubectl.run("apply", "-f", str(path), check=False)
    assert refused.returncode == 1
    assert "pod updates may not change fields other than" in refused.stderr


def test_server_side_apply_creates_then_updates(kubectl, tmp_path):
    cm_file = tmp_path / "ssa.yaml"
    cm_file.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '1'}\n")
    assert "serverside-applied" in kubectl.run("apply", "--server-side", "-f", str(cm_file)).stdout
    cm_file.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '2'}\n")
    kubectl.run("apply", "--server-side", "-f", str(cm_file))
    assert json.loads(kubectl.run("get", "cm", "ssa", "-o", "json").stdout)["data"]["a"] == "2"


def test_every_kind_round_trips_through_kubectl(kubectl, tmp_path):
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rt"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "rt"},
            "data": {"k": "v"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "rt"},
            "stringData": {"k": "v"},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "sa", "namespace": "rt"},
        },
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}},
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e1", "namespace": "rt"},
            "involvedObject": {"kind": "Pod", "name": "x", "namespace": "rt"},
            "reason": "Test",
            "message": "hello",
            "type": "Normal",
        },
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "l", "namespace": "rt"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "rt"},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
    ]
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    kubectl.run("apply", "-f", str(path))
    for kind, name, ns in [
        ("configmap", "c", "rt"),
        ("secret", "s", "rt"),
        ("sa", "sa", "rt"),
        ("node", "node-1", ""),
        ("event", "e1", "rt"),
        ("lease", "l", "rt"),
        ("deployment", "d", "rt"),
    ]:
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        assert json.loads(kubectl.run(*args).stdout)["metadata"]["name"] == name
    deployment = json.loads(kubectl.run("get", "deploy", "d", "-n", "rt", "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 1
    assert "READY" in kubectl.run("get", "deploy", "-n", "rt").stdout
    kubectl.run("delete", "-f", str(path), "--wait=false")
    kubectl.run("delete", "node", "node-1", "--ignore-not-found")


def test_watch_shows_added_modified_deleted(kubectl):
    kubectl.run("create", "namespace", "watched")
    watcher = kubectl.popen("get", "configmaps", "-n", "watched", "-w", "--output-watch-events")
    try:
        time.sleep(2)
        kubectl.run("create", "configmap", "w1", "-n", "watched", "--from-literal=a=1")
        kubectl.run("label", "configmap", "w1", "-n", "watched", "x=y")
        kubectl.run("delete", "configmap", "w1", "-n", "watched")
        time.sleep(2)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    events = [line.split()[0] for line in out.splitlines() if "w1" in line]
    assert events[:3] == ["ADDED", "MODIFIED", "DELETED"]


def test_explain_and_whoami(kubectl):
    explained = kubectl.run("explain", "pod.spec.containers").stdout
    assert "image" in explained and "imagePullPolicy" in explained
    whoami = kubectl.run("auth", "whoami").stdout
    assert (
        "kubernetes-admin" in whoami
        and "kubeadm:cluster-admins" in whoami
        and "system:authenticated" in whoami
    )


def test_kubectl_proxy_forwards_requests(kubectl):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proxy = kubectl.popen("proxy", f"--port={port}")
    try:
        body = None
        for _ in range(50):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/namespaces", timeout=5
                ) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["kind"] == "NamespaceList"
        assert "default" in [i["metadata"]["name"] for i in body["items"]]
    finally:
        proxy.terminate()
        proxy.communicate(timeout=10)


def test_errors_read_as_kubernetes_writes_them(kubectl, tmp_path):
    missing = kubectl.run("get", "configmap", "nope", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): configmaps "nope" not found' in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n")
    invalid = kubectl.run("create", "-f", str(bad), check=False)
    assert invalid.returncode == 1
    assert (
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"'
        in invalid.stderr
    )
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\nspecial: 1\n")
    strict = kubectl.run("create", "-f", str(unknown), check=False)
    assert strict.returncode == 1 and 'unknown field "special"' in strict.stderr
    assert kubectl.run("get", "configmap", "strict", check=False).returncode == 1
    kubectl.run("create", "namespace", "dupe")
    again = kubectl.run("create", "namespace", "dupe", check=False)
    assert 'namespaces "dupe" already exists' in again.stderr


def test_namespace_deletion_removes_its_contents(kubectl):
    kubectl.run("create", "namespace", "doomed")
    kubectl.run("create", "configmap", "inside", "-n", "doomed", "--from-literal=a=b")
    kubectl.run("delete", "namespace", "doomed", timeout=60)
    assert kubectl.run("get", "namespace", "doomed", check=False).returncode == 1
    refused = kubectl.run(
        "create", "configmap", "late", "-n", "doomed", "--from-literal=a=b", check=False
    )
    assert 'namespaces "doomed" not found' in refused.stderr


def test_server_dry_run_validates_without_storing(kubectl):
    out = kubectl.run("create", "configmap", "dry", "--from-literal=a=1", "--dry-run=server")
    assert "configmap/dry created (server dry run)" in out.stdout
    assert kubectl.run("get", "configmap", "dry", check=False).returncode == 1
    refused = kubectl.run("create", "configmap", "Dry_Bad", "--dry-run=server", check=False)
    assert refused.returncode == 1 and "is invalid" in refused.stderr
