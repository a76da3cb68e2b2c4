"""``--feature-gates`` and ``--runtime-config``, shared by ``serve`` and ``up`` (``api.features``).

Both are kube-apiserver's flags of the same names; a bad value stops the command with one line
naming the flag, before anything is started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kubeward.api.features import Features, parse_feature_gates, parse_runtime_config
from kubeward.api.resources import served_versions

F = TypeVar("F", bound=Callable[..., Any])


def feature_flags(command: F) -> F:
    """Add ``--feature-gates`` and ``--runtime-config`` to ``command``."""
    command = click.option(
        "--runtime-config",
        default="",
        help="API versions to turn on or off, e.g. admissionregistration.k8s.io/v1alpha1=true.",
    )(command)
    return click.option(
        "--feature-gates",
        default="",
        help="Feature gates, e.g. MutatingAdmissionPolicy=true (kubeward knows only the gates "
        "it implements).",
    )(command)


def features_from_flags(feature_gates: str, runtime_config: str) -> Features:
    """The :class:`Features` of the two flags (InputError naming a bad value)."""
    return Features(
        gates=parse_feature_gates(feature_gates),
        versions=parse_runtime_config(runtime_config, served_versions()),
    )
