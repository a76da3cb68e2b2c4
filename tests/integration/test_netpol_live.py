"""NetworkPolicies through the real API server: kubectl apply, validation, and the live matrix."""

from __future__ import annotations

import json

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
