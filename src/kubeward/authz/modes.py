"""The one place that knows every authorization mode: ``--authorization-mode`` → a chain.

Rules:
 1. Modes are Kubernetes' names: AlwaysAllow, AlwaysDeny, ABAC, Webhook, RBAC, Node. The flag
    is validated as kube-apiserver validates it: at least one mode, each a known one, none
    twice — with kube-apiserver's messages, joined as its errors are.
 2. ABAC needs ``--authorization-policy-file`` and Webhook
    ``--authorization-webhook-config-file``, and each file needs its mode, with
    kube-apiserver's messages.
 3. The chain asks, in order: the ``system:masters`` authorizer (always first, as in
    Kubernetes), then each mode in the order given. First ALLOW or DENY wins (``union``).
 4. The chain's rule resolver (SelfSubjectRulesReview) unions every mode's rules (a Webhook
    marks the answer incomplete, as a node's are under Node) — not the ``system:masters``
    authorizer's.
 5. Node decides from a graph the server keeps current from its informers (``authz.node``)
    and, for what it does not subdivide, from the rules of the ``system:node`` ClusterRole of
    the bootstrap policy (upstream's ``NodeRules()``), matched as RBAC matches rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubeward.api.user import UserInfo
from kubeward.authz.abac import ABACAuthorizer
from kubeward.authz.aggregate import aggregate_messages
from kubeward.authz.always import (
    ALWAYS_ALLOW,
    ALWAYS_DENY,
    AlwaysAllowAuthorizer,
    AlwaysDenyAuthorizer,
)
from kubeward.authz.interfaces import Attributes, Authorizer, AuthzResult, RuleResolver, RulesResult
from kubeward.authz.node import Graph, NodeAuthorizer
from kubeward.authz.privileged import PrivilegedGroupsAuthorizer
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.bootstrap import cluster_roles
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.rules import go_quote, go_quote_list, rules_allow, rules_from_list
from kubeward.authz.union import UnionAuthorizer, UnionRuleResolver
from kubeward.authz.webhook import Backoff, ReviewTransport, WebhookAuthorizer, WebhookSettings
from kubeward.errors import InputError

__all__ = [
    "AUTHORIZATION_MODE_CHOICES",
    "AuthorizerChain",
    "Backoff",
    "WebhookOptions",
    "WebhookSettings",
    "build_authorizer",
    "parse_modes",
    "rbac_rules",
    "validate_modes",
]

MODE_ALWAYS_ALLOW = ALWAYS_ALLOW
MODE_ALWAYS_DENY = ALWAYS_DENY
MODE_ABAC = ABACAuthorizer.name
MODE_WEBHOOK = "Webhook"
WEBHOOK_VERSIONS = ("v1", "v1beta1")
MODE_RBAC = "RBAC"
MODE_NODE = "Node"

# Kubernetes' AuthorizationModeChoices, in its order.
AUTHORIZATION_MODE_CHOICES = (
    MODE_ALWAYS_ALLOW,
    MODE_ALWAYS_DENY,
    MODE_ABAC,
    MODE_WEBHOOK,
    MODE_RBAC,
    MODE_NODE,
)
SUPPORTED_MODES = (
    MODE_ALWAYS_ALLOW,
    MODE_ALWAYS_DENY,
    MODE_ABAC,
    MODE_WEBHOOK,
    MODE_RBAC,
    MODE_NODE,
)
NODE_ROLE = "system:node"


@dataclass(frozen=True)
class WebhookOptions:
    """``--authorization-webhook-*``: the kubeconfig naming the webhook, and how to call it.

    ``transport`` makes the HTTPS client from the kubeconfig (the server's wiring gives
    ``client.webhook.WebhookClient``; this layer holds no HTTP code).
    """

    config_file: Path
    transport: Callable[[Path], ReviewTransport]
    settings: WebhookSettings = field(default_factory=WebhookSettings)


def parse_modes(flag_value: str) -> list[str]:
    """Split a ``--authorization-mode=RBAC,Node`` value as pflag's string slice does."""
    return [] if flag_value == "" else flag_value.split(",")


def validate_modes(
    modes: Sequence[str],
    policy_file: str | os.PathLike[str] | None = None,
    webhook_config_file: str | os.PathLike[str] | None = None,
) -> list[str]:
    """kube-apiserver's checks of ``--authorization-mode``, with its messages."""
    problems: list[str] = []
    if not modes:
        problems.append("at least one authorization-mode must be passed")
    for mode in modes:
        if mode not in AUTHORIZATION_MODE_CHOICES:
            problems.append(f"authorization-mode {go_quote(mode)} is not a valid mode")
        if mode == MODE_ABAC and not policy_file:
            problems.append("authorization-mode ABAC's authorization policy file not passed")
        if mode == MODE_WEBHOOK and not webhook_config_file:
            problems.append("authorization-mode Webhook's authorization config file not passed")
    if len(set(modes)) != len(modes):
        problems.append(
            f"authorization-mode {go_quote_list(modes)} has mode specified more than once"
        )
    if policy_file and MODE_ABAC not in modes:
        problems.append("cannot specify --authorization-policy-file without mode ABAC")
    if webhook_config_file and MODE_WEBHOOK not in modes:
        problems.append("cannot specify --authorization-webhook-config-file without mode Webhook")
    return problems


