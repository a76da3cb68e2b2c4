"""Authorization: may ``state.user`` do ``state.info``? The last filter before the handler.

Rules:
 1. The request info becomes authorization ``Attributes`` (a resource request: verb, group,
    version, resource, subresource, namespace, name; otherwise the verb and the path).
 2. The authorizer chain (``authz.modes``) decides; anything but ALLOW is a 403 worded as
    Kubernetes words it (``User "jane" cannot list resource "pods" in API group "" in the
    namespace "default"``), followed by the deciding authorizer's reason when it gave one.
 3. When no authorizer allows and one could not decide (a webhook failed), the answer is 500
    ``Internal error occurred: <error>``, as kube-apiserver answers.
"""

from __future__ import annotations

from aiohttp import web

from kubeward.api.request_info import RequestInfo
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Authorizer, Decision, decide
from kubeward.errors import Forbidden, InternalError, StatusDetails
from kubeward.server.filters.interfaces import Handler, RequestState


def attributes_for(info: RequestInfo, user: UserInfo) -> Attributes:
    """Rule 1."""
    if not info.is_resource_request:
        return Attributes(user=user, verb=info.verb, resource_request=False, path=info.path)
    return Attributes(
        user=user,
        verb=info.verb,
        namespace=info.namespace,
        api_group=info.api_group,
        api_version=info.api_version,
        resource=info.resource,
        subresource=info.subresource,
        name=info.name,
        field_selector=info.field_selector,
    )


def forbidden_message(attributes: Attributes) -> str:
    """Kubernetes' wording: ``User "jane" cannot list resource "pods" in API group "" in the namespace "default"``."""
    user = attributes.user.name
    if not attributes.resource_request:
        return f'User "{user}" cannot {attributes.verb} path "{attributes.path}"'
    resource = attributes.resource
    if attributes.subresource:
        resource = f"{resource}/{attributes.subresource}"
    if attributes.namespace:
        return (
            f'User "{user}" cannot {attributes.verb} resource "{resource}" in API group '
            f'"{attributes.api_group}" in the namespace "{attributes.namespace}"'
        )
    return f'User "{user}" cannot {attributes.verb} resource "{resource}" in API group "{attributes.api_group}" at the cluster scope'


def forbidden(attributes: Attributes, reason: str = "") -> Forbidden:
    """The 403 of rule 2."""
    message = forbidden_message(attributes)
    if reason:
        message = f"{message}: {reason}"
    if not attributes.resource_request:
        return Forbidden(f"forbidden: {message}", StatusDetails())
    qualified = (
        f"{attributes.resource}.{attributes.api_group}"
        if attributes.api_group
        else attributes.resource
    )
    if attributes.name:
        text = f'{qualified} "{attributes.name}" is forbidden: {message}'
    else:
        text = f"{qualified} is forbidden: {message}"
    return Forbidden(
        text,
        StatusDetails(name=attributes.name, group=attributes.api_group, kind=attributes.resource),
    )


class Authorization:
    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        attributes = attributes_for(state.info, state.user)
        result = await decide(self.authorizer, attributes)
        if result.decision is not Decision.ALLOW:
            if result.error:  # an authorizer could not decide (interfaces rule 5)
                raise InternalError(f"Internal error occurred: {result.error}")
            raise forbidden(attributes, result.reason)
        return await next(state)
