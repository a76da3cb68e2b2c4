"""Services and the other core workload kinds through the real kubectl and the official client.

Issue 14: ClusterIP and NodePort allocation from the server's ranges, the ``kubernetes`` Service,
``kubectl create service`` (protobuf bodies), ``kubectl expose``, ``kubectl get … -o wide``
tables, the official client's CRUD for services and replication controllers, and the
``scale`` subresource of a ReplicationController.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def api_client(cluster):
    api_client = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def core(api_client):
    return client.CoreV1Api(api_client)


def get_json(kubectl, *args):
    return json.loads(kubectl.run("get", *args, "-o", "json").stdout)


def test_the_kubernetes_service_has_the_first_address_and_the_server_port(kubectl, cluster):
    svc = get_json(kubectl, "service", "kubernetes", "-n", "default")
    assert svc["spec"]["clusterIP"] == "10.0.0.1"
    port = svc["spec"]["ports"][0]
    assert (port["name"], port["port"], port["protocol"]) == ("https", 443, "TCP")
    assert str(port["targetPort"]) == str(cluster.port)
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}


def test_kubectl_create_service_clusterip_and_nodeport(kubectl):
    kubectl.run("create", "service", "clusterip", "web", "--tcp=80:8080")
    kubectl.run("create", "service", "nodeport", "edge", "--tcp=443:8443", "--node-port=30443")
    web = get_json(kubectl, "service", "web")
    edge = get_json(kubectl, "service", "edge")
    assert web["spec"]["clusterIP"].startswith("10.0.0.")
    assert web["spec"]["clusterIP"] != "10.0.0.1"
    assert web["spec"]["ipFamilies"] == ["IPv4"]
    assert edge["spec"]["ports"][0]["nodePort"] == 30443
    taken = kubectl.run(
        "create", "service", "nodeport", "edge2", "--tcp=80:80", "--node-port=30443", check=False
    )
    assert taken.returncode != 0
    assert (
        'Service "edge2" is invalid: spec.ports[0].nodePort: Invalid value: 30443: '
        "provided port is already allocated"
    ) in taken.stderr
    same_ip = kubectl.run(
        "create",
        "service",
        "clusterip",
        "web2",
        "--tcp=80:80",
        f"--clusterip={web['spec']['clusterIP']}",
        check=False,
    )
    assert same_ip.returncode != 0
    assert "provided IP is already allocated" in same_ip.stderr
    headless = kubectl.run(
        "create", "service", "clusterip", "db", "--clusterip=None", "-o", "json"
    ).stdout
    assert json.loads(headless)["spec"]["clusterIP"] == "None"
    kubectl.run("delete", "service", "web", "edge", "db")


def test_kubectl_expose_a_pod_and_a_deployment(kubectl):
    kubectl.run("run", "exposed", "--image=nginx", "--labels=app=exposed", "--port=80")
    kubectl.run("expose", "pod", "exposed", "--port=8080", "--target-port=80")
    svc = get_json(kubectl, "service", "exposed")
    assert svc["spec"]["selector"] == {"app": "exposed"}
    assert svc["spec"]["ports"][0]["port"] == 8080
    kubectl.run("create", "deployment", "shop", "--image=nginx", "--port=80")
    kubectl.run("expose", "deployment", "shop", "--type=NodePort", "--port=80")
    shop = get_json(kubectl, "service", "shop")
    assert shop["spec"]["type"] == "NodePort"
    assert 30000 <= shop["spec"]["ports"][0]["nodePort"] <= 32767
    assert shop["spec"]["selector"] == {"app": "shop"}
    kubectl.run("delete", "service", "exposed", "shop")
    kubectl.run("delete", "deployment", "shop")
    kubectl.run("delete", "pod", "exposed", "--wait=false")


MANIFESTS = """
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-one}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  hostPath: {path: /tmp/pv-one}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    max: {cpu: "2"}
    min: {cpu: 100m}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec:
  hard: {pods: "10", limits.cpu: "4", requests.memory: 1Gi}
---
apiVersion: v1
kind: Endpoints
metadata: {name: external}
subsets:
- addresses: [{ip: 192.0.2.10}, {ip: 192.0.2.11}]
  ports: [{port: 5432, name: pg}]
