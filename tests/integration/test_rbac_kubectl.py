"""RBAC in the running server, through the real kubectl: the course's flow and its edges.

The cluster runs with ``--authorization-mode=RBAC`` (the default of ``running_cluster``); the
admin kubeconfig is kubernetes-admin in kubeadm:cluster-admins, allowed through the bootstrap
ClusterRoleBinding ``kubeadm:cluster-admins``. Bindings reach the authorizer through a watch,
so checks that follow a write retry for a while (``eventually``) instead of sleeping.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

DEVELOPER_ROLE = (
    "create",
    "role",
    "developer",
    "--verb=list,get,create,update,delete",
    "--resource=pods",
)


def eventually(check: Callable[[], Any], attempts: int = 100) -> Any:
    """Retry ``check`` until it stops raising AssertionError (the index follows a watch)."""
    for _ in range(attempts - 1):
        try:
            return check()
        except AssertionError:
            time.sleep(0.1)
    return check()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("rbac"), authorization_mode="RBAC"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def kubectl(cluster: Any, home: Path) -> Kubectl:
    return Kubectl(cluster.admin_kubeconfig, home)


@pytest.fixture(scope="module")
def developer(kubectl: Kubectl) -> None:
    kubectl.run(*DEVELOPER_ROLE)
    kubectl.run("create", "rolebinding", "developer-binding", "--role=developer", "--user=dev-user")


def can_i(kubectl: Kubectl, *args: str) -> tuple[int, str]:
    result = kubectl.run("auth", "can-i", *args, check=False)
    return result.returncode, result.stdout.strip()


def as_user(cluster: Any, home: Path, user: str, groups: tuple[str, ...] = ()) -> Kubectl:
    return Kubectl(cluster.kubeconfig_for(user, groups), home)


# --- the course's flow ----------------------------------------------------------------------


def test_admin_conf_is_allowed_through_the_kubeadm_binding(kubectl: Kubectl) -> None:
    binding = json.loads(
        kubectl.run("get", "clusterrolebinding", "kubeadm:cluster-admins", "-o", "json").stdout
    )
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kubeadm:cluster-admins"}
    ]
    assert can_i(kubectl, "delete", "nodes") == (0, "yes")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("create", "pods"), "yes"),
        (("list", "pods"), "yes"),
        (("create", "deployments"), "no"),
        (("delete", "nodes"), "no"),
        (("create", "pods", "-n", "kube-system"), "no"),
        (("get", "pods", "--subresource=log"), "no"),
        (("get", "pods/web"), "yes"),
    ],
    ids=[
        "create-pods",
        "list-pods",
        "create-deployments",
        "delete-nodes",
        "other-namespace",
        "subresource-not-granted",
        "by-name",
    ],
)
def test_can_i_as_dev_user(
    kubectl: Kubectl, developer: None, args: tuple[str, ...], expected: str
) -> None:
    def check() -> None:
        code, out = can_i(kubectl, *args, "--as", "dev-user")
        assert out.split(" ")[0] == expected, out
        assert code == (0 if expected == "yes" else 1)

    eventually(check)


def test_refusal_explains_what_was_checked(kubectl: Kubectl, developer: None) -> None:
    code, out = can_i(kubectl, "create", "deployments", "--as", "dev-user")
    assert code == 1
    assert out.startswith('no - RBAC: no rule allows User "dev-user"')
    assert "RoleBinding" in out


def test_cluster_role_binding_grants_nodes_cluster_wide(kubectl: Kubectl, developer: None) -> None:
    kubectl.run(
        "create", "clusterrole", "node-reader", "--verb=get,list,watch,delete", "--resource=nodes"
    )
    kubectl.run(
        "create",
        "clusterrolebinding",
        "node-reader-binding",
        "--clusterrole=node-reader",
        "--user=dev-user",
    )

    def check() -> None:
        assert can_i(kubectl, "delete", "nodes", "--as", "dev-user") == (0, "yes")

    eventually(check)
    assert can_i(kubectl, "list", "nodes", "--as", "dev-user", "-A") == (0, "yes")


def test_get_and_describe_roles_and_bindings(kubectl: Kubectl, developer: None) -> None:
    listed = kubectl.run("get", "roles,rolebindings").stdout
    assert "role.rbac.authorization.k8s.io/developer" in listed
    assert "rolebinding.rbac.authorization.k8s.io/developer-binding" in listed
    assert "Role/developer" in listed
    role = kubectl.run("describe", "role", "developer").stdout
    assert "pods" in role and "[list get create update delete]" in role
    binding = kubectl.run("describe", "rolebinding", "developer-binding").stdout
    assert "dev-user" in binding and "developer" in binding


def test_can_i_list_prints_the_rules(kubectl: Kubectl, developer: None) -> None:
    def check() -> str:
        out = kubectl.run("auth", "can-i", "--list", "--as", "dev-user").stdout
        assert "[list get create update delete]" in out, out
        return out

    out = eventually(check)
    pods = [line for line in out.splitlines() if line.startswith("pods ")]
    assert pods and "[list get create update delete]" in pods[0]
    assert "selfsubjectaccessreviews.authorization.k8s.io" in out
    assert "[/version]" in out


def test_certificate_user_meets_what_can_i_said(cluster: Any, home: Path, developer: None) -> None:
    dev = as_user(cluster, home, "dev-user")

    def check() -> None:
        assert dev.run("get", "pods", check=False).returncode == 0

    eventually(check)
    refused = dev.run("get", "deployments", check=False)
    assert refused.returncode == 1
    assert (
        'deployments.apps is forbidden: User "dev-user" cannot list resource "deployments"'
        ' in API group "apps" in the namespace "default"'
    ) in refused.stderr
    created = dev.run("run", "web", "--image=nginx", check=False)
    assert created.returncode == 0, created.stderr
    assert dev.run("get", "pod", "web").returncode == 0
    assert dev.run("get", "secrets", check=False).returncode == 1


# --- escalation prevention ------------------------------------------------------------------

SECRET_READER = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader-%s, namespace: default}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
"""


