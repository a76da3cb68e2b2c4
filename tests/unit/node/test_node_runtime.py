"""The simulated runtime on plain values: programs, filesystems, restarts and pod status."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeward.node import commands
from kubeward.node.clock import FakeClock
from kubeward.node.filesystem import FileSystem
from kubeward.node.logs import ContainerLog
from kubeward.node.pod_status import phase_of, pod_status, waiting_pod_status
from kubeward.node.runtime import Sandbox, make_container
from kubeward.node.volumes import PodVolumes

TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _fs() -> FileSystem:
    fs = FileSystem(base={"/etc/hostname": b"web\n"})
    fs.mount(TOKEN_DIR, {"token": b"jwt", "ca.crt": b"PEM", "namespace": b"default"})
    fs.mount("/cache", {})
    return fs


@pytest.mark.parametrize(
    ("argv", "stdout", "stderr", "code"),
    [
        ([], b"", b"", None),
        (["sleep", "3600"], b"", b"", 0),
        (["sleep", "infinity"], b"", b"", None),
        (["sleep", "x"], b"", b"sleep: invalid number 'x'\n", 1),
        (["rm", "/nope"], b"", b"rm: can't remove '/nope': No such file or directory\n", 1),
        (["rm", "-f", "/nope"], b"", b"", 0),
        (["rm", "/tmp"], b"", b"rm: '/tmp' is a directory\n", 1),
        (["touch", "/a/b"], b"", b"touch: /a/b: No such file or directory\n", 1),
        (["mkdir", "/tmp"], b"", b"mkdir: can't create directory '/tmp': File exists\n", 1),
        (["sh", "-c", "touch /tmp/h && cat /tmp/h && echo ok"], b"ok\n", b"", 0),
        (
            ["sh", "-c", "mkdir -p /a/b; touch /a/b/f; ls /a/b; rm -r /a; ls /a"],
            b"f\n",
            b"ls: /a: No such file or directory\n",
            1,
        ),
        (["sh", "-c", "echo one\necho two"], b"one\ntwo\n", b"", 0),
        (["echo", "a", "b"], b"a b\n", b"", 0),
        (["echo", "-n", "x"], b"x", b"", 0),
        (["cat", f"{TOKEN_DIR}/token"], b"jwt", b"", 0),
        (["cat", "/nope"], b"", b"cat: can't open '/nope': No such file or directory\n", 1),
        (["ls", TOKEN_DIR], b"ca.crt\nnamespace\ntoken\n", b"", 0),
        (["ls", "/var/run/secrets"], b"kubernetes.io\n", b"", 0),
        (["ls", "/cache"], b"", b"", 0),
        (["ls", "/nope"], b"", b"ls: /nope: No such file or directory\n", 1),
        (["env"], b"A=1\n", b"", 0),
        (["sh", "-c", "echo $A; exit 4"], b"1\n", b"", 4),
        (["sh", "-c", "false && echo no || echo yes"], b"yes\n", b"", 0),
        (["sh", "-c", "nothere"], b"", b"sh: nothere: not found\n", 127),
        (["nothere"], b"", b'exec: "nothere": executable file not found in $PATH\n', 127),
        (["/bin/sh", "-c", "cat /etc/hostname"], b"web\n", b"", 0),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_programs_answer_as_busybox_does(
    argv: list[str], stdout: bytes, stderr: bytes, code: int | None
) -> None:
    outcome = commands.run(argv, _fs(), {"A": "1"})
    assert (outcome.stdout, outcome.stderr, outcome.exit_code) == (stdout, stderr, code)


def test_cat_reads_stdin() -> None:
    assert commands.run(["cat"], _fs(), {}, stdin=b"in").stdout == b"in"


def test_a_process_sleeps_on_its_clock_and_writes_as_it_goes() -> None:
    clock = FakeClock()
    fs = _fs()
    log = ContainerLog()
    script = "echo start; touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; echo gone; sleep 600"
    process = commands.Process(["sh", "-c", script], fs, {}, clock(), on_write=log.write)
    assert (process.running, fs.read("/tmp/healthy"), log.data()) == (True, b"", b"start\n")
    assert process.wake_at == clock() + datetime.timedelta(seconds=30)
    process.advance(clock.step(29))
    assert fs.read("/tmp/healthy") == b""
    process.advance(clock.step(1))
    assert fs.read("/tmp/healthy") is None and log.data() == b"start\ngone\n"
    assert [when for when, _ in log.lines] == [clock() - datetime.timedelta(seconds=30), clock()]
    process.advance(clock.step(600))
    assert (process.running, process.exit_code) == (False, 0)


def test_an_emptydir_is_shared_by_the_containers_mounting_it() -> None:
    shared: dict[str, bytes] = {}
    one, two = FileSystem(), FileSystem()
    one.mount("/data", shared)
    two.mount("/other", shared)
    one.write("/data/x", b"1")
    assert two.read("/other/x") == b"1"
    assert one.read("/data/../data/./x") == b"1"


def _pod(restart: str, *commands_: list[str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {
            "restartPolicy": restart,
            "containers": [
                {"name": f"c{i}", "image": "busybox", "command": argv}
                for i, argv in enumerate(commands_)
            ],
        },
        "status": {"phase": "Pending"},
    }


def _sandbox(pod: dict[str, Any]) -> Sandbox:
    sandbox = Sandbox("ns", "p", "u", "10.0.0.2", PodVolumes(), pod["spec"]["restartPolicy"])
    for spec in pod["spec"]["containers"]:
        sandbox.containers.append(make_container(spec, pod, "10.0.0.2", PodVolumes(), {}))
    sandbox.advance(NOW)
    return sandbox


@pytest.mark.parametrize(
    ("restart", "argvs", "phase"),
    [
        ("Never", (["echo", "hi"],), "Succeeded"),
        ("Never", (["sh", "-c", "exit 2"],), "Failed"),
        ("OnFailure", (["true"],), "Succeeded"),
        ("OnFailure", (["false"],), "Running"),
        ("Always", (["true"],), "Running"),
        ("Never", (["sleep", "1"], ["exit", "1"]), "Running"),
    ],
)
def test_the_phase_follows_exit_codes_and_the_restart_policy(
    restart: str, argvs: tuple[list[str], ...], phase: str
) -> None:
    sandbox = _sandbox(_pod(restart, *argvs))
    assert phase_of(sandbox) == phase


def test_a_failing_container_backs_off_and_counts_restarts() -> None:
    pod = _pod("Always", ["sh", "-c", "echo boom; exit 1"])
    sandbox = _sandbox(pod)
    now = NOW
    assert sandbox.advance(now) == 10.0  # restarted at once the first time, then backs off
    c = sandbox.containers[0]
    assert c.restart_count == 1
    assert c.state["waiting"]["reason"] == "CrashLoopBackOff"
    assert c.last_state["terminated"]["exitCode"] == 1
    first_id = c.last_state["terminated"]["containerID"]
    assert sandbox.advance(now + datetime.timedelta(seconds=10)) == 20.0  # doubled
    assert c.restart_count == 2
    assert c.last_state["terminated"]["containerID"] != first_id  # an ID per instance
    assert c.log.data() == b"boom\n"
    assert c.previous_log is not None and c.previous_log.data() == b"boom\n"
    status = pod_status(pod, sandbox, "192.0.2.1")
    assert status["containerStatuses"][0]["restartCount"] == 2
    ready = {x["type"]: x["status"] for x in status["conditions"]}["Ready"]
    assert ready == "False"


def test_a_container_that_ran_long_enough_restarts_at_once_again() -> None:
    sandbox = _sandbox(_pod("Always", ["sh", "-c", "echo up; sleep 700; exit 1"]))
    c = sandbox.containers[0]
    assert sandbox.advance(NOW + datetime.timedelta(seconds=700)) == 700.0
    assert c.restart_count == 1  # at once the first time
    assert sandbox.advance(NOW + datetime.timedelta(seconds=1400)) == 700.0
    assert (c.restart_count, c.running) == (2, True)  # 700 s up: the back-off was forgotten
    assert c.log.lines[0][0] == NOW + datetime.timedelta(seconds=1400)


def test_a_pod_that_cannot_mount_waits_in_container_creating() -> None:
    status = waiting_pod_status(
        _pod("Always", ["sleep", "1"]), "192.0.2.1", "ContainerCreating", ""
    )
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}


def test_volume_mounts_and_sub_paths_reach_the_container() -> None:
    pod = _pod("Always", ["sleep", "1"])
    spec = {
        "name": "c",
        "image": "busybox",
        "volumeMounts": [
            {"name": "cfg", "mountPath": "/etc/app"},
            {"name": "cfg", "mountPath": "/etc/one.conf", "subPath": "one"},
        ],
    }
    volumes = PodVolumes(files={"cfg": {"one": b"1", "two": b"2"}})
    container = make_container(spec, pod, "10.0.0.2", volumes, {})
    assert container.exec(["ls", "/etc/app"]).stdout == b"one\ntwo\n"
    assert container.exec(["cat", "/etc/one.conf"]).stdout == b"1"
    assert container.exec(["cat", "/etc/hosts"]).stdout.endswith(b"10.0.0.2\tp\n")


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("nginx", "docker.io"),
        ("library/nginx:1.27", "docker.io"),
        ("private-registry.io/apps/internal-app", "private-registry.io"),
        ("localhost/app", "localhost"),
        ("registry:5000/app", "registry:5000"),
    ],
)
def test_an_image_names_its_registry(image: str, registry: str) -> None:
    from kubeward.node.images import registry_of

    assert registry_of(image) == registry


def test_a_dockerconfigjson_secret_names_its_hosts() -> None:
    import base64
    import json

    from kubeward.node.images import secret_hosts

    config = {"auths": {"https://private-registry.io/v1/": {"auth": "eDp5"}, "other.io": {}}}
    data = base64.b64encode(json.dumps(config).encode()).decode()
    secret = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": data}}
    assert secret_hosts(secret) == {"private-registry.io", "other.io"}
    assert secret_hosts({**secret, "type": "Opaque"}) == set()
    assert secret_hosts({**secret, "data": {".dockerconfigjson": "!!"}}) == set()
