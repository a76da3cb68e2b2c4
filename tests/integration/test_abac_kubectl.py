"""ABAC against a real server: upstream's decisions through SubjectAccessReview, the course's
policy file with the real kubectl, reloading without a restart, who-can and explain."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import running_cluster

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "corpus" / "abac_upstream.yaml").read_text())


def replace_file(path: Path, text: str) -> None:
    """Write as editors and config managers do: a new file renamed over the old one."""
    staging = path.with_suffix(".new")
    staging.write_text(text)
    os.replace(staging, path)


def review(cluster: Any, spec: dict[str, Any]) -> dict[str, Any]:
    # admin.conf is kubeadm:cluster-admins, bound by RBAC: with ABAC alone only system:masters
    # (decided before any mode) may ask.
    reviewer = cluster.data_dir / "users" / "reviewer.conf"
    if not reviewer.exists():
        cluster.kubeconfig_for("reviewer", ["system:masters"], path=reviewer)
    credentials = ClientCredentials.from_kubeconfig(reviewer)
    request = urllib.request.Request(
        f"{cluster.url}/apis/authorization.k8s.io/v1/subjectaccessreviews",
        data=json.dumps(
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30) as answer:
        return dict(json.loads(answer.read())["status"])


def corpus_spec(case: list[str]) -> dict[str, Any]:
    _, user, verb, namespace, api_group, resource, path, _ = case
    spec: dict[str, Any] = {"user": user, "groups": CORPUS["users"][user]["groups"]}
    if namespace or resource:
        spec["resourceAttributes"] = {
            "verb": verb,
            "namespace": namespace,
            "group": api_group,
            "resource": resource,
        }
    else:
        spec["nonResourceAttributes"] = {"verb": verb, "path": path}
    return spec


def wait_until(check: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def abac_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    policy = tmp_path_factory.mktemp("abac") / "policy.jsonl"
    policy.write_text(CORPUS["files"]["v0"])
    with running_cluster(
        authorization_mode="ABAC",
        controller_manager=False,
        server_options={"authorization_policy_file": policy},
    ) as cluster:
        yield cluster, policy


def test_upstream_corpus_through_subject_access_review(abac_only: tuple[Any, Path]) -> None:
    cluster, policy = abac_only
    failures = []
    for file_name in ("v0", "v1beta1"):
        replace_file(policy, CORPUS["files"][file_name])
        marker = [c for c in CORPUS["cases"] if c[0] == file_name][-1]
        expected = marker[-1] == "allow"
        wait_until(
            lambda m=marker, e=expected: review(cluster, corpus_spec(m))["allowed"] is e,  # type: ignore[misc]
            f"{policy} to be reloaded as the {file_name} file",
        )
        for case in (c for c in CORPUS["cases"] if c[0] == file_name):
            status = review(cluster, corpus_spec(case))
            allowed = case[-1] == "allow"
            if status.get("allowed", False) is not allowed or status.get("denied", False):
                failures.append((case, status))
            if not allowed and status.get("reason") != "No policy matched.":
                failures.append((case, status))
    assert failures == []


COURSE_POLICY = (
    '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
    ' "spec": {"user": "dev-user", "namespace": "*", "resource": "pods", "apiGroup": "*"}}\n'
)
DEPLOYMENTS_LINE = (
    '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
    ' "spec": {"user": "dev-user", "namespace": "*", "resource": "deployments", "apiGroup": "apps"}}\n'
)


def test_the_course_policy_file_with_kubectl(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = tmp_path / "policy.jsonl"
    policy.write_text(COURSE_POLICY)
    with running_cluster(
        authorization_mode="ABAC,RBAC",
        controller_manager=False,
        server_options={"authorization_policy_file": policy},
    ) as cluster:
        dev = Kubectl(cluster.kubeconfig_for("dev-user"), tmp_path / "home")
        assert dev.run("get", "pods", "-n", "default").returncode == 0
        assert dev.run("auth", "can-i", "create", "pods").stdout.strip() == "yes"
        refused = dev.run("create", "deployment", "web", "--image=nginx", check=False)
        assert refused.returncode != 0
        assert (
            'User "dev-user" cannot create resource "deployments" in API group "apps"'
            in refused.stderr
        )

        started = time.monotonic()
        replace_file(policy, COURSE_POLICY + DEPLOYMENTS_LINE)
        wait_until(
            lambda: (
                dev.run("auth", "can-i", "create", "deployments", check=False).stdout.strip()
                == "yes"
            ),
            "the added line to apply",
        )
        assert time.monotonic() - started < 10  # the file is followed, no restart

        with caplog.at_level(logging.ERROR, logger="kubeward"):
            replace_file(policy, COURSE_POLICY + '{"user": "dev-user", \n')
            # The file is checked when a request is authorized.
            wait_until(
                lambda: (
                    dev.run("auth", "can-i", "get", "pods").returncode == 0
                    and "keeping the previous contents" in caplog.text
                ),
                "the broken edit logged",
            )
        assert f"error reading policy file {policy}, line 2" in caplog.text
        assert dev.run("auth", "can-i", "create", "deployments").stdout.strip() == "yes"

        home = tmp_path / "home-admin"
        env = dict(os.environ, HOME=str(home), KUBECONFIG=str(cluster.admin_kubeconfig))

        def kubeward_rbac(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "kubeward", "rbac", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )

        explained = kubeward_rbac("explain", "--as", "dev-user", "create", "deployments")
        assert explained.returncode == 0, explained.stderr
        assert f"allowed by ABAC policy {policy}, line 2" in explained.stdout

        who = kubeward_rbac("who-can", "get", "pods", "-n", "dev", "-o", "json")
        assert who.returncode == 0, who.stderr
        grants = json.loads(who.stdout)
        assert {
            "subject": {"kind": "User", "name": "dev-user"},
            "policy": {"file": str(policy), "line": 1},
        } in grants
