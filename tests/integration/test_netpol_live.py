"""NetworkPolicies through the real API server: kubectl apply, validation, and the live matrix."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from kubeward.cli.main import main

THREE_TIER = [
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"env": "prod"}},
    },
    *[
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "prod", "labels": {"role": name}},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "nginx",
                        "ports": [{"containerPort": port, "name": pname}],
                    }
                ]
            },
        }
        for name, port, pname in (("web", 80, "http"), ("api", 5000, "api"), ("db", 3306, "mysql"))
    ],
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "db-policy", "namespace": "prod"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"role": "api"}}}],
                    "ports": [{"protocol": "TCP", "port": 3306}],
                }
            ],
        },
    },
]


def _set_pod_ips(cluster, kubectl) -> None:
    for i, name in enumerate(("web", "api", "db")):
        kubectl.run(
            "patch",
            "pod",
            name,
            "-n",
            "prod",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": {"podIP": f"10.0.0.{i + 10}", "phase": "Running"}}),
        )


def test_apply_network_policies_and_evaluate_the_live_cluster(cluster, kubectl, tmp_path, capsys):
    manifest = tmp_path / "three-tier.yaml"
    manifest.write_text(yaml.safe_dump_all(THREE_TIER))
    kubectl.run("apply", "-f", str(manifest))
    _set_pod_ips(cluster, kubectl)
    listed = kubectl.run("get", "networkpolicies", "-n", "prod").stdout
    assert listed.split()[:3] == ["NAME", "POD-SELECTOR", "AGE"] and "role=db" in listed
    stored = json.loads(
        kubectl.run("get", "netpol", "db-policy", "-n", "prod", "-o", "json").stdout
    )
    assert stored["spec"]["policyTypes"] == ["Ingress"]

    try:
        main(
            [
                "netpol",
                "matrix",
                "--kubeconfig",
                str(cluster.admin_kubeconfig),
                "-n",
                "prod",
                "--port",
                "3306/TCP",
                "-o",
                "json",
            ]
        )
    except SystemExit as exc:
        assert exc.code == 0
    table = json.loads(capsys.readouterr().out)
    pods = table["pods"]
    matrix = table["probes"][0]["matrix"]
    db = pods.index("prod/db")
    allowed_into_db = {pods[i] for i in range(len(pods)) if matrix[i][db]}
    assert allowed_into_db == {"prod/api"}


def test_invalid_network_policy_is_422_with_causes(kubectl, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "bad"},
                "spec": {
                    "podSelector": {},
                    "ingress": [
                        {
                            "ports": [{"port": 70000, "protocol": "TCP"}],
                            "from": [
                                {"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.1.0.0/24"]}}
                            ],
                        }
                    ],
                },
            }
        )
    )
    refused = kubectl.run("apply", "-f", str(bad), check=False)
    assert refused.returncode == 1
    assert 'The NetworkPolicy "bad" is invalid' in refused.stderr
    assert "spec.ingress[0].ports[0].port" in refused.stderr
    assert "spec.ingress[0].from[0].ipBlock.except[0]" in refused.stderr
    assert kubectl.run("get", "netpol", "bad", check=False).returncode == 1


# --- the course's backup-server ipBlock policy, against a live cluster (pods have no IPs) -----

COURSE_CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {name: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {role: db}}
spec: {containers: [{name: mysql, image: mysql, ports: [{containerPort: 3306}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-pod, namespace: prod, labels: {name: api-pod}}
spec: {containers: [{name: api, image: api, ports: [{containerPort: 5000}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-pod, namespace: prod, labels: {name: web-pod}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
"""

# The course's policy: the API pod of prod and the backup server (by IP) may reach the
# database on 3306; the database may send to the backup server on 80.
COURSE_DB_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: prod
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: api-pod
      namespaceSelector:
        matchLabels:
          name: prod
    - ipBlock:
        cidr: 192.168.5.10/32
    ports:
    - protocol: TCP
      port: 3306
  egress:
  - to:
    - ipBlock:
        cidr: 192.168.5.10/32
    ports:
    - protocol: TCP
      port: 80
