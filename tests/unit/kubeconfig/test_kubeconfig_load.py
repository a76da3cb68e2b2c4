"""Which kubeconfig files are read, how they merge, and which file receives new entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.load import (
    KubeconfigPaths,
    load_kubeconfig,
    load_merged,
    resolve_path,
)

ONE = """
clusters:
- name: shared
  cluster: {server: https://one, certificate-authority: ca/one.crt}
users:
- name: shared-user
  user: {token: t1}
contexts:
- name: shared-ctx
  context: {cluster: shared, user: shared-user, namespace: n1}
"""
TWO = """
current-context: only-two
preferences: {colors: true}
clusters:
- name: shared
  cluster: {server: https://two, tls-server-name: two}
- name: c2
  cluster: {server: https://c2}
contexts:
- name: shared-ctx
  context: {cluster: c2, user: shared-user}
- name: only-two
  context: {cluster: c2, user: shared-user}
"""
THREE = "current-context: shared-ctx\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, text in (("one", ONE), ("two", TWO), ("three", THREE)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        out[name] = str(path)
    out["missing"] = str(tmp_path / "missing.yaml")
    return out


@pytest.mark.parametrize(
    ("explicit", "env", "expected", "from_env"),
    [
        ("x.yaml", "a:b", ("x.yaml",), False),
        (None, "a:b:a::c", ("a", "b", "c"), True),
        (None, "", ("/home/u/.kube/config",), False),
        (None, None, ("/home/u/.kube/config",), False),
    ],
    ids=["explicit-wins", "env-list-deduplicated", "empty-env-means-home", "no-env"],
)
def test_kubeconfig_paths_follow_kubectl_precedence(
    explicit: str | None, env: str | None, expected: tuple[str, ...], from_env: bool
) -> None:
    environ = {"HOME": "/home/u"}
    if env is not None:
        environ["KUBECONFIG"] = env
    paths = KubeconfigPaths.resolve(explicit, environ)
    assert paths.precedence == expected
    assert paths.explicit is (explicit is not None)
    assert paths.from_env is from_env


@pytest.mark.parametrize(
    ("listed", "existing", "expected"),
    [
        (["a"], [], "a"),
        (["a", "b", "c"], ["b", "c"], "b"),
        (["a", "b", "c"], [], "c"),
    ],
    ids=["single", "first-existing", "last-when-none-exist"],
)
def test_kubeconfig_default_filename(
    tmp_path: Path, listed: list[str], existing: list[str], expected: str
) -> None:
    for name in existing:
        (tmp_path / name).write_text("")
    env = {"KUBECONFIG": os.pathsep.join(str(tmp_path / n) for n in listed), "HOME": "/h"}
    assert KubeconfigPaths.resolve(None, env).default_filename() == str(tmp_path / expected)


def test_kubeconfig_merge_first_file_wins_whole_entries(files: dict[str, str]) -> None:
    paths = KubeconfigPaths((files["one"], files["missing"], files["two"]), from_env=True)
    merged = load_merged(paths)
    shared = merged.cluster("shared")
    assert shared is not None
    assert shared.server == "https://one"
    assert shared.tls_server_name == ""  # not filled in from the second file's entry
    assert shared.source == files["one"]
    c2 = merged.cluster("c2")
    assert c2 is not None and c2.source == files["two"]
    context = merged.context("shared-ctx")
    assert context is not None and context.cluster == "shared"
    assert merged.current_context == "only-two"
    assert merged.preferences == {"colors": True}


def test_kubeconfig_merge_current_context_from_first_file_that_sets_it(
    files: dict[str, str],
) -> None:
    paths = KubeconfigPaths((files["one"], files["three"], files["two"]), from_env=True)
    assert load_merged(paths).current_context == "shared-ctx"


def test_kubeconfig_missing_files_are_skipped_even_explicit(files: dict[str, str]) -> None:
    assert load_merged(KubeconfigPaths.of(files["missing"])).is_empty()


def test_kubeconfig_bad_file_in_list_is_an_error(tmp_path: Path, files: dict[str, str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters: [\n")
    with pytest.raises(InputError, match=r"bad.yaml: not valid YAML"):
        load_merged(KubeconfigPaths((files["one"], str(bad)), from_env=True))


def test_kubeconfig_load_single_missing_file_is_an_error(files: dict[str, str]) -> None:
    with pytest.raises(InputError, match=r"missing\.yaml: no such file"):
        load_kubeconfig(files["missing"])


def test_kubeconfig_relative_paths_stay_as_written_and_resolve_against_their_file(
    files: dict[str, str],
) -> None:
    cluster = load_kubeconfig(files["one"]).cluster("shared")
    assert cluster is not None
    assert cluster.certificate_authority == "ca/one.crt"
    expected = os.path.join(os.path.dirname(files["one"]), "ca", "one.crt")
    assert resolve_path(cluster.certificate_authority, cluster.source) == expected
    assert resolve_path("/abs/ca.crt", cluster.source) == "/abs/ca.crt"