def test_creating_a_role_needs_its_permissions_or_escalate(
    cluster: Any, home: Path, kubectl: Kubectl
) -> None:
    kubectl.run("create", "role", "role-maker", "--verb=create", "--resource=roles")
    kubectl.run("create", "rolebinding", "role-maker", "--role=role-maker", "--user=role-maker")
    maker = as_user(cluster, home, "role-maker")

    def refused() -> str:
        result = maker.run("create", "-f", "-", input=SECRET_READER % "a", check=False)
        assert result.returncode == 1
        assert "is attempting to grant RBAC permissions not currently held" in result.stderr, (
            result.stderr
        )
        return result.stderr

    stderr = eventually(refused)
    assert (
        'roles.rbac.authorization.k8s.io "secret-reader-a" is forbidden: user "role-maker"'
        in stderr
    )
    assert '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}' in stderr

    kubectl.run("create", "role", "role-escalator", "--verb=escalate", "--resource=roles")
    kubectl.run(
        "create", "rolebinding", "role-escalator", "--role=role-escalator", "--user=role-maker"
    )

    def allowed() -> None:
        result = maker.run("create", "-f", "-", input=SECRET_READER % "b", check=False)
        assert result.returncode == 0, result.stderr

    eventually(allowed)


def test_creating_a_binding_needs_the_roles_permissions_or_bind(
    cluster: Any, home: Path, kubectl: Kubectl
) -> None:
    kubectl.run("create", "-f", "-", input=SECRET_READER % "c")
    kubectl.run("create", "role", "binder", "--verb=create", "--resource=rolebindings")
    kubectl.run("create", "rolebinding", "binder", "--role=binder", "--user=binder")
    binder = as_user(cluster, home, "binder")

    def refused() -> None:
        result = binder.run(
            "create", "rolebinding", "x", "--role=secret-reader-c", "--user=friend", check=False
        )
        assert result.returncode == 1
        assert (
            'rolebindings.rbac.authorization.k8s.io "x" is forbidden: user "binder"'
            ' (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held'
        ) in result.stderr, result.stderr

    eventually(refused)
    kubectl.run(
        "create",
        "role",
        "bind-secret-reader",
        "--verb=bind",
        "--resource=roles",
        "--resource-name=secret-reader-c",
    )
    kubectl.run(
        "create", "rolebinding", "bind-secret-reader", "--role=bind-secret-reader", "--user=binder"
    )

    def allowed() -> None:
        result = binder.run(
            "create", "rolebinding", "x", "--role=secret-reader-c", "--user=friend", check=False
        )
        assert result.returncode == 0, result.stderr

    eventually(allowed)


