"""``kubeward config`` against the real ``kubectl config`` on the same files.

Every comparison runs both tools on identical copies of the same kubeconfigs (HOME pointed at a
temporary folder so ~/.kube is never touched) and requires the same output and, for edits, the
same bytes in every file afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import pytest

from kubeward.cli.main import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]


class Where(TypedDict):
    cwd: Path
    home: Path
    kubeconfig: str | None


def _env(home: Path, kubeconfig: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    if kubeconfig is not None:
        env["KUBECONFIG"] = kubeconfig
    return env


def run_kubectl(args: list[str], *, cwd: Path, home: Path, kubeconfig: str | None) -> Result:
    done = subprocess.run(
        ["kubectl", "config", *args],
        cwd=cwd,
        env=_env(home, kubeconfig),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def run_kubeward(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runner:
    """The console entry point, in process (the subprocess form is tested for errors below)."""

    def run(args: list[str], *, cwd: Path, home: Path, kubeconfig: str | None) -> Result:
        with monkeypatch.context() as patch:
            patch.chdir(cwd)
            patch.setenv("HOME", str(home))
            if kubeconfig is None:
                patch.delenv("KUBECONFIG", raising=False)
            else:
                patch.setenv("KUBECONFIG", kubeconfig)
            capsys.readouterr()
            try:
                main(["config", *args])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


# --- reading: view and get-contexts -----------------------------------------------------------

CORPUS = {
    "certificates-and-tokens": """
apiVersion: v1
kind: Config
current-context: ctx-a
preferences: {}
clusters:
- name: zeta
  cluster:
    server: https://z:6443
    certificate-authority: ca/ca.crt
    extensions:
    - name: my-ext
      extension: {hello: world}
- name: alpha
  cluster:
    server: https://a:6443
    certificate-authority-data: aGVsbG8=
    insecure-skip-tls-verify: false
users:
- name: u1
  user: {token: secret-token, password: pw, username: bob}
- name: u2
  user: {client-certificate-data: aGVsbG8=, client-key-data: aGVsbG8=}
- name: u3
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /bin/echo
      args: [a]
      env: null
      interactiveMode: Never
contexts:
- name: ctx-a
  context: {cluster: alpha, user: u1, namespace: ns1}
- name: b-long-context-name
  context: {cluster: zeta, user: u2}
""",
    "plugins-and-impersonation": """
current-context: e
clusters:
- name: c
  cluster: {}
users:
- name: ap
  user:
    auth-provider:
      name: oidc
      config: {id-token: abc, client-secret: s, refresh-token: r}
- name: ex
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: foo}
- name: imp
  user:
    as: alice
    as-groups: [g1]
    as-user-extra: {k: [v]}
    tokenFile: /tmp/tok
    username: u
contexts:
- name: e
  context: {cluster: c}
""",
    "extensions": """
users:
- name: u
  user:
    exec:
      command: x
      apiVersion: client.authentication.k8s.io/v1beta1
      env: [{name: SECRET, value: s3cr3t}]
    extensions:
    - {name: b, extension: {z: 1, a: [1, 2.5, true, null]}}
    - {name: a, extension: str}
preferences:
  extensions:
  - {name: p, extension: {}}
extensions:
- {name: top, extension: {k: v}}
""",
    "quoting": """
users:
- name: u
  user:
    token: "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp"
    username: "multi\\nline"
    password: "trailing space "
    as: "#hash"
    as-uid: "*star"
    as-groups: ["- dash", "a: b", "ünïcode", "'q", "", "0755", "1e3", "2024-01-01", ".5",
      "0x1F", "1_000", "null", "~", "<<", "@at", "%pct", "!bang", "&amp", "a #b", "y", "off"]
""",
    "exec-v1-and-line-broken-base64": """
