"""Every JWT authenticator of the configuration, followed when the file changes.

``--authentication-config`` is re-read when it changes (``fileio.ReloadingFile``), as
kube-apiserver 1.30+ reloads it: the authenticators are rebuilt from the new file, and a file
that no longer parses keeps the previous ones (logged). With the ``--oidc-*`` flags the one
authenticator is fixed. A token is offered to each authenticator in turn; the first whose
issuer it names decides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.authn.oidc.authenticator import Evaluator, JWTAuthenticator
from kubeward.authn.oidc.config import JWTAuthenticatorConfig, parse_authentication_configuration
from kubeward.authn.oidc.keys import JSONFetcher
from kubeward.fileio import ReloadingFile

# Checks a configuration's CEL expressions at load time (InputError naming the bad one).
ExpressionCheck = Callable[[JWTAuthenticatorConfig], None]


class JWTAuthenticators:
    name = "jwt"

    def __init__(
        self,
        fetcher: JSONFetcher,
        *,
        config_file: str | os.PathLike[str] | None = None,
        fixed: Sequence[JWTAuthenticatorConfig] = (),
        evaluate: Evaluator | None = None,
        check: ExpressionCheck | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._evaluate = evaluate
        self._check = check
        self._file: ReloadingFile[tuple[JWTAuthenticatorConfig, ...]] | None = None
        self._built_from: tuple[JWTAuthenticatorConfig, ...] = tuple(fixed)
        if config_file is not None:
            self._file = ReloadingFile(config_file, self._parse)
            self._built_from = self._file.value
        self._authenticators = self._build(self._built_from)

    def _parse(self, text: str, source: str) -> tuple[JWTAuthenticatorConfig, ...]:
        configs = parse_authentication_configuration(text, source)
        if self._check is not None:
            for config in configs:
                self._check(config)
        return configs

    def _build(self, configs: Sequence[JWTAuthenticatorConfig]) -> list[JWTAuthenticator]:
        return [JWTAuthenticator(c, self._fetcher, self._evaluate) for c in configs]

    def current(self) -> list[JWTAuthenticator]:
        if self._file is not None:
            configs = self._file.value
            if configs is not self._built_from:
                self._built_from = configs
                self._authenticators = self._build(configs)
        return self._authenticators

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        for authenticator in self.current():
            response = authenticator.authenticate_token(token, audiences)
            if response is not None:
                return response
        return None

    async def authenticate_token_async(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        for authenticator in self.current():
            response = await authenticator.authenticate_token_async(token, audiences)
            if response is not None:
                return response
        return None

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)
