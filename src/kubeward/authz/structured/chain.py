"""The authorizer chain of ``--authorization-config``, rebuilt when the file changes.

Rules (kube-apiserver 1.32, ``pkg/kubeapiserver/authorizer/reload.go``):
 1. The chain is the ``system:masters`` authorizer, then the configured authorizers in the
    file's order; the first ALLOW or DENY decides (``union``). Several webhooks may be
    configured, each with its own name, settings, match conditions, cache and HTTPS client.
 2. RBAC, Node and ABAC are built once, at start, when the first file names them: a reload
    reuses them (RBAC's index, which the server keeps current from its watches, and Node's
    graph, kept current from its informers, survive every reload). A reload that names one of
    them the first file did not is refused (``authorizer type Node is not allowed if it was not
    enabled at initial server startup``). ABAC reads ``--authorization-policy-file``.
 3. The file is followed (``fileio.ReloadingFile``: checked at most every half second on use,
    where kube-apiserver checks every minute and on file events). A new file that parses and
    builds replaces the chain as a whole; one that does not keeps the previous chain and is
    logged with the reason. At start a bad file is an error.
 4. ``InClusterConfig`` names the credentials of a pod's service account: kubeward's API
    server does not run in a pod, so a webhook configured so cannot be built (an error naming
    the authorizer).
 5. The chain's rule resolver unions every configured authorizer's rules, as ``authz.modes``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubeward.api.user import UserInfo
from kubeward.authz.abac import ABACAuthorizer
from kubeward.authz.always import AlwaysAllowAuthorizer, AlwaysDenyAuthorizer
from kubeward.authz.interfaces import Attributes, Authorizer, AuthzResult, RuleResolver, RulesResult
from kubeward.authz.modes import AuthorizerChain, node_rules_allow
from kubeward.authz.node import Graph, NodeAuthorizer
from kubeward.authz.privileged import PrivilegedGroupsAuthorizer
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.structured.config import (
    CONNECTION_IN_CLUSTER,
    AuthorizerConfig,
    parse_authorization_configuration,
)
from kubeward.authz.union import UnionAuthorizer, UnionRuleResolver
from kubeward.authz.webhook import Backoff, ReviewTransport, WebhookAuthorizer, WebhookSettings
from kubeward.authz.webhook.conditions import MatchConditions
from kubeward.errors import InputError, KubewardError
from kubeward.fileio import ReloadingFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StructuredOptions:
    """What the chain needs besides the file.

    ``transport`` makes a webhook's HTTPS client from its kubeconfig (the server's wiring
    gives ``client.webhook.WebhookClient``); ``backoff`` is the retry schedule of every
    webhook (upstream's, not in the file; tests shorten it).
    """

    config_file: Path
    transport: Callable[[Path], ReviewTransport]
    backoff: Backoff = field(default_factory=Backoff)
    policy_file: str | os.PathLike[str] | None = None
    check_interval: float = 0.5


class ConfiguredAuthorizer(AuthorizerChain):
    """Rules 1-5: an ``AuthorizerChain`` whose authorizers follow the file."""

    def __init__(
        self,
        options: StructuredOptions,
        *,
        rbac_index: RBACIndex | None = None,
        node_graph: Graph | None = None,
        explain_denials: bool = True,
    ) -> None:
        self.options = options
        self._file = ReloadingFile(
            options.config_file,
            parse_authorization_configuration,
            check_interval=options.check_interval,
        )
        configs = self._file.value
        types = {c.type for c in configs}
        rbac = (
            RBACAuthorizer(
                rbac_index if rbac_index is not None else RBACIndex(),
                explain_denials=explain_denials,
            )
            if "RBAC" in types
            else None
        )
        node = (
            NodeAuthorizer(node_graph if node_graph is not None else Graph(), node_rules_allow)
            if "Node" in types
            else None
        )
        abac = None
        if "ABAC" in types:
            if not options.policy_file:
                raise InputError(
                    f"{options.config_file}: authorizer type ABAC needs --authorization-policy-file"
                )
            abac = ABACAuthorizer(options.policy_file)
        super().__init__((), (), (), rbac, abac, node)
        self._built_from = self._configs = configs
        self._install(configs, self._build(configs))

    def _build(
        self, configs: Sequence[AuthorizerConfig]
    ) -> tuple[list[Authorizer], list[RuleResolver]]:
        """Rules 1, 2 and 4 (InputError when the chain cannot be built)."""
        authorizers: list[Authorizer] = [PrivilegedGroupsAuthorizer()]
        resolvers: list[RuleResolver] = []
        for config in configs:
            if config.type == "AlwaysAllow":
                allow = AlwaysAllowAuthorizer()
                authorizers.append(allow)
                resolvers.append(allow)
            elif config.type == "AlwaysDeny":
                deny = AlwaysDenyAuthorizer()
                authorizers.append(deny)
                resolvers.append(deny)
            elif config.type == "Webhook":
                webhook = self._webhook(config)
                authorizers.append(webhook)
                resolvers.append(webhook)
            else:
                fixed = {"RBAC": self.rbac, "Node": self.node, "ABAC": self.abac}[config.type]
                if fixed is None:
                    raise InputError(
                        f"authorizer type {config.type} is not allowed if it was not enabled"
                        " at initial server startup"
                    )
                authorizers.append(fixed)
                resolvers.append(fixed)
        return authorizers, resolvers

    def _webhook(self, config: AuthorizerConfig) -> WebhookAuthorizer:
        spec = config.webhook
        assert spec is not None  # the parser requires it for type Webhook
        if spec.connection_type == CONNECTION_IN_CLUSTER:
            raise InputError(
                f"authorizer {config.name}: connectionInfo type {CONNECTION_IN_CLUSTER} is not"
                " supported: kubeward's API server does not run in a pod"
            )
        settings = WebhookSettings(
            version=spec.subject_access_review_version,
            authorized_ttl=spec.authorized_ttl,
            unauthorized_ttl=spec.unauthorized_ttl,
            timeout=spec.timeout,
            backoff=self.options.backoff,
            failure_policy=spec.failure_policy,
        )
        return WebhookAuthorizer(
            self.options.transport(Path(spec.kubeconfig_file)),
            settings,
            name=config.name,
            conditions=MatchConditions(spec.match_conditions),
        )

    def _install(
        self,
        configs: Sequence[AuthorizerConfig],
        built: tuple[list[Authorizer], list[RuleResolver]],
    ) -> None:
        authorizers, resolvers = built
        self.modes = tuple(c.type for c in configs)
        self.names = tuple(c.name for c in configs)
        self.authorizers = tuple(authorizers)
        self._union = UnionAuthorizer(authorizers)
        self._resolver = UnionRuleResolver(resolvers)

    def _follow(self) -> None:
        """Rule 3."""
        configs = self._file.value
        if configs is self._built_from:
            return
        self._built_from = configs
        if configs == self._configs:
            return  # the same authorizers, written differently
        try:
            built = self._build(configs)
        except KubewardError as exc:  # a kubeconfig that cannot be used, a type not built
            log.error(
                "%s: reloading authorization config: %s; keeping the previous authorizers",
                self.options.config_file,
                exc,
            )
            return
        self._install(configs, built)
        self._configs = configs
        log.info("%s: reloaded authz config: %s", self.options.config_file, ", ".join(self.names))

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self._follow()
        return self._union.authorize(attributes)

    async def authorize_async(self, attributes: Attributes) -> AuthzResult:
        self._follow()
        return await self._union.authorize_async(attributes)

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        self._follow()
        return self._resolver.rules_for(user, namespace)
