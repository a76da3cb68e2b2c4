"""The CEL expressions of JWT authenticators: claim mappings and validation rules.

Rules (``apiserver.config.k8s.io/v1`` AuthenticationConfiguration):
 1. Claim mappings, extra values and claim validation rules see ``claims`` (the token's verified
    claims, a map); user validation rules see ``user`` (``username``, ``uid``, ``groups``,
    ``extra``). Expressions are compiled when the configuration is loaded, so a bad one refuses
    the file (naming the expression and cel-go's error), and evaluated per token within the
    per-call cost limit.
"""

from __future__ import annotations

from typing import Any

from kubeward.authn.oidc.config import JWTAuthenticatorConfig
from kubeward.cel import PER_CALL_LIMIT, Environment, Program, types
from kubeward.errors import CELCompileError, InputError

_CLAIMS = Environment({"claims": types.map_of(types.STRING, types.DYN)})
_USER = Environment({"user": types.map_of(types.STRING, types.DYN)})


class ClaimExpressions:
    """Compiled expressions of every authenticator, by source text."""

    def __init__(self) -> None:
        self._programs: dict[tuple[str, str], Program] = {}

    def _compile(self, variable: str, source: str) -> Program:
        key = (variable, source)
        program = self._programs.get(key)
        if program is None:
            env = _USER if variable == "user" else _CLAIMS
            program = self._programs[key] = env.compile(source)
        return program

    def check(self, config: JWTAuthenticatorConfig) -> None:
        """Rule 1 at load time (InputError naming the authenticator and the expression)."""
        user_rules = {r.expression for r in config.user_rules}
        for source in config.expressions:
            try:
                self._compile("user" if source in user_rules else "claims", source)
            except CELCompileError as exc:
                raise InputError(
                    f"jwt issuer {config.issuer_url}: expression {source!r}: {exc}"
                ) from exc

    def evaluate(self, source: str, activation: dict[str, Any]) -> Any:
        variable = "user" if "user" in activation else "claims"
        return self._compile(variable, source).evaluate(activation, cost_limit=PER_CALL_LIMIT)
