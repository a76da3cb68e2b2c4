"""--feature-gates and --runtime-config, worded as kube-apiserver words them."""

from __future__ import annotations

import pytest

from kubeward.api.features import (
    Features,
    parse_feature_gates,
    parse_runtime_config,
    served_optional,
)
from kubeward.api.resources import build_scheme, served_versions
from kubeward.errors import InputError

V1ALPHA1 = "admissionregistration.k8s.io/v1alpha1"


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("", frozenset()),
        ("MutatingAdmissionPolicy=true", frozenset({"MutatingAdmissionPolicy"})),
        ("MutatingAdmissionPolicy=1", frozenset({"MutatingAdmissionPolicy"})),
        ("MutatingAdmissionPolicy=true,MutatingAdmissionPolicy=false", frozenset()),
    ],
)
def test_feature_gates(text: str, on: frozenset[str]) -> None:
    assert parse_feature_gates(text) == on


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Bogus=true",
            'invalid argument "Bogus=true" for "--feature-gates" flag: '
            "unrecognized feature gate: Bogus",
        ),
        (
            "MutatingAdmissionPolicy=yes",
            'invalid argument "MutatingAdmissionPolicy=yes" for "--feature-gates" flag: invalid '
            'value of MutatingAdmissionPolicy=yes, err: strconv.ParseBool: parsing "yes": '
            "invalid syntax",
        ),
        (
            "MutatingAdmissionPolicy",
            'invalid argument "MutatingAdmissionPolicy" for "--feature-gates" flag: missing bool '
            "value for MutatingAdmissionPolicy",
        ),
    ],
)
def test_bad_feature_gates(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_feature_gates(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("", frozenset()),
        (f"{V1ALPHA1}=true", frozenset({V1ALPHA1})),
        (f"{V1ALPHA1}=", frozenset({V1ALPHA1})),
        (f"{V1ALPHA1}", frozenset({V1ALPHA1})),
        ("api/alpha=true", frozenset({V1ALPHA1})),
        ("api/all=true", frozenset({V1ALPHA1})),
        ("api/ga=true", frozenset()),
        (f"api/alpha=true,{V1ALPHA1}=false", frozenset()),
        ("apps/v1=true,api/v1=true", frozenset()),
    ],
)
def test_runtime_config(text: str, on: frozenset[str]) -> None:
    assert parse_runtime_config(text, served_versions()) == on


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "admissionregistration.k8s.io/v9=true",
            "group version admissionregistration.k8s.io/v9 that has not been registered",
        ),
        ("example.com/v1=true", 'runtime-config: group "example.com" is not served by kubeward'),
        (f"{V1ALPHA1}=maybe", f"invalid value of {V1ALPHA1}: maybe, err: strconv.ParseBool"),
        ("api/alpha=1", "invalid value api/alpha=1"),
        ("a/b/c/d=true", "runtime-config invalid key a/b/c/d"),
    ],
)
def test_bad_runtime_config(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_runtime_config(text, served_versions())
    assert f'invalid argument "{text}" for "--runtime-config" flag: ' in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("gates", "versions", "served"),
    [
        (frozenset(), frozenset(), False),
        (frozenset({"MutatingAdmissionPolicy"}), frozenset(), False),
        (frozenset(), frozenset({V1ALPHA1}), False),
        (frozenset({"MutatingAdmissionPolicy"}), frozenset({V1ALPHA1}), True),
    ],
)
def test_the_kinds_are_served_with_both_the_gate_and_the_version(
    gates: frozenset[str], versions: frozenset[str], served: bool
) -> None:
    optional = served_optional(Features(gates, versions))
    scheme, strategies = build_scheme(optional)
    kinds = {rt.kind for rt in scheme if rt.version == "v1alpha1"}
    expected = {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"} if served else set()
    assert kinds == expected
    assert {rt.kind for rt in strategies if rt.version == "v1alpha1"} == expected
