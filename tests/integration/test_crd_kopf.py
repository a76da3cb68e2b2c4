"""kopf end to end: an operator runs with ``kopf run`` and peering on, against ``kubeward up``
(a subprocess) and against ``kubeward.testing``'s cluster.

The test installs kopf's peering definitions (``kopfpeerings.kopf.dev``,
``clusterkopfpeerings.kopf.dev``, as kopf's ``peering.yaml`` declares them), a peering object
and the operator's own definition, then checks what each handler of
``kopf_operator.py`` leaves behind: the create handler's result and the update handler's patch
in ``status``, the timer's ticks, kopf's finalizer on the object, the operator's presence in the
peering object's ``status``, and the delete handler having run before the object went.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster
from kubeward.testing.cluster import free_port

HERE = Path(__file__).parent
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"
PEERING = "kubeward-e2e"


def peering_definition(kind: str, plural: str, scope: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kopf.dev"},
        "spec": {
            "scope": scope,
            "group": "kopf.dev",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "status": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


GREETINGS = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "greetings.ops.example.com"},
    "spec": {
        "scope": "Namespaced",
        "group": "ops.example.com",
        "names": {"kind": "Greeting", "plural": "greetings", "singular": "greeting"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"message": {"type": "string"}},
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


def kubeward_up(data_dir: Path) -> Iterator[Path]:
    """``kubeward up`` in a subprocess; its admin kubeconfig."""
    port = free_port()
    data_dir.mkdir(parents=True)
    with (data_dir.parent / "kubeward-up.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubeward", "up", "--data-dir", str(data_dir),
             "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log,  # a file, not a pipe nobody reads: the server may log a lot
            text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("kubeward is up: https://127.0.0.1:"), first
            yield data_dir / "admin.conf"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


def in_process(data_dir: Path) -> Iterator[Path]:
    """``kubeward.testing``'s cluster in this process; its admin kubeconfig."""
    with running_cluster(data_dir=data_dir, controller_manager=False) as cluster:
        yield cluster.admin_kubeconfig


@pytest.fixture(params=[kubeward_up, in_process], ids=["kubeward-up", "kubeward-testing"])
def kubeconfig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    start: Callable[[Path], Iterator[Path]] = request.param
    yield from start(tmp_path / "data")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_kopf_operator_runs_its_handlers_with_peering(kubeconfig: Path, tmp_path: Path) -> None:
    kubectl = Kubectl(kubeconfig, tmp_path / "home")
    for crd in (
        peering_definition("KopfPeering", "kopfpeerings", "Namespaced"),
        peering_definition("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
        GREETINGS,
    ):
        kubectl.run("apply", "-f", "-", input=json.dumps(crd))
        kubectl.run(
            "wait", "--for", "condition=established", "--timeout=20s",
            f"crd/{crd['metadata']['name']}",
        )  # fmt: skip
    kubectl = Kubectl(kubeconfig, tmp_path / "home2")  # a fresh discovery cache
    kubectl.run(
        "apply", "-f", "-",
        input=json.dumps(
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": PEERING}}
        ),
    )  # fmt: skip

    log = tmp_path / "handlers.jsonl"
    log.touch()
    output = (tmp_path / "kopf.out").open("w")
    operator = subprocess.Popen(
        [
            sys.executable, "-m", "kopf", "run", "--all-namespaces", f"--peering={PEERING}",
            "--verbose", str(HERE / "kopf_operator.py"),
        ],
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "KOPF_TEST_LOG": str(log)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )  # fmt: skip

    def events() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines()]

    def greeting() -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            kubectl.run("get", "greetings", "g1", "-n", "default", "-o", "json").stdout
        )
        return found

    try:
        kubectl.run(
            "create", "-f", "-",
            input=json.dumps({
                "apiVersion": "ops.example.com/v1", "kind": "Greeting",
                "metadata": {"name": "g1", "namespace": "default"},
                "spec": {"message": "world"},
            }),
        )  # fmt: skip
        wait_for(
            "the create handler's result in status",
            lambda: (greeting().get("status") or {}).get("created") == {"reply": "hello, world"},
        )
        assert FINALIZER in greeting()["metadata"]["finalizers"]
        assert {"event": "create", "name": "g1", "message": "world"} in events()

        kubectl.run(
            "patch", "greeting", "g1", "-n", "default", "--type=merge",
            "-p", '{"spec":{"message":"again"}}',
        )  # fmt: skip
        wait_for(
            "the update handler's status patch",
            lambda: (greeting().get("status") or {}).get("lastMessage") == "again",
        )
        assert {"event": "update", "name": "g1", "message": "again"} in events()
        wait_for("two timer ticks", lambda: (greeting().get("status") or {}).get("ticks", 0) >= 2)

        peering = json.loads(kubectl.run("get", "clusterkopfpeering", PEERING, "-o", "json").stdout)
        assert peering.get("status"), "the operator announced itself in the peering object"

        kubectl.run("delete", "greeting", "g1", "-n", "default", "--timeout=60s")
        gone = kubectl.run("get", "greeting", "g1", "-n", "default", check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr
        deletions = [e for e in events() if e["event"] == "delete"]
        assert len(deletions) == 1 and deletions[0]["ticks"] >= 2
    finally:
        operator.send_signal(signal.SIGINT)
        try:
            operator.wait(timeout=30)
        finally:
            operator.kill()
            output.close()
    text = (tmp_path / "kopf.out").read_text()
    assert "Traceback" not in text, text[-4000:]