# --- impersonation --------------------------------------------------------------------------


def test_impersonation_needs_the_impersonate_verb(
    cluster: Any, home: Path, kubectl: Kubectl, developer: None
) -> None:
    jane = as_user(cluster, home, "jane")
    result = jane.run("get", "pods", "--as", "dev-user", check=False)
    assert result.returncode == 1
    assert (
        'users "dev-user" is forbidden: User "jane" cannot impersonate resource "users" in API group ""'
        " at the cluster scope"
    ) in result.stderr
    kubectl.run(
        "create",
        "clusterrole",
        "impersonate-dev",
        "--verb=impersonate",
        "--resource=users",
        "--resource-name=dev-user",
    )
    kubectl.run(
        "create",
        "clusterrolebinding",
        "jane-impersonates",
        "--clusterrole=impersonate-dev",
        "--user=jane",
    )

    def allowed() -> None:
        whoami = jane.run("auth", "whoami", "--as", "dev-user", "-o", "json", check=False)
        assert whoami.returncode == 0, whoami.stderr
        info = json.loads(whoami.stdout)["status"]["userInfo"]
        assert info == {"username": "dev-user", "groups": ["system:authenticated"]}

    eventually(allowed)
    group = jane.run("get", "pods", "--as", "dev-user", "--as-group", "admins", check=False)
    assert group.returncode == 1
    assert (
        'groups "admins" is forbidden: User "jane" cannot impersonate resource "groups"'
        in group.stderr
    )
    other = jane.run("get", "pods", "--as", "someone-else", check=False)
    assert 'users "someone-else" is forbidden' in other.stderr


# --- aggregation and unauthenticated access -------------------------------------------------


def test_aggregated_cluster_roles_follow_their_selectors(kubectl: Kubectl) -> None:
    view = json.loads(kubectl.run("get", "clusterrole", "view", "-o", "json").stdout)
    assert any("pods" in rule.get("resources", []) for rule in view["rules"])
    kubectl.run(
        "create",
        "-f",
        "-",
        input=(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: widgets-view\n"
            '  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}\n'
            "rules:\n- apiGroups: [example.com]\n  resources: [widgets]\n  verbs: [get]\n"
        ),
    )

    def aggregated() -> None:
        for name in ("view", "edit", "admin"):
            role = json.loads(kubectl.run("get", "clusterrole", name, "-o", "json").stdout)
            assert {
                "apiGroups": ["example.com"],
                "resources": ["widgets"],
                "verbs": ["get"],
            } in role["rules"], name

    eventually(aggregated)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/healthz", 200),
        ("/version", 200),
        ("/readyz", 200),
        ("/api/v1/pods", 403),
        ("/api/v1/namespaces", 403),
    ],
    ids=["healthz", "version", "readyz", "pods", "namespaces"],
)
def test_unauthenticated_users_reach_only_public_info(cluster: Any, path: str, status: int) -> None:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    try:
        with urllib.request.urlopen(cluster.url + path, context=context, timeout=30) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        if status == 403:
            body = json.loads(exc.read())
            assert 'User "system:anonymous" cannot list resource' in body["message"]
    assert code == status


