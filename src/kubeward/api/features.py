"""Feature gates and ``--runtime-config``: what turns an alpha API on, as kube-apiserver 1.32 does.

Rules (``k8s.io/component-base/featuregate`` and ``k8s.io/apiserver/pkg/server/resourceconfig``
of 1.32):
 1. ``--feature-gates`` is ``Name=bool,...``. kubeward knows only the gates it implements, with
    upstream's defaults (:data:`GATES`); any other name is refused as kube-apiserver refuses a
    name it does not know (``unrecognized feature gate: X``), a value that is not a Go boolean
    as ``invalid value of X=V, err: strconv.ParseBool: parsing "V": invalid syntax``, an item
    without ``=`` as ``missing bool value for X``. Every error names the flag as pflag does
    (``invalid argument "..." for "--feature-gates" flag: ...``).
 2. ``--runtime-config`` is ``key=value,...`` with keys ``api/all``, ``api/ga``, ``api/beta``,
    ``api/alpha`` (``true``/``false``) or ``GROUP/VERSION`` (a Go boolean; empty means true).
    The versions that are off unless asked for are :data:`OFF_BY_DEFAULT`; everything else
    kubeward serves is always on. A version of a group kubeward serves that it does not have is
    upstream's ``group version G/V that has not been registered``. A group kubeward does not
    serve is refused (``runtime-config: group "G" is not served by kubeward``) where
    kube-apiserver ignores it silently: nobody should believe an API is on when it is not.
 3. A kind behind a gate is served only when its gate and its version are both on
    (:func:`served_optional`), as upstream installs MutatingAdmissionPolicy's storage only
    under its gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubeward.errors import InputError

MUTATING_ADMISSION_POLICY = "MutatingAdmissionPolicy"
ADMISSION_V1ALPHA1 = "admissionregistration.k8s.io/v1alpha1"

#: Rule 1: the gates kubeward implements and their 1.32 defaults.
GATES: Mapping[str, bool] = {MUTATING_ADMISSION_POLICY: False}

#: Rule 2: group/versions off unless ``--runtime-config`` turns them on, and the gate each
#: needs besides (rule 3).
OFF_BY_DEFAULT: Mapping[str, str] = {ADMISSION_V1ALPHA1: MUTATING_ADMISSION_POLICY}

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}
_MATCHERS = ("api/all", "api/ga", "api/beta", "api/alpha")
_ALPHA = re.compile(r"^v\d+alpha\d+$")
_BETA = re.compile(r"^v\d+beta\d+$")


def _go_bool(text: str) -> bool | None:
    return True if text in _TRUE else False if text in _FALSE else None


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Features:
    """The gates that are on and the off-by-default versions turned on."""

    gates: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset()

    def enabled(self, gate: str) -> bool:
        return gate in self.gates


def parse_feature_gates(text: str) -> frozenset[str]:
    """Rule 1: the gates that are on (defaults included).

    Raises:
        InputError: an unknown gate or a malformed value.
    """
    values = {name: default for name, default in GATES.items()}
    for item in _items(text):
        name, eq, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not eq:
            problem = f"missing bool value for {name}"
        elif name not in GATES:
            problem = f"unrecognized feature gate: {name}"
        else:
            value = _go_bool(raw)
            if value is not None:
                values[name] = value
                continue
            problem = (
                f"invalid value of {name}={raw}, err: strconv.ParseBool: parsing "
                f'"{raw}": invalid syntax'
            )
        raise InputError(f'invalid argument "{text}" for "--feature-gates" flag: {problem}')
    return frozenset(name for name, on in values.items() if on)


def _matches(matcher: str, version: str) -> bool:
    if matcher == "api/all":
        return True
    if matcher == "api/alpha":
        return bool(_ALPHA.match(version))
    if matcher == "api/beta":
        return bool(_BETA.match(version))
    return not _ALPHA.match(version) and not _BETA.match(version)


def parse_runtime_config(text: str, served: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Rule 2: the off-by-default group/versions turned on. ``served``: every group kubeward
    serves (the core group is ``""``) and its versions, the off-by-default ones included.

    Raises:
        InputError: a malformed item, a version or group kubeward does not serve.
    """
    on: set[str] = set()
    prefix = f'invalid argument "{text}" for "--runtime-config" flag: '
    explicit: list[tuple[str, bool]] = []
    for item in _items(text):
        key, _eq, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if key in _MATCHERS:
            if raw not in ("true", "false"):
                raise InputError(f"{prefix}invalid value {key}={raw}")
            for gv in OFF_BY_DEFAULT:
                if _matches(key, gv.rpartition("/")[2]):
                    (on.add if raw == "true" else on.discard)(gv)
            continue
        tokens = key.split("/")
        if len(tokens) not in (2, 3):
            raise InputError(f"{prefix}runtime-config invalid key {key}")
        group, version = tokens[0], tokens[1]
        if group == "api":
            group = ""
        if group not in served:
            raise InputError(f'{prefix}runtime-config: group "{group}" is not served by kubeward')
        if version not in set(served[group]):
            shown = f"{group}/{version}" if group else version
            raise InputError(f"{prefix}group version {shown} that has not been registered")
        value = True if raw == "" else _go_bool(raw)
        if value is None:
            raise InputError(
                f"{prefix}invalid value of {key}: {raw}, err: strconv.ParseBool: parsing "
                f'"{raw}": invalid syntax'
            )
        if len(tokens) == 2:
            explicit.append((f"{group}/{version}" if group else version, value))
    for gv, value in explicit:  # explicit versions win over api/* (upstream's order)
        if gv in OFF_BY_DEFAULT:
            (on.add if value else on.discard)(gv)
    return frozenset(on)


def served_optional(features: Features) -> frozenset[str]:
    """Rule 3: the off-by-default group/versions whose kinds are served."""
    return frozenset(
        gv
        for gv, gate in OFF_BY_DEFAULT.items()
        if gv in features.versions and gate in features.gates
    )