class AuthorizerChain:
    """The configured authorizers and rule resolvers; an Authorizer and a RuleResolver."""

    name = "chain"

    def __init__(
        self,
        modes: Sequence[str],
        authorizers: Sequence[Authorizer],
        resolvers: Sequence[RuleResolver],
        rbac: RBACAuthorizer | None,
        abac: ABACAuthorizer | None = None,
        node: NodeAuthorizer | None = None,
    ) -> None:
        self.modes = tuple(modes)
        self.authorizers = tuple(authorizers)
        self.rbac = rbac
        self.abac = abac
        self.node = node
        self._union = UnionAuthorizer(authorizers)
        self._resolver = UnionRuleResolver(resolvers)

    def authorize(self, attributes: Attributes) -> AuthzResult:
        return self._union.authorize(attributes)

    async def authorize_async(self, attributes: Attributes) -> AuthzResult:
        return await self._union.authorize_async(attributes)

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        return self._resolver.rules_for(user, namespace)


def node_rules_allow(attributes: Attributes) -> bool:
    """Rule 5: whether the ``system:node`` ClusterRole's rules allow the request."""
    return rules_allow(attributes, _NODE_RULES)


_NODE_RULES = next(
    rules_from_list(role["rules"])
    for role in cluster_roles()
    if role["metadata"]["name"] == NODE_ROLE
)


def build_authorizer(
    modes: Sequence[str],
    *,
    rbac_index: RBACIndex | None = None,
    explain_denials: bool = True,
    policy_file: str | os.PathLike[str] | None = None,
    webhook: WebhookOptions | None = None,
    node_graph: Graph | None = None,
) -> AuthorizerChain:
    """Build the chain for ``--authorization-mode``.

    Args:
        modes: the modes in order, e.g. ``parse_modes("RBAC,AlwaysDeny")``.
        rbac_index: the index the server keeps current from watches; a fresh empty one is made
            when RBAC is asked for and none is given (reach it as ``chain.rbac.index``).
        explain_denials: whether RBAC records the near misses of every refusal.
        policy_file: ``--authorization-policy-file``, the ABAC policy (ABAC needs it).
        webhook: ``--authorization-webhook-*`` (Webhook needs it).
        node_graph: the graph the server keeps current for the Node mode; a fresh empty one
            is made when Node is asked for and none is given (reach it as ``chain.node.graph``).

    Raises:
        InputError: the modes are not valid, name a mode not supported yet, or the policy
            file cannot be read (naming its bad line).
    """
    problems = validate_modes(modes, policy_file, webhook.config_file if webhook else None)
    if webhook is not None and webhook.settings.version not in WEBHOOK_VERSIONS:
        problems.append(
            f"authorization-webhook-version: Unsupported value: {go_quote(webhook.settings.version)}:"
            ' supported values: "v1", "v1beta1"'
        )
    if problems:
        raise InputError(aggregate_messages(problems))
    unsupported = [m for m in modes if m not in SUPPORTED_MODES]
    if unsupported:
        raise InputError(f"authorization mode {unsupported[0]} is not supported yet")

    authorizers: list[Authorizer] = [PrivilegedGroupsAuthorizer()]
    resolvers: list[RuleResolver] = []
    rbac: RBACAuthorizer | None = None
    abac: ABACAuthorizer | None = None
    node: NodeAuthorizer | None = None
    for mode in modes:
        if mode == MODE_ALWAYS_ALLOW:
            always_allow = AlwaysAllowAuthorizer()
            authorizers.append(always_allow)
            resolvers.append(always_allow)
        elif mode == MODE_ALWAYS_DENY:
            always_deny = AlwaysDenyAuthorizer()
            authorizers.append(always_deny)
            resolvers.append(always_deny)
        elif mode == MODE_RBAC:
            index = rbac_index if rbac_index is not None else RBACIndex()
            rbac = RBACAuthorizer(index, explain_denials=explain_denials)
            authorizers.append(rbac)
            resolvers.append(rbac)
        elif mode == MODE_ABAC and policy_file:
            abac = ABACAuthorizer(policy_file)
            authorizers.append(abac)
            resolvers.append(abac)
        elif mode == MODE_WEBHOOK and webhook is not None:
            remote = WebhookAuthorizer(webhook.transport(webhook.config_file), webhook.settings)
            authorizers.append(remote)
            resolvers.append(remote)
        elif mode == MODE_NODE:
            node = NodeAuthorizer(
                node_graph if node_graph is not None else Graph(), node_rules_allow
            )
            authorizers.append(node)
            resolvers.append(node)
    return AuthorizerChain(modes, authorizers, resolvers, rbac, abac, node)


def rbac_rules(chain: AuthorizerChain, index: RBACIndex) -> RBACAuthorizer:
    """The RBAC authorizer whose rules escalation checks and reviews read.

    The chain's own when RBAC is a mode; otherwise one over the same index, which decides
    nothing in the chain but still says what a user's roles grant (escalation prevention applies
    to RBAC objects whatever the modes, as upstream's RBAC storage does).
    """
    return chain.rbac if chain.rbac is not None else RBACAuthorizer(index)
