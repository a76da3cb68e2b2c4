"""``--basic-auth-file``: the legacy password file Kubernetes removed in 1.19.

Rules:
 1. Off unless the flag is given; the server warns at start, and every response to a request
    authenticated this way carries a ``Warning`` header saying the mechanism is deprecated.
 2. The file is keyed by user name (``password,user,uid[,"group1,group2"]``, as
    kube-apiserver's was): the name in the request picks the record and its password is
    checked, so any number of users may share a password.
 3. ``Authorization: Basic`` with a user not in the file, or a wrong password, is 401.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from kubeward.authn.csvfile import CredentialFile, KeyedBy
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import AuthenticationError

WARNING = (
    "basic authentication (--basic-auth-file) was removed from Kubernetes in 1.19; "
    "use client certificates or tokens"
)


class BasicAuthenticator:
    name = "basic-auth-file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = CredentialFile(path, KeyedBy.USER_NAME)

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        value = request.headers.get("Authorization") or ""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise AuthenticationError("basic auth: malformed credentials") from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError("basic auth: malformed credentials")
        found = self._file.lookup_user(user)
        if found is None or not hmac.compare_digest(found.secret.encode(), password.encode()):
            raise AuthenticationError(f"basic auth: invalid password for user {user!r}")
        return AuthResponse(found.user, self.name, warnings=(WARNING,))
