"""ABAC: upstream's decisions (the held-out corpus), subject matching, the file format, reload."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.api.user import ALL_AUTHENTICATED, UserInfo
from kubeward.authz.abac import NO_POLICY_MATCHED, ABACAuthorizer, parse_policy_file
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.errors import InputError

CORPUS = yaml.safe_load((Path(__file__).parents[2] / "corpus" / "abac_upstream.yaml").read_text())


def corpus_attributes(case: list[str]) -> Attributes:
    _, name, verb, namespace, api_group, resource, path, _ = case
    user = UserInfo(name, groups=tuple(CORPUS["users"][name]["groups"]))
    return Attributes(
        user=user,
        verb=verb,
        resource_request=bool(namespace or resource),
        namespace=namespace,
        api_group=api_group,
        resource=resource,
        path=path,
    )


def authorizer_for(tmp_path: Path, text: str, **kwargs: Any) -> ABACAuthorizer:
    path = tmp_path / "policy.jsonl"
    path.write_text(text)
    return ABACAuthorizer(path, **kwargs)


@pytest.mark.parametrize("case", CORPUS["cases"], ids=lambda c: "-".join(c))
def test_upstream_decisions(tmp_path: Path, case: list[str]) -> None:
    authorizer = authorizer_for(tmp_path, CORPUS["files"][case[0]])
    result = authorizer.authorize(corpus_attributes(case))
    expected = Decision.ALLOW if case[-1] == "allow" else Decision.NO_OPINION
    assert result.decision is expected
    if expected is Decision.NO_OPINION:
        assert result.reason == NO_POLICY_MATCHED


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))
FOO = UserInfo("Foo", groups=("A", "B", "C", ALL_AUTHENTICATED))


@pytest.mark.parametrize(
    ("line", "user", "matches"),
    [
        ("{}", ANONYMOUS, False),
        ('{"user": "*"}', ANONYMOUS, False),
        ('{"group": "*"}', ANONYMOUS, False),
        ("{}", FOO, True),
        ('{"user": "Foo"}', UserInfo("foo", groups=(ALL_AUTHENTICATED,)), False),
        ('{"user": "Foo"}', UserInfo("FooBar", groups=(ALL_AUTHENTICATED,)), False),
        ('{"user": "Foo"}', FOO, True),
        ('{"group": "b"}', FOO, False),
        ('{"group": "B"}', UserInfo("Foo", groups=("BBB", ALL_AUTHENTICATED)), False),
        ('{"group": "B"}', FOO, True),
        ('{"user": "Foo", "group": "D"}', FOO, False),
        ('{"user": "Bar", "group": "B"}', FOO, False),
        ('{"user": "Foo", "group": "B"}', FOO, True),
        (
            '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy"}',
            FOO,
            False,
        ),
        (
            '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
            ' "spec": {"user": "*", "resource": "*", "namespace": "*", "apiGroup": "*"}}',
            ANONYMOUS,
            False,
        ),
        (
            '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
            ' "spec": {"group": "*", "resource": "*", "namespace": "*", "apiGroup": "*"}}',
            FOO,
            True,
        ),
    ],
    ids=[
        "v0-empty-not-anonymous",
        "v0-star-user-not-anonymous",
        "v0-star-group-not-anonymous",
        "v0-empty-any-authenticated",
        "user-case-sensitive",
        "user-not-substring",
        "user-matches",
        "group-case-sensitive",
        "group-not-substring",
        "group-matches",
        "user-and-group-needs-group",
        "user-and-group-needs-user",
        "user-and-group-matches",
        "v1beta1-empty-matches-no-one",
        "v1beta1-star-user-not-anonymous",
        "v1beta1-star-group-authenticated",
    ],
)
def test_subject_matching(tmp_path: Path, line: str, user: UserInfo, matches: bool) -> None:
    authorizer = authorizer_for(tmp_path, line + "\n")
    result = authorizer.authorize(
        Attributes(user=user, verb="get", namespace="ns", resource="pods")
    )
    assert result.allowed is matches


def test_an_allow_names_the_deciding_line(tmp_path: Path) -> None:
    authorizer = authorizer_for(tmp_path, '# team\n{"user": "alice", "namespace": "dev"}\n')
    result = authorizer.authorize(
        Attributes(user=UserInfo("alice"), verb="delete", namespace="dev", resource="pods")
    )
    assert result.allowed
    assert result.explanation == (
        f'allowed by ABAC policy {tmp_path / "policy.jsonl"}, line 2: {{"user": "alice", "namespace": "dev"}}',
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"user": "a"}\n{"user": "b"\n', 'line 2: {"user": "b": invalid JSON'),
        ("[1, 2]\n", "line 1: [1, 2]: expected a JSON object"),
        ('{"user": 7}\n', 'line 1: {"user": 7}: user: expected a string, got int'),
        ('{"readonly": "yes"}\n', "readonly: expected a boolean, got str"),
        (
            '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Rule"}\n',
            'no kind "Rule" is registered for version "abac.authorization.kubernetes.io/v1beta1"',
        ),
        (
            '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
            ' "spec": {"user": ["a"]}}\n',
            "spec.user: expected a string, got list",
        ),
    ],
    ids=["bad-json", "not-an-object", "wrong-type", "wrong-bool", "unknown-kind", "spec-type"],
)
def test_a_bad_line_names_the_file_and_line(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_policy_file(text, "/etc/abac.jsonl")
    assert str(caught.value).startswith("error reading policy file /etc/abac.jsonl, line ")
    assert reason in str(caught.value)


def test_unversioned_lines_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parse_policy_file('{"user": "a"}\n', "p.jsonl")
    assert "p.jsonl contained unversioned rules" in caplog.text


def test_rules_for_lists_the_lines_of_the_user(tmp_path: Path) -> None:
    authorizer = authorizer_for(tmp_path, CORPUS["files"]["v0"])
    rules = authorizer.rules_for(UserInfo("scheduler", groups=(ALL_AUTHENTICATED,)), "ns1")
    assert [(r.verbs, r.api_groups, r.resources) for r in rules.resource_rules] == [
        (("get", "list", "watch"), ("*",), ("events",)),
        (("get", "list", "watch"), ("*",), ("pods",)),
        (("*",), ("*",), ("bindings",)),
    ]
    assert rules.non_resource_rules == ()


def test_who_can_lists_every_allowing_line(tmp_path: Path) -> None:
    authorizer = authorizer_for(tmp_path, CORPUS["files"]["v1beta1"])
    action = Attributes(
        user=UserInfo(""), verb="update", namespace="projectCaribou", resource="pods"
    )
    assert [(g.line.number, g.line.user) for g in authorizer.who_can(action)] == [
        (12, "alice"),
        (14, "debbie"),
    ]


def test_an_edit_applies_and_a_broken_edit_keeps_the_policy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    authorizer = authorizer_for(tmp_path, '{"user": "alice"}\n', check_interval=0)
    path = tmp_path / "policy.jsonl"
    bob = Attributes(user=UserInfo("bob"), verb="get", namespace="ns", resource="pods")
    assert not authorizer.authorize(bob).allowed

    path.write_text('{"user": "alice"}\n{"user": "bob"}\n')
    assert authorizer.authorize(bob).allowed

    with caplog.at_level(logging.ERROR):
        path.write_text('{"user": "alice"}\n{"user": \n')
        os.utime(path, ns=(1, 1))  # a different stamp even on a coarse clock
        assert authorizer.authorize(bob).allowed  # the last good policy
    assert f"error reading policy file {path}, line 2" in caplog.text


def test_a_spec_without_api_version_allows_everything_and_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    line = '{"kind": "Policy", "spec": {"user": "dev-user", "namespace": "*", "resource": "pods"}}'
    with caplog.at_level(logging.WARNING):
        authorizer = authorizer_for(tmp_path, line + "\n")
    chuck = UserInfo("chuck", groups=(ALL_AUTHENTICATED,))
    assert authorizer.authorize(
        Attributes(user=chuck, verb="delete", namespace="kube-system", resource="secrets")
    ).allowed  # as kube-apiserver reads this line
    assert "line 1: has a spec but no apiVersion and kind" in caplog.text
