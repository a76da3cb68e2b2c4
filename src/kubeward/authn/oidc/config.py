"""JWT authenticators' configuration: ``AuthenticationConfiguration`` and the ``--oidc-*`` flags.

Rules (``apiserver.config.k8s.io/v1``, kube-apiserver 1.32):
 1. ``--authentication-config`` names an ``AuthenticationConfiguration`` (apiVersion
    ``apiserver.config.k8s.io/v1``, ``v1beta1`` or ``v1alpha1``) whose ``jwt`` list holds one
    authenticator per issuer. It is mutually exclusive with the ``--oidc-*`` flags.
 2. Each issuer needs an https ``url`` (no query, no fragment, no user info), at least one of
    ``audiences`` (``audienceMatchPolicy`` ``MatchAny`` when several), an optional
    ``discoveryURL`` and an optional PEM ``certificateAuthority``; two authenticators may not
    share an issuer URL.
 3. ``claimMappings.username`` is required, with either ``claim`` (and ``prefix``, which must
    then be given, empty allowed) or ``expression``; ``groups`` and ``uid`` likewise but
    optional; ``extra`` maps keys (domain-prefixed, lowercase) to ``valueExpression``.
 4. ``claimValidationRules``: ``claim`` + ``requiredValue`` (the claim must be that string), or
    ``expression`` + ``message``. ``userValidationRules``: ``expression`` + ``message``.
    Expressions are CEL, evaluated by ``kubeward.cel``.
 5. The legacy flags map onto one authenticator as kube-apiserver maps them: ``--oidc-issuer-url``,
    ``--oidc-client-id`` (the one audience), ``--oidc-username-claim`` (``sub``) with
    ``--oidc-username-prefix`` (default: ``ISSUER#`` unless the claim is ``email``; ``-`` for
    none), ``--oidc-groups-claim`` / ``--oidc-groups-prefix``, ``--oidc-required-claim``
    (``key=value``, each a claim validation rule), ``--oidc-ca-file``.
 6. Errors name the field as upstream does: ``jwt[0].issuer.url: Required value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from kubeward.errors import InputError

API_GROUP = "apiserver.config.k8s.io"
API_VERSIONS = tuple(f"{API_GROUP}/{v}" for v in ("v1", "v1beta1", "v1alpha1"))
KIND = "AuthenticationConfiguration"


@dataclass(frozen=True)
class ClaimOrExpression:
    """A username, groups or uid mapping: a claim (with a prefix) or a CEL expression."""

    claim: str = ""
    prefix: str | None = None
    expression: str = ""


@dataclass(frozen=True)
class ClaimRule:
    """A claim validation rule: ``claim == required_value``, or a CEL ``expression``."""

    claim: str = ""
    required_value: str = ""
    expression: str = ""
    message: str = ""


@dataclass(frozen=True)
class ExtraMapping:
    key: str
    value_expression: str


@dataclass(frozen=True)
class JWTAuthenticatorConfig:
    issuer_url: str
    audiences: tuple[str, ...]
    discovery_url: str = ""
    certificate_authority: str = ""  # PEM
    username: ClaimOrExpression = ClaimOrExpression(claim="sub", prefix="")
    groups: ClaimOrExpression = ClaimOrExpression()
    uid: ClaimOrExpression = ClaimOrExpression()
    extra: tuple[ExtraMapping, ...] = ()
    claim_rules: tuple[ClaimRule, ...] = ()
    user_rules: tuple[ClaimRule, ...] = ()
    # --oidc-signing-algs; the structured configuration accepts every asymmetric JOSE algorithm.
    signing_algorithms: tuple[str, ...] = (
        "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
    )  # fmt: skip

    @property
    def expressions(self) -> tuple[str, ...]:
        """Every CEL expression of this authenticator (compiled once, when it is built)."""
        mapped = [m.expression for m in (self.username, self.groups, self.uid) if m.expression]
        return (
            *mapped,
            *(e.value_expression for e in self.extra),
            *(r.expression for r in (*self.claim_rules, *self.user_rules) if r.expression),
        )


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, text: str) -> None:
        self.items.append(f"{path}: {text}")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _check_url(url: str, path: str, problems: _Problems) -> None:
    if not url:
        problems.add(path, "Required value")
        return
    parts = urlsplit(url)
    if parts.scheme != "https":
        problems.add(path, f'Invalid value: "{url}": URL scheme must be https')
    elif parts.username or parts.password:
        problems.add(path, f'Invalid value: "{url}": URL must not contain a username or password')
    elif parts.query:
        problems.add(path, f'Invalid value: "{url}": URL must not contain a query')
    elif parts.fragment:
        problems.add(path, f'Invalid value: "{url}": URL must not contain a fragment')


def _claim_or_expression(
    raw: object, path: str, problems: _Problems, *, required: bool, prefix_required: bool
) -> ClaimOrExpression:
    spec = _mapping(raw)
    claim, expression = _text(spec.get("claim")), _text(spec.get("expression"))
    prefix = spec.get("prefix")
    if claim and expression:
        problems.add(path, 'Invalid value: "": claim and expression can\'t both be set')
    elif required and not claim and not expression:
        problems.add(path, "Required value: claim or expression is required")
    if expression and prefix is not None:
        problems.add(
            f"{path}.prefix", 'Invalid value: "": may not be specified when expression is set'
        )
    if claim and prefix is None and prefix_required:
        problems.add(
            f"{path}.prefix",
            "Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing",
        )
    return ClaimOrExpression(claim, None if prefix is None else _text(prefix), expression)


def _jwt(raw: object, path: str, problems: _Problems) -> JWTAuthenticatorConfig:
    spec = _mapping(raw)
    issuer = _mapping(spec.get("issuer"))
    url = _text(issuer.get("url"))
    _check_url(url, f"{path}.issuer.url", problems)
    discovery = _text(issuer.get("discoveryURL"))
    if discovery:
        _check_url(discovery, f"{path}.issuer.discoveryURL", problems)
        if discovery.rstrip("/") == url.rstrip("/"):
            problems.add(
                f"{path}.issuer.discoveryURL",
                f'Invalid value: "{discovery}": discoveryURL must be different from URL',
            )
    audiences = [a for a in issuer.get("audiences") or [] if isinstance(a, str)]
    if not audiences:
        problems.add(
            f"{path}.issuer.audiences", "Required value: at least one issuer.audiences is required"
        )
    if len(audiences) > 1 and issuer.get("audienceMatchPolicy") != "MatchAny":
        problems.add(
            f"{path}.issuer.audienceMatchPolicy",
            f'Invalid value: "{issuer.get("audienceMatchPolicy") or ""}": audienceMatchPolicy must be MatchAny for multiple audiences',
        )
    mappings = _mapping(spec.get("claimMappings"))
    username = _claim_or_expression(
        mappings.get("username"),
        f"{path}.claimMappings.username",
        problems,
        required=True,
        prefix_required=True,
    )
    groups = _claim_or_expression(
        mappings.get("groups"),
        f"{path}.claimMappings.groups",
        problems,
        required=False,
        prefix_required=True,
    )
    uid = _claim_or_expression(
        mappings.get("uid"),
        f"{path}.claimMappings.uid",
        problems,
        required=False,
        prefix_required=False,
    )
    extra: list[ExtraMapping] = []
    for i, item in enumerate(mappings.get("extra") or []):
        key, expression = (
            _text(_mapping(item).get("key")),
            _text(_mapping(item).get("valueExpression")),
        )
        where = f"{path}.claimMappings.extra[{i}]"
        if not key:
            problems.add(f"{where}.key", "Required value")
        elif "/" not in key or key != key.lower():
            problems.add(
                f"{where}.key",
                f'Invalid value: "{key}": must be a domain-prefix path (such as "acme.io/foo") and lowercase',
            )
        if not expression:
            problems.add(f"{where}.valueExpression", "Required value: valueExpression is required")
        extra.append(ExtraMapping(key, expression))
    claim_rules: list[ClaimRule] = []
    for i, item in enumerate(spec.get("claimValidationRules") or []):
        rule = _mapping(item)
        where = f"{path}.claimValidationRules[{i}]"
        claim, expression = _text(rule.get("claim")), _text(rule.get("expression"))
        if claim and expression:
            problems.add(where, 'Invalid value: "": claim and expression can\'t both be set')
        elif not claim and not expression:
            problems.add(where, "Required value: claim or expression is required")
        claim_rules.append(
            ClaimRule(
                claim, _text(rule.get("requiredValue")), expression, _text(rule.get("message"))
            )
        )
    user_rules: list[ClaimRule] = []
    for i, item in enumerate(spec.get("userValidationRules") or []):
        rule = _mapping(item)
        if not _text(rule.get("expression")):
            problems.add(
                f"{path}.userValidationRules[{i}].expression",
                "Required value: expression is required",
            )
        user_rules.append(
            ClaimRule(expression=_text(rule.get("expression")), message=_text(rule.get("message")))
        )
    return JWTAuthenticatorConfig(
        issuer_url=url,
        audiences=tuple(audiences),
        discovery_url=discovery,
        certificate_authority=_text(issuer.get("certificateAuthority")),
        username=username,
        groups=groups,
        uid=uid,
        extra=tuple(extra),
        claim_rules=tuple(claim_rules),
        user_rules=tuple(user_rules),
    )


def parse_authentication_configuration(
    text: str, source: str
) -> tuple[JWTAuthenticatorConfig, ...]:
    """Rules 1-4 and 6.

    Raises:
        InputError: naming the file and every problem.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not YAML: {exc}") from exc
    doc = _mapping(doc)
    if doc.get("kind") != KIND or doc.get("apiVersion") not in API_VERSIONS:
        raise InputError(
            f"{source}: expected kind {KIND} of {API_VERSIONS[0]}, got {doc.get('kind')!s} of"
            f" {doc.get('apiVersion')!s}"
        )
    problems = _Problems()
    authenticators = [
        _jwt(item, f"jwt[{i}]", problems) for i, item in enumerate(doc.get("jwt") or [])
    ]
    seen: set[str] = set()
    for i, jwt in enumerate(authenticators):
        if jwt.issuer_url and jwt.issuer_url in seen:
            problems.add(f"jwt[{i}].issuer.url", f'Duplicate value: "{jwt.issuer_url}"')
        seen.add(jwt.issuer_url)
    if problems.items:
        raise InputError(f"{source}: " + "; ".join(problems.items))
    return tuple(authenticators)