# --- kubeward rbac explain ------------------------------------------------------------------


def kubeward_rbac(cluster: Any, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(cluster.admin_kubeconfig))
    return subprocess.run(
        [sys.executable, "-m", "kubeward", "rbac", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (
            ("--as", "dev-user", "create", "pods"),
            0,
            [
                "yes",
                '  RBAC: allowed by RoleBinding "developer-binding/default" of Role "developer" to User "dev-user"',
                '  through rule {APIGroups:[""], Resources:["pods"], Verbs:["list" "get" "create" "update" "delete"]}'
                ' of Role "developer" in namespace "default"',
            ],
        ),
        (
            ("--as", "dev-user", "list", "deploy"),
            1,
            [
                "no",
                '  RBAC: no rule allows User "dev-user" (groups ["system:authenticated"]) to "list"'
                ' on resource "deployments"'
                ' in API group "apps" in namespace "default"',
            ],
        ),
        (("--as", "someone", "--as-group", "system:masters", "delete", "nodes"), 0, ["yes"]),
        (("--as", "dev-user", "get", "pods", "-n", "kube-system"), 1, ["no"]),
        # As kubectl --as: dev-user is in system:authenticated, which system:public-info-viewer
        # lets read /healthz; asking for system:unauthenticated alone is the user without it.
        (("--as", "dev-user", "get", "/healthz"), 0, ["yes"]),
        (("--as", "dev-user", "--as-group", "system:authenticated", "get", "/healthz"), 0, ["yes"]),
        (("--as", "dev-user", "--as-group", "system:unauthenticated", "get", "/nope"), 1, ["no"]),
    ],
    ids=[
        "allowed",
        "denied-short-name",
        "system-masters",
        "other-namespace",
        "url-no-groups",
        "url",
        "url-unauthenticated",
    ],
)
def test_rbac_explain(
    cluster: Any, home: Path, developer: None, args: tuple[str, ...], code: int, expected: list[str]
) -> None:
    def check() -> None:
        result = kubeward_rbac(cluster, home, "explain", *args)
        assert result.returncode == code, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        for want, got in zip(expected, lines, strict=False):
            assert got.startswith(want), result.stdout
        assert len(lines) >= len(expected)

    eventually(check, attempts=20)


@pytest.fixture(scope="module")
def authenticated_can_read_configmaps(kubectl: Kubectl) -> None:
    kubectl.run("create", "clusterrole", "cm-reader", "--verb=get,list", "--resource=configmaps")
    kubectl.run(
        "create",
        "clusterrolebinding",
        "everyone-reads-cm",
        "--clusterrole=cm-reader",
        "--group=system:authenticated",
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("list", "configmaps", "--as", "dev-user"), 0),
        (("get", "configmaps", "--as", "system:serviceaccount:default:bot"), 0),
        (("list", "configmaps", "--as", "dev-user", "--as-group", "system:unauthenticated"), 1),
        (("list", "configmaps", "--as", "system:anonymous"), 1),
        (("list", "secrets", "--as", "dev-user"), 1),
        (("create", "pods", "--as", "dev-user"), 0),
    ],
    ids=["user", "service-account", "asked-unauthenticated", "anonymous", "no-grant", "role"],
)
def test_rbac_explain_agrees_with_kubectl_auth_can_i(
    kubectl: Kubectl,
    cluster: Any,
    home: Path,
    developer: None,
    authenticated_can_read_configmaps: None,
    args: tuple[str, ...],
    code: int,
) -> None:
    verb, resource, *who = args

    def check() -> None:
        assert can_i(kubectl, *args)[0] == code
        explained = kubeward_rbac(cluster, home, "explain", *who, verb, resource)
        assert explained.returncode == code, explained.stdout + explained.stderr
        if resource == "configmaps" and code == 0:
            # Found through the binding to system:authenticated, which impersonation adds.
            assert '"everyone-reads-cm"' in explained.stdout
            assert 'Group "system:authenticated"' in explained.stdout

    eventually(check, attempts=20)