clusters:
- cluster: {server: https://noname}
users:
- name: ex1
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: x
      args: []
      env: [{name: A, value: b}]
- name: wrapped
  user: {client-certificate-data: "aGVs\\nbG8="}
""",
    "json": '{"apiVersion": "v1", "kind": "Config", "current-context": "j", "contexts": '
    '[{"name": "j", "context": {"cluster": "jc", "user": "ju"}}], "clusters": [{"name": "jc",'
    ' "cluster": {"server": "https://j", "certificate-authority": "ca/ca.crt"}}], "users": '
    '[{"name": "ju", "user": {"client-key": "ca/ca.crt"}}]}',
    "empty": "",
}
VIEWS = [
    ["view"],
    ["view", "--raw"],
    ["view", "-o", "json"],
    ["view", "--raw", "-o", "json"],
    ["view", "--minify"],
    ["view", "--minify", "--raw", "--context", "b-long-context-name"],
    ["view", "--flatten"],
    ["get-contexts"],
    ["get-contexts", "-o", "name"],
    ["get-contexts", "--no-headers"],
    ["get-contexts", "ctx-a"],
    ["current-context"],
    ["get-clusters"],
    ["get-users"],
]


@pytest.mark.parametrize("args", VIEWS, ids=lambda a: " ".join(a))
@pytest.mark.parametrize("name", list(CORPUS), ids=list(CORPUS))
def test_kubeconfig_reads_like_kubectl(
    name: str, args: list[str], tmp_path: Path, home: Path, run_kubeward: Runner
) -> None:
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "kubeconfig"
    path.write_text(CORPUS[name])
    where = Where(cwd=tmp_path, home=home, kubeconfig=str(path))
    expected = run_kubectl(args, **where)
    got = run_kubeward(args, **where)
    assert got.code == (1 if expected.code else 0)
    if args[0] in ("get-clusters", "get-users"):
        # kubectl prints these in Go map order (random); kubeward sorts them.
        assert sorted(got.out.splitlines()) == sorted(expected.out.splitlines())
    else:
        assert got.out == expected.out
    if expected.code == 0:
        assert got.err == expected.err == ""
    else:
        assert got.err.startswith("error: ") and got.err.count("\n") == 1


# --- merging: the KUBECONFIG path list --------------------------------------------------------

ONE = """
apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://one:6443", certificate-authority: ca1.crt}
users:
- name: shared-user
  user: {token: t1}
contexts:
- name: shared-ctx
  context: {cluster: shared, user: shared-user, namespace: n1}
- name: only-one
  context: {cluster: shared, user: shared-user}
"""
TWO = """
apiVersion: v1
kind: Config
current-context: only-two
preferences: {colors: true}
clusters:
- name: shared
  cluster: {server: "https://two:6443", tls-server-name: two}
- name: c2
  cluster: {server: "https://c2:6443"}
users:
- name: shared-user
  user: {username: x, password: pw}
contexts:
- name: shared-ctx
  context: {cluster: c2, user: shared-user}
- name: only-two
  context: {cluster: c2, user: shared-user}
"""
THREE = "current-context: shared-ctx\n"


def _write_merge_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("one.yaml", ONE), ("two.yaml", TWO), ("three.yaml", THREE)):
        (folder / name).write_text(text)


@pytest.mark.parametrize(
    "order",
    [
        "one.yaml:two.yaml",
        "two.yaml:one.yaml",
        "three.yaml:one.yaml:two.yaml",
        "one.yaml:three.yaml:two.yaml",
        "missing.yaml:one.yaml::missing2.yaml:two.yaml",
        "one.yaml:two.yaml:one.yaml",
        "missing.yaml",
    ],
)
@pytest.mark.parametrize(
    "args",
    [["view", "--raw"], ["get-contexts"], ["current-context"], ["view", "--minify", "--raw"]],
    ids=lambda a: " ".join(a),
)
def test_kubeconfig_merges_like_kubectl(
    order: str, args: list[str], tmp_path: Path, home: Path, run_kubeward: Runner
) -> None:
    _write_merge_files(tmp_path)
    where = Where(cwd=tmp_path, home=home, kubeconfig=order)
    expected = run_kubectl(args, **where)
    got = run_kubeward(args, **where)
    assert (got.code, got.out) == (1 if expected.code else 0, expected.out)


def test_kubeconfig_without_kubeconfig_env_uses_home_config(
    tmp_path: Path, home: Path, run_kubeward: Runner
) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(TWO)
    where = Where(cwd=tmp_path, home=home, kubeconfig=None)
    got = run_kubeward(["get-contexts"], **where)
    assert got.out == run_kubectl(["get-contexts"], **where).out
    assert "only-two" in got.out
    for empty in ("", None):
        where["kubeconfig"] = empty
        assert run_kubeward(["current-context"], **where).out == "only-two\n"


# --- editing: the same commands leave the same bytes -------------------------------------------

EDITS = [
    "use-context only-one",
    "set-context newctx --cluster=c2 --user=shared-user --namespace=ns",
    "set-context only-two --namespace=zz",
    "set-context --current --namespace=cur",
    "set-cluster shared --server=https://changed --certificate-authority=sub/c.crt",
    "set-cluster c2 --certificate-authority=sub/c.crt --embed-certs",
    "set-cluster newc --server=https://n --insecure-skip-tls-verify",
    "set-cluster newc --tls-server-name=foo --insecure-skip-tls-verify=false",
    "set-cluster newc --certificate-authority=../outside.crt",
    "set-cluster newc --proxy-url=http://proxy:3128",
    "set-credentials shared-user --client-certificate=sub/c.crt --client-key=sub/c.key",
    "set-credentials u9 --client-certificate=sub/c.crt --client-key=sub/c.key --embed-certs",
    "set-credentials u9 --token=abc",
    "set-credentials u9 --username=a --password=b",
    "set-credentials u9 --embed-certs=true --client-key=sub/c.key",
    "rename-context only-one renamed",
    "rename-context only-two renamed2",
    "delete-context newctx",
    "delete-context renamed",
    "use-context shared-ctx",
    "delete-cluster newc",
    "delete-user u9",
    "delete-user nope",
    "use-context nope",
    "rename-context shared-ctx renamed2",
    "set-context",
    "set-cluster x --certificate-authority=sub/c.crt --insecure-skip-tls-verify",
    "set-cluster x --embed-certs",
    "set-credentials x --token=t --username=u",
    "set-credentials x --client-certificate=missing.crt --embed-certs",
    "current-context",
    "get-contexts",
    "view",
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """File contents, with the two copies' differing parent folder written the same."""
    root = str(folder.parent).encode()
    return {
        str(p.relative_to(folder)): p.read_bytes().replace(root, b"<root>")
        for p in folder.rglob("*")
        if p.is_file()
    }


def _modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


def _same_messages(got: Result, expected: Result, roots: tuple[Path, Path]) -> None:
    def same(text: str, root: Path) -> str:
        return text.replace(str(root), "<root>").replace("kubectl config", "kubeward config")

    assert got.code == (1 if expected.code else 0)
    assert same(got.out, roots[0]) == same(expected.out, roots[1])
    assert same(got.err, roots[0]) == same(expected.err, roots[1])


@pytest.mark.parametrize(
    "kubeconfig",
    ["one.yaml:two.yaml:three-missing.yaml", "--kubeconfig=fresh/kc", "--kubeconfig=two.yaml"],
    ids=["path-list", "explicit-new-file", "explicit-existing-file"],
)
def test_kubeconfig_edits_like_kubectl(
    kubeconfig: str, tmp_path: Path, home: Path, run_kubeward: Runner
) -> None:
    folders = {"kubectl": tmp_path / "k" / "work", "kubeward": tmp_path / "w" / "work"}
    for folder in folders.values():
        _write_merge_files(folder)
        (folder / "sub").mkdir()
        (folder / "sub" / "c.crt").write_text("CERT\n")
        (folder / "sub" / "c.key").write_text("KEY\n")
    flag = [kubeconfig] if kubeconfig.startswith("--") else []
    env = None if flag else kubeconfig
    initial = _snapshot(folders["kubeward"])
    for step in EDITS:
        args = [*step.split(), *flag]
        expected = run_kubectl(args, cwd=folders["kubectl"], home=home, kubeconfig=env)
        got = run_kubeward(args, cwd=folders["kubeward"], home=home, kubeconfig=env)
        roots = (folders["kubeward"].parent, folders["kubectl"].parent)
        _same_messages(got, expected, roots)
        assert _snapshot(folders["kubeward"]) == _snapshot(folders["kubectl"]), step
    # kubectl keeps an existing file's mode; kubeward writes every file it changes 0600.
    final, modes = _snapshot(folders["kubeward"]), _modes(folders["kubeward"])
    changed = [name for name in final if initial.get(name) != final[name]]
    assert changed
    assert {name: modes[name] for name in changed} == dict.fromkeys(changed, 0o600)


def test_kubeconfig_kubectl_reads_what_kubeward_wrote(
    tmp_path: Path, home: Path, run_kubeward: Runner
) -> None:
    kc = tmp_path / "kc"
    where = Where(cwd=tmp_path, home=home, kubeconfig=str(kc))
    for step in (
        "set-cluster prod --server=https://prod:6443",
        "set-credentials admin --token=secret",
        "set-context admin@prod --cluster=prod --user=admin --namespace=apps",
        "set-context dev --cluster=prod --user=admin",
        "use-context admin@prod",
    ):
        assert run_kubeward(step.split(), **where).code == 0
    assert stat.S_IMODE(kc.stat().st_mode) == 0o600
    listing = run_kubectl(["get-contexts"], **where)
    assert listing.out.splitlines()[1].split() == ["*", "admin@prod", "prod", "admin", "apps"]
    assert run_kubectl(["use-context", "dev"], **where).out == 'Switched to context "dev".\n'
    assert run_kubeward(["current-context"], **where).out == "dev\n"


# --- bad input: one line, non-zero, nothing changed ---------------------------------------------


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


GARBAGE = "clusters: [\n  - name: x\n    cluster: {server: \n"


@pytest.mark.parametrize(
    ("kubeconfig", "args", "message"),
    [
        ("garbage.yaml", ["view"], "error: garbage.yaml: not valid YAML at line"),
        ("good.yaml:garbage.yaml", ["set-context", "x", "--namespace=y"], "error: garbage.yaml"),
        ("list.yaml", ["get-contexts"], "error: list.yaml: not a kubeconfig"),
        ("good.yaml", ["use-context", "nope"], 'error: no context exists with the name: "nope"'),
        (
            "good.yaml",
            ["set-cluster", "c", "--certificate-authority=missing.crt", "--embed-certs"],
            "error: could not stat certificate-authority file missing.crt",
        ),
        ("good.yaml", ["delete-context", "nope"], "error: cannot delete context nope, not in"),
        ("good.yaml", ["rename-context", "a", "b"], 'error: cannot rename the context "a"'),
        ("good.yaml", ["view", "--flatten"], "error: "),
        ("good.yaml", ["view", "--minify", "--context", "zz"], "error: cannot locate context zz"),
    ],
    ids=[
        "garbage-yaml",
        "garbage-in-list",
        "not-a-mapping",
        "unknown-context",
        "missing-embed-file",
        "delete-unknown",
        "rename-onto-existing",
        "flatten-missing-file",
        "minify-unknown-context",
    ],
)
def test_kubeconfig_bad_input_is_one_line_and_changes_nothing(
    kubeconfig: str, args: list[str], message: str, tmp_path: Path, home: Path
) -> None:
    (tmp_path / "garbage.yaml").write_text(GARBAGE)
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    (tmp_path / "good.yaml").write_text(
        "current-context: a\nclusters:\n- name: c\n  cluster: {certificate-authority: gone.crt}\n"
        "contexts:\n- {name: a, context: {cluster: c}}\n- {name: b, context: {cluster: c}}\n"
    )
    before = _digests(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "kubeward", "config", *args],
        cwd=tmp_path,
        env=_env(home, kubeconfig),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    after = _digests(tmp_path)
    assert after == before
    assert run_kubectl(args, cwd=tmp_path, home=home, kubeconfig=kubeconfig).code != 0


def test_kubeconfig_home_is_not_touched(tmp_path: Path, home: Path, run_kubeward: Runner) -> None:
    kc = tmp_path / "kc"
    run_kubeward(
        ["set-cluster", "c", "--server=https://c"], cwd=tmp_path, home=home, kubeconfig=str(kc)
    )
    assert kc.exists()
    assert list(home.iterdir()) == []
    shutil.rmtree(home)