@dataclass(frozen=True)
class LegacyOIDCFlags:
    """Rule 5's flags."""

    issuer_url: str = ""
    client_id: str = ""
    username_claim: str = "sub"
    username_prefix: str = ""
    groups_claim: str = ""
    groups_prefix: str = ""
    required_claims: dict[str, str] = field(default_factory=dict)
    ca_pem: str = ""
    signing_algorithms: tuple[str, ...] = ("RS256",)

    @property
    def given(self) -> bool:
        return bool(self.issuer_url or self.client_id)


def from_legacy_flags(flags: LegacyOIDCFlags) -> JWTAuthenticatorConfig:
    """Rule 5 (InputError for an incomplete set of flags)."""
    if not flags.issuer_url or not flags.client_id:
        raise InputError("oidc-issuer-url and oidc-client-id must be specified together")
    problems = _Problems()
    _check_url(flags.issuer_url, "oidc-issuer-url", problems)
    if problems.items:
        raise InputError("; ".join(problems.items))
    prefix = flags.username_prefix
    if prefix == "-":
        prefix = ""
    elif not prefix and flags.username_claim != "email":
        prefix = flags.issuer_url + "#"
    return JWTAuthenticatorConfig(
        issuer_url=flags.issuer_url,
        audiences=(flags.client_id,),
        certificate_authority=flags.ca_pem,
        username=ClaimOrExpression(claim=flags.username_claim, prefix=prefix),
        groups=ClaimOrExpression(claim=flags.groups_claim, prefix=flags.groups_prefix)
        if flags.groups_claim
        else ClaimOrExpression(),
        claim_rules=tuple(
            ClaimRule(claim=k, required_value=v) for k, v in sorted(flags.required_claims.items())
        ),
        signing_algorithms=flags.signing_algorithms,
    )
