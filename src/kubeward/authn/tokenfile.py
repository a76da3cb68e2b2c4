"""``--token-auth-file``: static bearer tokens from a CSV file (see ``csvfile``)."""

from __future__ import annotations

import os

from kubeward.authn.csvfile import CredentialFile
from kubeward.authn.interfaces import AuthRequest, AuthResponse


class TokenFileAuthenticator:
    name = "token-file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = CredentialFile(path)

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        found = self._file.lookup(token)
        if found is None:
            return None
        return AuthResponse(found.user, self.name)

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)