def test_rbac_explain_names_an_unknown_resource(cluster: Any, home: Path) -> None:
    result = kubeward_rbac(cluster, home, "explain", "--as", "x", "get", "gizmos")
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: resource "gizmos": the server does not serve it'


# --- kubeward rbac who-can ------------------------------------------------------------------


def test_rbac_who_can_lists_subjects_and_what_grants_them(
    cluster: Any, home: Path, developer: None
) -> None:
    def check() -> list[dict[str, Any]]:
        result = kubeward_rbac(cluster, home, "who-can", "create", "pods", "-o", "json")
        assert result.returncode == 0, result.stderr
        grants: list[dict[str, Any]] = json.loads(result.stdout)
        assert {
            "subject": {"kind": "User", "name": "dev-user"},
            "binding": {"kind": "RoleBinding", "name": "developer-binding", "namespace": "default"},
            "role": {"kind": "Role", "name": "developer"},
        } in grants
        return grants

    grants = eventually(check, attempts=20)
    assert grants[0] == {
        "subject": {"kind": "Group", "name": "system:masters"},
        "alwaysAllowed": True,
    }
    assert {
        "subject": {"kind": "Group", "name": "kubeadm:cluster-admins"},
        "binding": {"kind": "ClusterRoleBinding", "name": "kubeadm:cluster-admins"},
        "role": {"kind": "ClusterRole", "name": "cluster-admin"},
    } in grants
    elsewhere = json.loads(
        kubeward_rbac(
            cluster, home, "who-can", "create", "pods", "-n", "kube-public", "-o", "json"
        ).stdout
    )
    assert all(g["subject"].get("name") != "dev-user" for g in elsewhere)
    text = kubeward_rbac(cluster, home, "who-can", "create", "pods").stdout.splitlines()
    assert text[0].split() == ["KIND", "NAME", "THROUGH", "ROLE"]
    assert ["User", "dev-user", "RoleBinding/default/developer-binding", "Role/developer"] in [
        line.split() for line in text
    ]


def test_who_can_endpoint_is_for_cluster_admins(cluster: Any, home: Path) -> None:
    result = as_user(cluster, home, "dev-user").run(
        "get", "--raw", "/debug/rbac/who-can?verb=get&resource=pods", check=False
    )
    assert result.returncode == 1
    assert 'User "dev-user" cannot get path "/debug/rbac/who-can"' in result.stderr


def test_service_account_subjects_and_groups(kubectl: Kubectl, developer: None) -> None:
    kubectl.run(
        "create", "rolebinding", "bot-developer", "--role=developer", "--serviceaccount=default:bot"
    )
    kubectl.run(
        "create",
        "rolebinding",
        "all-sa-view",
        "-n",
        "kube-public",
        "--clusterrole=view",
        "--group=system:serviceaccounts:kube-public",
    )
    bot = "system:serviceaccount:default:bot"

    def check() -> None:
        assert can_i(kubectl, "create", "pods", "--as", bot) == (0, "yes")
        assert (
            can_i(
                kubectl,
                "list",
                "pods",
                "-n",
                "kube-public",
                "--as",
                "system:serviceaccount:kube-public:any",
            )[0]
            == 0
        )

    eventually(check)
    assert can_i(kubectl, "create", "pods", "--as", "system:serviceaccount:default:other")[0] == 1
    assert (
        can_i(
            kubectl,
            "create",
            "pods",
            "-n",
            "kube-public",
            "--as",
            "system:serviceaccount:kube-public:any",
        )[0]
        == 1
    )
