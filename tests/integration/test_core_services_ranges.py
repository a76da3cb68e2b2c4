"""Service ranges from the server's flags, stored allocations across a restart, and kubectl
apply of a Service (client- and server-side) keeping what the server allocated."""

from __future__ import annotations

import json
import subprocess
import sys

from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

SERVICE = """
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{port: {port}, targetPort: 8080}}]
"""


def test_ranges_from_options_survive_a_restart_and_apply_keeps_allocations(tmp_path):
    data_dir = tmp_path / "data"
    options = {"service_cluster_ip_range": "10.96.0.0/12", "service_node_port_range": "31000-31099"}
    with running_cluster(data_dir=data_dir, server_options=options) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
        first = json.loads(kubectl.run("get", "svc", "kubernetes", "-o", "json").stdout)
        assert first["spec"]["clusterIP"] == "10.96.0.1"
        kubectl.run("apply", "-f", "-", input=SERVICE.format(port=80))
        web = json.loads(kubectl.run("get", "svc", "web", "-o", "json").stdout)
        node_port = web["spec"]["ports"][0]["nodePort"]
        assert 31000 <= node_port <= 31099
        assert web["spec"]["clusterIP"].startswith("10.")
        kubectl.run("apply", "-f", "-", input=SERVICE.format(port=81))
        again = json.loads(kubectl.run("get", "svc", "web", "-o", "json").stdout)
        assert again["spec"]["clusterIP"] == web["spec"]["clusterIP"]
        assert again["spec"]["ports"][0]["port"] == 81
        ssa = SERVICE.replace("name: web", "name: web-ssa")
        kubectl.run("apply", "--server-side", "-f", "-", input=ssa.format(port=80))
        created = json.loads(kubectl.run("get", "svc", "web-ssa", "-o", "json").stdout)
        kubectl.run(
            "apply", "--server-side", "-f", "-", input=ssa.format(port=80).replace("8080", "9090")
        )
        server_side = json.loads(kubectl.run("get", "svc", "web-ssa", "-o", "json").stdout)
        assert server_side["spec"]["clusterIP"] == created["spec"]["clusterIP"]
        assert server_side["spec"]["ports"][0]["targetPort"] == 9090
        assert (
            server_side["spec"]["ports"][0]["nodePort"] == created["spec"]["ports"][0]["nodePort"]
        )
        port = cluster.port
    with running_cluster(data_dir=data_dir, server_options=options, port=port) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home2")
        taken = kubectl.run(
            "create",
            "service",
            "clusterip",
            "copy",
            "--tcp=80:80",
            f"--clusterip={web['spec']['clusterIP']}",
            check=False,
        )
        assert "provided IP is already allocated" in taken.stderr
        kept = json.loads(kubectl.run("get", "svc", "kubernetes", "-o", "json").stdout)
        assert kept["metadata"]["uid"] == first["metadata"]["uid"]


def test_up_refuses_a_bad_range_in_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubeward",
            "up",
            "--data-dir",
            str(tmp_path),
            "--service-cluster-ip-range",
            "banana",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--service-cluster-ip-range" in lines[0]
    assert "Traceback" not in result.stderr
