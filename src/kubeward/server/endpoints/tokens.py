"""Token endpoints: TokenRequest, TokenReview and service-account issuer discovery.

Rules:
 1. ``POST .../serviceaccounts/NAME/token`` (TokenRequest, authentication.k8s.io/v1) answers
    201 with a signed token. ``spec.expirationSeconds`` defaults to 3600, must be at least 600
    and at most 2^32, and is lowered to ``--service-account-max-token-expiration`` when that is
    set; ``spec.audiences`` defaults to the API audiences. A missing service account is 404.
 2. ``spec.boundObjectRef`` names a Pod, Secret or Node (apiVersion v1) that must exist; a uid,
    when given, must match (409 otherwise, as upstream); a pod must run as this service account.
    A pod-bound token also names the pod's node when the pod is scheduled.
 3. ``POST /apis/authentication.k8s.io/v1/tokenreviews`` asks the whole authenticator union
    (service-account tokens, static tokens, ...) with the review's audiences (the API audiences
    when none are given) and answers ``status.authenticated``, ``user``, ``audiences`` or
    ``error``; nothing is stored.
 4. ``/.well-known/openid-configuration`` and ``/openid/v1/jwks`` publish the issuer and the
    verification keys, authorized as non-resource URLs: Kubernetes' default policy lets every
    service account read them (``system:service-account-issuer-discovery``), and an operator
    binds that role to ``system:unauthenticated`` to open them to anyone.
 2a. A TokenRequest passes the admission chain (CREATE of ``serviceaccounts/token``, the
    TokenRequest as the object) before anything is looked up or signed, as upstream's does:
    NodeRestriction thus lets a node ask only for tokens bound to its own pods.
 5. Without the signing flags there is no TokenRequest. kube-apiserver then does not install
    the ``token`` subresource, so a request for it is 404 NotFound; kubeward answers the same
    code and reason, but its message (which ``kubectl create token`` prints) says that
    signing is not configured and names the flags that turn it on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubeward.admission.interfaces import CREATE, AdmissionRequest
from kubeward.api import meta as m
from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.core import NODES, PODS, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.api.user import UserInfo
from kubeward.authn.serviceaccount_keys import KeySet
from kubeward.authn.serviceaccount_tokens import BOUND_KINDS, BoundObject, ObjectRef, TokenIssuer
from kubeward.errors import (
    AuthenticationError,
    BadRequest,
    Cause,
    Conflict,
    NotFound,
    StatusDetails,
    invalid,
)
from kubeward.server.endpoints.bodies import read_body_as
from kubeward.server.http import json_response

if TYPE_CHECKING:
    from kubeward.api.registry.store import Store
    from kubeward.server.app import APIServer
    from kubeward.server.resources import ResourceHandlers

log = logging.getLogger("kubeward.apiserver.tokens")

AUTHENTICATION_GROUP = "authentication.k8s.io"
AUTHENTICATION_V1 = f"{AUTHENTICATION_GROUP}/v1"
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"


@dataclass(frozen=True)
class TokenSettings:
    """What the token endpoints need from the flags."""

    issuer: TokenIssuer
    keys: KeySet
    api_audiences: tuple[str, ...]
    max_expiration_seconds: int = 0  # 0: no cap
    jwks_uri: str = ""


class TokenRequests:
    """The ``serviceaccounts/token`` subresource (rules 1 and 2)."""

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        settings: TokenSettings,
        handlers: ResourceHandlers | None = None,
    ) -> None:
        self._stores = stores
        self._settings = settings
        self._handlers = handlers

    async def __call__(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        obj = (
            await read_body_as(request, body, group=AUTHENTICATION_GROUP, kind="TokenRequest")
            if body.strip()
            else {}
        )
        await self._admit(info, user, obj)
        spec = dict(obj.get("spec") or {})
        expiration = self._expiration(info.name, spec.get("expirationSeconds"))
        audiences = (
            tuple(str(a) for a in spec.get("audiences") or ()) or self._settings.api_audiences
        )
        namespace = info.namespace
        sa = await self._stores[SERVICEACCOUNTS].get(namespace, info.name)
        sa_ref = ObjectRef(m.name_of(sa), str(m.metadata(sa).get("uid", "")))
        bound, node = await self._bound_object(namespace, info.name, spec.get("boundObjectRef"))
        issued = self._settings.issuer.issue(
            namespace=namespace,
            service_account=sa_ref,
            audiences=audiences,
            expiration_seconds=expiration,
            bound=bound,
            node=node,
        )
        spec["audiences"] = list(audiences)
        spec["expirationSeconds"] = expiration
        if bound is not None:
            spec["boundObjectRef"] = {
                "kind": bound.kind,
                "apiVersion": "v1",
                "name": bound.ref.name,
                "uid": bound.ref.uid,
            }
        else:
            spec.pop("boundObjectRef", None)
        log.info(
            "issued token for %s/%s (%ds, audiences %s) to %s",
            namespace,
            info.name,
            expiration,
            list(audiences),
            user.name,
        )
        return json_response(
            {
                "kind": "TokenRequest",
                "apiVersion": AUTHENTICATION_V1,
                "metadata": {
                    "name": info.name,
                    "namespace": namespace,
                    "creationTimestamp": m.format_time(m.now()),
                },
                "spec": spec,
                "status": {
                    "token": issued.token,
                    "expirationTimestamp": m.format_time(_from_unix(issued.expires_at)),
                },
            },
            201,
        )

    async def _admit(self, info: RequestInfo, user: UserInfo, obj: dict[str, Any]) -> None:
        """Rule 2a (the chain the server's handlers hold, read when the request comes)."""
        if self._handlers is None:
            return
        request = AdmissionRequest(
            CREATE,
            "",
            "serviceaccounts",
            "TokenRequest",
            "token",
            info.namespace,
            info.name,
            user,
            obj,
            verb="create",
        )
        await self._handlers.admission.admit(request, self._handlers.object_reader)

    def _expiration(self, name: str, value: Any) -> int:
        if value in (None, 0):
            seconds = DEFAULT_EXPIRATION_SECONDS
        elif isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        else:
            raise BadRequest("spec.expirationSeconds must be an integer")
        if seconds < MIN_EXPIRATION_SECONDS:
            raise invalid(
                "TokenRequest",
                name,
                [
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
                        "spec.expirationSeconds",
                    )
                ],
                "authentication.k8s.io",
            )
        if seconds > MAX_EXPIRATION_SECONDS:
            raise invalid(
                "TokenRequest",
                name,
                [
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds",
                        "spec.expirationSeconds",
                    )
                ],
                "authentication.k8s.io",
            )
        cap = self._settings.max_expiration_seconds
        return min(seconds, cap) if cap else seconds

    async def _bound_object(
        self, namespace: str, sa_name: str, ref: Any
    ) -> tuple[BoundObject | None, ObjectRef | None]:
        if not ref:
            return None, None
        if not isinstance(ref, dict):
            raise BadRequest("spec.boundObjectRef must be an object")
        kind = str(ref.get("kind") or "")
        name = str(ref.get("name") or "")
        api_version = str(ref.get("apiVersion") or "v1")
        if kind not in BOUND_KINDS or api_version != "v1":
            raise BadRequest(
                f'cannot bind token for serviceaccount "{sa_name}" to object of type {api_version}, Kind={kind}'
            )
        if not name:
            raise BadRequest("spec.boundObjectRef.name: Required value")
        store = self._stores[{"Pod": PODS, "Secret": SECRETS, "Node": NODES}[kind]]
        obj = await store.get("" if kind == "Node" else namespace, name)
        uid = str(m.metadata(obj).get("uid", ""))
        wanted_uid = str(ref.get("uid") or "")
        if wanted_uid and wanted_uid != uid:
            raise Conflict(
                f"the UID in the bound object reference ({wanted_uid}) does not match the UID in record. "
                "The object might have been deleted and then recreated",
                StatusDetails(name=name, kind=store.rt.resource),
            )
        node: ObjectRef | None = None
        if kind == "Pod":
            pod_sa = (obj.get("spec") or {}).get("serviceAccountName") or "default"
            if pod_sa != sa_name:
                raise BadRequest(
                    f'cannot bind token to pod "{name}": it runs as service account "{pod_sa}", not "{sa_name}"'
                )
            node_name = (obj.get("spec") or {}).get("nodeName")
            if node_name:
                try:
                    found = await self._stores[NODES].get("", str(node_name))
                    node = ObjectRef(str(node_name), str(m.metadata(found).get("uid", "")))
                except NotFound:
                    node = ObjectRef(str(node_name), "")
        return BoundObject(kind, ObjectRef(name, uid)), node