"""


def wait_for_quota_status(kubectl: Any) -> str:
    deadline = time.monotonic() + 20
    while True:
        quota = kubectl.run("get", "quota", "quota").stdout.splitlines()
        assert quota[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
        if "0/10" in quota[1] or time.monotonic() > deadline:
            return quota[1]
        time.sleep(0.1)


def test_get_tables_of_the_new_kinds(kubectl):
    kubectl.run("apply", "-f", "-", input=MANIFESTS)
    kubectl.run("create", "service", "nodeport", "wide", "--tcp=80:80", "--node-port=30080")
    svc = kubectl.run("get", "svc", "wide", "-o", "wide").stdout.splitlines()
    assert svc[0].split() == [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
        "SELECTOR",
    ]
    assert svc[1].split()[1] == "NodePort" and svc[1].split()[4] == "80:30080/TCP"
    ep = kubectl.run("get", "ep", "external").stdout.splitlines()
    assert ep[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    assert ep[1].split()[1] == "192.0.2.10:5432,192.0.2.11:5432"
    pvc = kubectl.run("get", "pvc", "data", "-o", "wide").stdout.splitlines()
    assert pvc[0].split() == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS",
        "MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
        "VOLUMEMODE",
    ]
    assert pvc[1].split()[1] == "Pending" and pvc[1].split()[-1] == "Filesystem"
    pv = kubectl.run("get", "pv", "pv-one").stdout.splitlines()
    assert pv[1].split()[1:5] == ["1Gi", "RWO,ROX", "Retain", "Pending"]
    limits = kubectl.run("get", "limits").stdout.splitlines()
    assert limits[0].split() == ["NAME", "CREATED", "AT"]
    # The resourcequota controller fills in status: used against hard, as kubectl prints it.
    quota_line = wait_for_quota_status(kubectl)
    assert "pods: 0/10, requests.memory: 0/1Gi" in quota_line and "limits.cpu: 0/4" in quota_line
    combined = kubectl.run("get", "svc,ep,pvc,pv,limits,quota", "-o", "wide").stdout
    for word in (
        "service/wide",
        "endpoints/external",
        "persistentvolumeclaim/data",
        "persistentvolume/pv-one",
        "limitrange/limits",
        "resourcequota/quota",
    ):
        assert word in combined
    defaulted = get_json(kubectl, "limitrange", "limits")["spec"]["limits"][0]
    assert defaulted["default"] == {"cpu": "2"} and defaulted["defaultRequest"] == {"cpu": "2"}
    kubectl.run("delete", "-f", "-", input=MANIFESTS)
    kubectl.run("delete", "service", "wide")


def test_bad_input_is_422_with_kubernetes_messages(kubectl):
    no_storage = kubectl.run(
        "apply",
        "-f",
        "-",
        check=False,
        input="apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\n"
        "spec: {accessModes: [ReadWriteOnce]}\n",
    )
    assert no_storage.returncode != 0
    assert 'PersistentVolumeClaim "bad" is invalid: spec.resources[storage]: Required value' in (
        no_storage.stderr
    )
    no_ports = kubectl.run(
        "apply",
        "-f",
        "-",
        check=False,
        input="apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {selector: {a: b}}\n",
    )
    assert 'The Service "bad" is invalid: spec.ports: Required value' in no_ports.stderr


def test_python_client_service_crud(core):
    body = client.V1Service(
        metadata=client.V1ObjectMeta(name="py-svc"),
        spec=client.V1ServiceSpec(
            selector={"app": "py"}, ports=[client.V1ServicePort(port=80, target_port=8080)]
        ),
    )
    created = core.create_namespaced_service("default", body)
    ip = created.spec.cluster_ip
    assert ip.startswith("10.0.0.") and created.spec.cluster_ips == [ip]
    listed = core.list_namespaced_service("default", field_selector="metadata.name=py-svc")
    assert [s.metadata.name for s in listed.items] == ["py-svc"]
    patched = core.patch_namespaced_service("py-svc", "default", {"spec": {"type": "NodePort"}})
    assert patched.spec.cluster_ip == ip and patched.spec.ports[0].node_port >= 30000
    read = core.read_namespaced_service("py-svc", "default")
    read.spec.ports[0].port = 81
    replaced = core.replace_namespaced_service("py-svc", "default", read)
    assert replaced.spec.ports[0].port == 81 and replaced.spec.cluster_ip == ip
    with pytest.raises(ApiException) as changed:
        core.patch_namespaced_service("py-svc", "default", {"spec": {"clusterIP": "10.0.0.250"}})
    assert changed.value.status == 422
    assert "may not change once set" in json.loads(changed.value.body)["message"]
    core.delete_namespaced_service("py-svc", "default")
    again = core.create_namespaced_service(
        "default",
        client.V1Service(
            metadata=client.V1ObjectMeta(name="py-svc2"),
            spec=client.V1ServiceSpec(cluster_ip=ip, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    assert again.spec.cluster_ip == ip  # the deleted Service's address was freed
    core.delete_namespaced_service("py-svc2", "default")


def test_python_client_replication_controller_crud_and_scale(core):
    body = client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="py-rc"),
        spec=client.V1ReplicationControllerSpec(
            replicas=2,
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-rc"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        ),
    )
    created = core.create_namespaced_replication_controller("default", body)
    assert created.spec.selector == {"app": "py-rc"}
    assert created.metadata.labels == {"app": "py-rc"}
    scale = core.read_namespaced_replication_controller_scale("py-rc", "default")
    assert scale.spec.replicas == 2 and scale.status.selector == "app=py-rc"
    core.patch_namespaced_replication_controller_scale(
        "py-rc", "default", {"spec": {"replicas": 5}}
    )
    assert core.read_namespaced_replication_controller("py-rc", "default").spec.replicas == 5
    with pytest.raises(ApiException) as bad:
        core.patch_namespaced_replication_controller(
            "py-rc", "default", {"spec": {"template": {"spec": {"restartPolicy": "Never"}}}}
        )
    assert bad.value.status == 422
    message = json.loads(bad.value.body)["message"]
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never"' in message
    core.delete_namespaced_replication_controller("py-rc", "default")


def test_a_deleted_kubernetes_service_comes_back(kubectl, core):
    import time

    before = core.read_namespaced_service("kubernetes", "default")
    kubectl.run("delete", "service", "kubernetes")
    deadline = time.monotonic() + 20
    while True:
        try:
            after = core.read_namespaced_service("kubernetes", "default")
            break
        except ApiException as exc:
            assert exc.status == 404
            assert time.monotonic() < deadline, "the kubernetes Service was not put back"
            time.sleep(0.05)
    assert after.metadata.uid != before.metadata.uid
    assert after.spec.cluster_ip == "10.0.0.1"


def test_the_serving_certificate_names_the_kubernetes_service_address(cluster):
    import ipaddress
    import ssl

    from cryptography import x509

    pem = ssl.get_server_certificate(("127.0.0.1", cluster.port))
    names = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert ipaddress.ip_address("10.0.0.1") in names.value.get_values_for_type(x509.IPAddress)
