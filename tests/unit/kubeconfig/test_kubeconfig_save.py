"""Edits go back to the file that defines the entry, atomically, 0600, under kubectl's lock."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.load import KubeconfigPaths, load_kubeconfig, load_merged
from kubeward.kubeconfig.model import AuthInfo, Cluster, Context
from kubeward.kubeconfig.save import save_changes

ONE = """
clusters:
- name: c1
  cluster: {server: https://one}
contexts:
- name: ctx1
  context: {cluster: c1}
"""
TWO = """
current-context: ctx2
clusters:
- name: c2
  cluster: {server: https://two}
contexts:
- name: ctx2
  context: {cluster: c2}
"""


@pytest.fixture
def two_files(tmp_path: Path) -> KubeconfigPaths:
    (tmp_path / "one").write_text(ONE)
    (tmp_path / "two").write_text(TWO)
    return KubeconfigPaths((str(tmp_path / "one"), str(tmp_path / "two")), from_env=True)


def _names(path: str, list_key: str) -> list[str]:
    return [e.name for e in getattr(load_kubeconfig(path), list_key)]


def test_kubeconfig_save_modifies_the_defining_file(two_files: KubeconfigPaths) -> None:
    one, two = two_files.precedence
    before = load_merged(two_files)
    cluster = before.cluster("c2")
    assert cluster is not None
    written = save_changes(
        two_files, before, before.with_entry(cluster.updated({"server": "https://2"}))
    )
    assert written == [two]
    changed = load_kubeconfig(two).cluster("c2")
    assert changed is not None and changed.server == "https://2"
    assert _names(one, "clusters") == ["c1"]  # nothing copied across


def test_kubeconfig_save_puts_new_entries_and_current_context_in_default_file(
    two_files: KubeconfigPaths,
) -> None:
    one, two = two_files.precedence
    before = load_merged(two_files)
    after = before.with_entry(Context(name="new").updated({"cluster": "c2"}))
    after = after.with_current_context("ctx1")
    save_changes(two_files, before, after)
    assert _names(one, "contexts") == ["ctx1", "new"]
    assert load_kubeconfig(one).current_context == "ctx1"
    assert load_kubeconfig(two).current_context == "ctx2"  # shadowed, untouched
    assert load_merged(two_files).current_context == "ctx1"


def test_kubeconfig_save_deletes_from_the_defining_file(two_files: KubeconfigPaths) -> None:
    one, two = two_files.precedence
    before = load_merged(two_files)
    save_changes(two_files, before, before.without_entry("contexts", "ctx2"))
    assert _names(two, "contexts") == []
    assert _names(one, "contexts") == ["ctx1"]


def test_kubeconfig_save_clearing_current_context_clears_the_file_that_sets_it(
    two_files: KubeconfigPaths,
) -> None:
    before = load_merged(two_files)
    save_changes(two_files, before, before.with_current_context(""))
    assert load_kubeconfig(two_files.precedence[1]).current_context == ""


def test_kubeconfig_save_renamed_entry_stays_in_its_file(two_files: KubeconfigPaths) -> None:
    one, two = two_files.precedence
    before = load_merged(two_files)
    context = before.context("ctx2")
    assert context is not None
    after = before.without_entry("contexts", "ctx2").with_entry(context.renamed("renamed"))
    save_changes(two_files, before, after)
    assert _names(two, "contexts") == ["renamed"]
    assert _names(one, "contexts") == ["ctx1"]


@pytest.mark.parametrize(
    ("reference", "stored"),
    [
        ("{dir}/sub/ca.crt", "sub/ca.crt"),
        ("sub/ca.crt", "sub/ca.crt"),
        ("/elsewhere/ca.crt", "/elsewhere/ca.crt"),
        ("../up/ca.crt", "{parent}/up/ca.crt"),
    ],
    ids=["absolute-inside", "relative-kept", "absolute-outside", "backstep-made-absolute"],
)
def test_kubeconfig_save_relativizes_file_references(
    tmp_path: Path, reference: str, stored: str
) -> None:
    target = tmp_path / "kc"
    paths = KubeconfigPaths.of(target)
    before = load_merged(paths)
    ref = reference.format(dir=tmp_path)
    cluster = Cluster(name="c").updated({"certificate-authority": ref})
    save_changes(paths, before, before.with_entry(cluster))
    saved = load_kubeconfig(target).cluster("c")
    assert saved is not None
    assert saved.certificate_authority == stored.format(parent=tmp_path.parent)


def test_kubeconfig_save_writes_0600_through_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text(ONE)
    os.chmod(real, 0o644)
    link = tmp_path / "link"
    link.symlink_to(real)
    paths = KubeconfigPaths.of(link)
    before = load_merged(paths)
    save_changes(paths, before, before.with_entry(AuthInfo(name="u").updated({"token": "t"})))
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert _names(str(real), "users") == ["u"]


def test_kubeconfig_save_refuses_when_locked_and_changes_nothing(
    two_files: KubeconfigPaths,
) -> None:
    one, two = two_files.precedence
    Path(two + ".lock").write_text("")
    originals = {p: Path(p).read_bytes() for p in (one, two)}
    before = load_merged(two_files)
    with pytest.raises(InputError, match=r"two.lock: exists: another kubectl or kubeward"):
        save_changes(two_files, before, before.with_current_context("ctx1"))
    assert {p: Path(p).read_bytes() for p in (one, two)} == originals
    assert not Path(one + ".lock").exists()  # the lock already taken is released


def test_kubeconfig_save_without_changes_writes_nothing(two_files: KubeconfigPaths) -> None:
    before = load_merged(two_files)
    assert save_changes(two_files, before, before) == []