def _from_unix(seconds: int) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


class TokenReviews:
    """``tokenreviews`` (rule 3), answered by the server's whole authenticator union."""

    def __init__(self, server: APIServer, api_audiences: tuple[str, ...]) -> None:
        self._server = server
        self._api_audiences = api_audiences

    async def __call__(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        obj = await read_body_as(request, body, group=AUTHENTICATION_GROUP, kind="TokenReview")
        spec = dict(obj.get("spec") or {})
        token = spec.get("token")
        if not isinstance(token, str) or not token:
            raise invalid(
                "TokenReview",
                "",
                [Cause("FieldValueRequired", "Required value", "spec.token")],
                "authentication.k8s.io",
            )
        audiences = tuple(str(a) for a in spec.get("audiences") or ())
        status: dict[str, Any] = {"user": {}}
        try:
            response = await self._server.authenticator.verify_token_async(token, audiences)
        except AuthenticationError as exc:
            log.info("TokenReview by %s: token refused: %s", user.name, exc)
            status["authenticated"] = False
            status["error"] = str(exc)
            response = None
        if response is not None:
            status["authenticated"] = True
            status["user"] = response.user.to_dict()
            status["audiences"] = list(response.audiences or audiences or self._api_audiences)
        elif "error" not in status:
            status["authenticated"] = False
            status["error"] = "[invalid bearer token]"
        return json_response(
            {
                "kind": "TokenReview",
                "apiVersion": AUTHENTICATION_V1,
                "metadata": {"creationTimestamp": None},
                "spec": spec,
                "status": status,
            },
            201,
        )


def discovery_document(settings: TokenSettings) -> dict[str, Any]:
    """The OpenID provider metadata for the service-account issuer (rule 4)."""
    issuer = settings.issuer.issuer
    algorithms = sorted({entry.algorithm for entry in settings.keys.entries()})
    return {
        "issuer": issuer,
        "jwks_uri": settings.jwks_uri or issuer.rstrip("/") + JWKS_PATH,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
    }


SIGNING_NOT_CONFIGURED = (
    "service-account token signing is not configured on this server: start it with "
    "--service-account-issuer and --service-account-signing-key-file (and "
    "--service-account-key-file for any further keys that verify tokens)"
)


async def token_requests_not_configured(
    request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
) -> web.StreamResponse:
    """The ``serviceaccounts/token`` subresource of a server without the signing flags (rule 5).

    Raises:
        NotFound: always, with a message naming the flags.
    """
    raise NotFound(
        f'cannot create a token for serviceaccount "{info.name}": {SIGNING_NOT_CONFIGURED}'
    )


def register_without_signing(server: APIServer) -> None:
    """Rule 5: answer TokenRequests with what is missing instead of an unknown method.

    TokenReview is served all the same, as kube-apiserver serves it: the token file and any
    other token authenticator still answer it.
    """
    server.virtual[("", "serviceaccounts", "token")] = token_requests_not_configured
    server.virtual[("authentication.k8s.io", "tokenreviews", "")] = TokenReviews(server, ())


def register(server: APIServer, stores: dict[ResourceType, Store], settings: TokenSettings) -> None:
    """Serve TokenRequest, TokenReview and the issuer discovery documents on ``server``."""
    server.virtual[("", "serviceaccounts", "token")] = TokenRequests(
        stores, settings, server.handlers
    )
    server.virtual[("authentication.k8s.io", "tokenreviews", "")] = TokenReviews(
        server, settings.api_audiences
    )
    discovery = discovery_document(settings)
    public = {"Cache-Control": "public, max-age=3600"}

    async def openid_configuration(request: web.Request) -> web.StreamResponse:
        response = json_response(discovery, headers=public)
        return response

    async def jwks(request: web.Request) -> web.StreamResponse:
        return json_response(
            settings.keys.jwks(), content_type="application/jwk-set+json", headers=public
        )

    server.non_resource[DISCOVERY_PATH] = openid_configuration
    server.non_resource[JWKS_PATH] = jwks