"""


@pytest.fixture(scope="module")
def course_cluster(tmp_path_factory):
    from kubectl_runner import Kubectl

    from kubeward.testing import running_cluster

    d = tmp_path_factory.mktemp("netpol-course")
    with running_cluster(data_dir=d / "cluster") as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, d)
        (d / "cluster.yaml").write_text(COURSE_CLUSTER)
        (d / "db-policy.yaml").write_text(COURSE_DB_POLICY)
        kubectl.run("apply", "-f", str(d / "cluster.yaml"))
        kubectl.run("apply", "-f", str(d / "db-policy.yaml"))
        yield cluster, d


def kubeward_netpol(cluster, home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeward", "netpol", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, HOME=str(home)),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("source", "destination", "port", "code", "said"),
    [
        ("192.168.5.10", "prod/db", "3306", 0, "allowed: 192.168.5.10 -> prod/db on 3306/TCP"),
        ("192.168.5.11", "prod/db", "3306", 1, "denied: 192.168.5.11 -> prod/db on 3306/TCP"),
        ("prod/api-pod", "prod/db", "3306", 0, "allowed: prod/api-pod -> prod/db on 3306/TCP"),
        (
            "prod/web-pod",
            "prod/db",
            "3306",
            1,
            "prod/web-pod has no IP (no status.podIP), so no ipBlock can match it",
        ),
        ("prod/db", "192.168.5.10", "80", 0, "allowed: prod/db -> 192.168.5.10 on 80/TCP"),
        (
            "prod/db",
            "prod/api-pod",
            "5000",
            1,
            "prod/api-pod has no IP (no status.podIP), so no ipBlock can match it",
        ),
    ],
    ids=["backup-in", "neighbour-in", "api-in", "web-in", "to-backup", "to-api"],
)
@pytest.mark.parametrize("ipblock", ["--ipblock-matches-pods", "--no-ipblock-matches-pods"])
def test_course_backup_policy_against_the_live_cluster(
    course_cluster, ipblock, source, destination, port, code, said
):
    cluster, home = course_cluster
    result = kubeward_netpol(
        cluster,
        home,
        "check",
        "--kubeconfig",
        str(cluster.admin_kubeconfig),
        ipblock,
        "--from",
        source,
        "--to",
        destination,
        "--port",
        port,
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr == ""
    if ipblock == "--no-ipblock-matches-pods" and "no IP" in said:
        pod = said.split(" ", 1)[0]
        said = f"ipBlock peers match only addresses outside the cluster here, never a pod such as {pod}"
    assert said in result.stdout


def test_live_matrix_and_explain_of_pods_without_ips(course_cluster):
    cluster, home = course_cluster
    live = ["--kubeconfig", str(cluster.admin_kubeconfig)]
    matrix = kubeward_netpol(cluster, home, "matrix", *live, "-n", "prod", "--port", "3306")
    assert matrix.returncode == 0, matrix.stderr
    lines = matrix.stdout.splitlines()
    assert lines[:5] == [
        "3306/TCP:",
        "-\tprod/api-pod\tprod/db\tprod/web-pod",
        "prod/api-pod\t.\t.\t.",
        "prod/db\tX\tX\tX",
        "prod/web-pod\t.\tX\t.",
    ]
    assert lines[-1].startswith("Legend: each row is a source pod, each column a destination")
    explained = kubeward_netpol(cluster, home, "explain", *live, "--pod", "prod/db")
    assert explained.returncode == 0, explained.stderr
    assert (
        "peer 1 (IP addresses in 192.168.5.10/32) matches now: no pod "
        "(no pod has an IP, and a pod without one never matches an ipBlock)"
    ) in explained.stdout


def test_live_diff_lays_the_after_file_over_the_cluster(course_cluster):
    cluster, home = course_cluster
    # The change: the backup server moves to 192.168.5.20; only the policy is in the file.
    after = home / "db-policy-after.yaml"
    after.write_text(COURSE_DB_POLICY.replace("192.168.5.10/32", "192.168.5.20/32"))
    result = kubeward_netpol(
        cluster,
        home,
        "diff",
        "--kubeconfig",
        str(cluster.admin_kubeconfig),
        "--after",
        str(after),
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)
    # Pods come from the live cluster on both sides, so none appear or vanish, and no
    # pod-to-pod flow changes: the pods have no IPs for either ipBlock to match.
    assert changes["podsOnlyBefore"] == changes["podsOnlyAfter"] == []
    assert changes["opened"] == changes["closed"] == []
    # A new policy in the file is added to the live ones: it now isolates web-pod.
    deny_web = home / "deny-web.yaml"
    deny_web.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-web, namespace: prod}\n"
        "spec: {podSelector: {matchLabels: {name: web-pod}}, policyTypes: [Ingress]}\n"
    )
    result = kubeward_netpol(
        cluster,
        home,
        "diff",
        "--kubeconfig",
        str(cluster.admin_kubeconfig),
        "--after",
        str(deny_web),
        "--port",
        "80",
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    closed = {(c["from"], c["to"], c["port"]) for c in json.loads(result.stdout)["closed"]}
    assert ("prod/api-pod", "prod/web-pod", 80) in closed
    assert all(to == "prod/web-pod" for _, to, _ in closed)
