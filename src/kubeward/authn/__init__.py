"""Authentication: who is asking, from the credentials a request carries.

The seam is ``interfaces`` (an :class:`Authenticator` per credential source, a
:class:`TokenAuthenticator` per kind of bearer token); ``union`` composes them as the request
path asks; ``factory`` is the one module that knows every implementation (``x509``,
``tokenfile``, ``basic``, ``serviceaccount``) and builds the union from kube-apiserver's flags.
"""

from kubeward.authn.factory import AuthenticationOptions, build_authenticator
from kubeward.authn.interfaces import Authenticator, AuthRequest, AuthResponse, TokenAuthenticator
from kubeward.authn.union import UnionAuthenticator

__all__ = [
    "AuthRequest",
    "AuthResponse",
    "AuthenticationOptions",
    "Authenticator",
    "TokenAuthenticator",
    "UnionAuthenticator",
    "build_authenticator",
]
