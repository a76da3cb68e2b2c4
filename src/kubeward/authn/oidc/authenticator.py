"""A JWT authenticator: tokens signed by one OpenID issuer, mapped to a Kubernetes user.

Rules (kube-apiserver's ``oidc`` token authenticator):
 1. A token is this authenticator's when its (unverified) ``iss`` claim is the issuer URL;
    any other token is "not mine", so several issuers and the other token authenticators
    coexist.
 2. It must be signed with the issuer's current keys (``oidc.keys``) by an allowed asymmetric
    algorithm, carry ``exp`` (not past: no leeway) and name one of the audiences in ``aud``.
 3. Claims are then checked (``claimValidationRules``) and mapped: the username is the claim's
    string with its prefix — a username claim ``email`` also requires ``email_verified`` to be
    true when present; groups are a string or a list of strings, each prefixed; the uid is a
    string claim. CEL expressions and user validation rules are evaluated by ``kubeward.cel``.
 4. Every refusal is a 401 whose reason says what failed (expired, audience, unknown key, a
    rule), logged by the authentication filter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jwt

from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.authn.oidc.config import ClaimOrExpression, JWTAuthenticatorConfig
from kubeward.authn.oidc.keys import IssuerKeys, JSONFetcher
from kubeward.errors import AuthenticationError, ServiceUnavailable

log = logging.getLogger("kubeward.apiserver")

# Compiled CEL for the expressions of one authenticator: (expression, activation) -> value.
Evaluator = Callable[[str, dict[str, Any]], Any]


def _unverified_issuer(token: str) -> str | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


class JWTAuthenticator:
    """Rules 1-4 for one issuer."""

    name = "jwt"

    def __init__(
        self,
        config: JWTAuthenticatorConfig,
        fetcher: JSONFetcher,
        evaluate: Evaluator | None = None,
    ) -> None:
        self.config = config
        self.keys = IssuerKeys(config, fetcher)
        self._evaluate = evaluate

    def _mine(self, token: str) -> bool:
        return token.count(".") == 2 and _unverified_issuer(token) == self.config.issuer_url

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        if not self._mine(token):
            return None
        return self._verify(token)

    async def authenticate_token_async(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        if not self._mine(token):
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"oidc: malformed jwt: {exc}") from exc
        if self.keys.key(kid) is None:
            try:
                await self.keys.ensure(kid)
            except ServiceUnavailable as exc:
                log.error("oidc: %s", exc)
                raise AuthenticationError(f"oidc: keys of {self.config.issuer_url}: {exc}") from exc
        return self._verify(token)

    def _verify(self, token: str) -> AuthResponse:
        """Rules 2 and 3."""
        config = self.config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"oidc: malformed jwt: {exc}") from exc
        key = self.keys.key(header.get("kid"))
        if key is None:
            if not self.keys.loaded:
                raise AuthenticationError("oidc: authenticator not initialized")
            raise AuthenticationError(
                f"oidc: verify token: failed to verify signature: no key with id"
                f" {header.get('kid')!r} in the issuer's key set"
            )
        if header.get("alg") not in config.signing_algorithms:
            raise AuthenticationError(
                f"oidc: verify token: id token signed with unsupported algorithm, expected"
                f" {list(config.signing_algorithms)} got {header.get('alg')!r}"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[str(header["alg"])],
                audience=list(config.audiences),
                issuer=config.issuer_url,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("oidc: verify token: oidc: token is expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError(
                f"oidc: verify token: oidc: expected audience in {list(config.audiences)}"
            ) from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"oidc: verify token: {exc}") from exc
        for rule in config.claim_rules:
            if rule.expression:
                if self._evaluate_bool(rule.expression, {"claims": claims}) is not True:
                    raise AuthenticationError(
                        f"oidc: error evaluating claim validation expression: {rule.message or rule.expression}"
                    )
            elif claims.get(rule.claim) != rule.required_value:
                raise AuthenticationError(
                    f"oidc: required claim {rule.claim} value does not match."
                    f" Got = {claims.get(rule.claim)!r}, want = {rule.required_value!r}"
                )
        user = UserInfo(
            name=self._username(claims),
            uid=self._single(config.uid, claims, "uid")
            if (config.uid.claim or config.uid.expression)
            else "",
            groups=self._groups(claims),
            extra={
                e.key: self._strings(self._evaluate_value(e.value_expression, {"claims": claims}))
                for e in config.extra
            },
        )
        for rule in config.user_rules:
            activation = {
                "user": {"username": user.name, "uid": user.uid, "groups": list(user.groups)}
            }
            if self._evaluate_bool(rule.expression, activation) is not True:
                raise AuthenticationError(
                    f"oidc: error evaluating user info validation rule: {rule.message or rule.expression}"
                )
        return AuthResponse(user, self.name)

    def _username(self, claims: dict[str, Any]) -> str:
        mapping = self.config.username
        name = self._single(mapping, claims, "username")
        if mapping.claim == "email":
            verified = claims.get("email_verified", True)
            if verified is not True:
                raise AuthenticationError("oidc: email not verified")
        if not name:
            raise AuthenticationError("oidc: claim mapping produced an empty username")
        return name

    def _single(self, mapping: ClaimOrExpression, claims: dict[str, Any], what: str) -> str:
        if mapping.expression:
            value = self._evaluate_value(mapping.expression, {"claims": claims})
        else:
            if mapping.claim not in claims:
                raise AuthenticationError(
                    f"oidc: parse {what} claims {mapping.claim!r}: claim not present"
                )
            value = claims[mapping.claim]
        if not isinstance(value, str):
            raise AuthenticationError(
                f"oidc: {what} claim {mapping.claim or mapping.expression!r} is not a string"
            )
        return (mapping.prefix or "") + value

    def _groups(self, claims: dict[str, Any]) -> tuple[str, ...]:
        mapping = self.config.groups
        if mapping.expression:
            value = self._evaluate_value(mapping.expression, {"claims": claims})
        elif mapping.claim:
            value = claims.get(mapping.claim, [])
        else:
            return ()
        values = self._strings(value)
        return tuple((mapping.prefix or "") + v for v in values)

    @staticmethod
    def _strings(value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise AuthenticationError(
            f"oidc: expected a string or a list of strings, got {type(value).__name__}"
        )

    def _evaluate_value(self, expression: str, activation: dict[str, Any]) -> Any:
        if self._evaluate is None:
            raise AuthenticationError("oidc: CEL expressions are not available")
        try:
            return self._evaluate(expression, activation)
        except AuthenticationError:
            raise
        except Exception as exc:
            raise AuthenticationError(f"oidc: error evaluating {expression!r}: {exc}") from exc

    def _evaluate_bool(self, expression: str, activation: dict[str, Any]) -> Any:
        return self._evaluate_value(expression, activation)

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)
