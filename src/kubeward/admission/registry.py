"""Every admission plugin kubeward has, by Kubernetes' name, and the chain the flags ask for.

This is the one module that imports the plugin implementations, as kube-apiserver's
``pkg/kubeapiserver/options/plugins.go`` registers them. Rules (``--enable-admission-plugins``
/ ``--disable-admission-plugins``, as ``k8s.io/apiserver/pkg/server/options/admission.go``):

 1. Plugin names are Kubernetes' own. A name Kubernetes does not know is refused with
    kube-apiserver's message (``enable-admission-plugins plugin "X" is unknown``); so is a
    name in both flags (``[X] in enable-admission-plugins and disable-admission-plugins
    overlapped``). Every error is reported at once.
 2. The plugins upstream turns on by default stay on unless disabled; the enable flag adds to
    them. Of those, the ones kubeward has are :data:`DEFAULT_ENABLED`.
 3. Plugins run in Kubernetes' fixed order (``AllOrderedPlugins`` of 1.32), never the order of
    the flag; mutating ones all run before validating ones (``admission.chain``).
 4. A plugin Kubernetes has and kubeward does not is skipped when it is merely on by default
    (its effect is absent, as in a cluster without that API) and refused when asked for
    explicitly, so that nobody believes a protection is on when it is not. Disabling one is
    accepted: there is nothing to turn off.
 5. A plugin that asks for the authorizer (``set_authorizer``) gets the server's chain; one
    that calls webhooks (``set_webhook_transport``) gets the server's HTTPS client maker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import MutatingPlugin, ValidatingPlugin
from kubeward.admission.plugins.alwayspullimages import AlwaysPullImagesPlugin
from kubeward.admission.plugins.certificateapproval import CertificateApprovalPlugin
from kubeward.admission.plugins.certificatesigning import CertificateSigningPlugin
from kubeward.admission.plugins.defaultingressclass import DefaultIngressClassPlugin
from kubeward.admission.plugins.defaultstorageclass import DefaultStorageClassPlugin
from kubeward.admission.plugins.defaulttolerationseconds import DefaultTolerationSecondsPlugin
from kubeward.admission.plugins.limitranger import LimitRangerPlugin
from kubeward.admission.plugins.namespacelifecycle import NamespaceLifecyclePlugin
from kubeward.admission.plugins.noderestriction import NodeRestrictionPlugin
from kubeward.admission.plugins.persistentvolumeclaimresize import (
    PersistentVolumeClaimResizePlugin,
)
from kubeward.admission.plugins.podsecurity import PodSecurityPlugin
from kubeward.admission.plugins.priority import PriorityPlugin
from kubeward.admission.plugins.resourcequota import ResourceQuotaPlugin
from kubeward.admission.plugins.serviceaccount import ServiceAccountPlugin
from kubeward.admission.plugins.storageobjectinuseprotection import (
    StorageObjectInUseProtectionPlugin,
)
from kubeward.admission.policy import (
    MutatingAdmissionPolicyPlugin,
    ValidatingAdmissionPolicyPlugin,
)
from kubeward.admission.webhooks import MutatingWebhooks, TransportFactory, ValidatingWebhooks
from kubeward.authz.interfaces import Authorizer
from kubeward.errors import InputError

# Rule 3: Kubernetes 1.32's order (AllOrderedPlugins).
ALL_ORDERED_PLUGINS: tuple[str, ...] = (
    "AlwaysAdmit",
    "NamespaceAutoProvision",
    "NamespaceLifecycle",
    "NamespaceExists",
    "LimitPodHardAntiAffinityTopology",
    "LimitRanger",
    "ServiceAccount",
    "NodeRestriction",
    "TaintNodesByCondition",
    "AlwaysPullImages",
    "ImagePolicyWebhook",
    "PodSecurity",
    "PodNodeSelector",
    "Priority",
    "DefaultTolerationSeconds",
    "PodTolerationRestriction",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "DenyServiceExternalIPs",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "AlwaysDeny",
)

# Rule 2: upstream's default-on set (DefaultOffAdmissionPlugins' complement).
DEFAULT_ON_PLUGINS = frozenset(
    {
        "NamespaceLifecycle",
        "LimitRanger",
        "ServiceAccount",
        "DefaultStorageClass",
        "PersistentVolumeClaimResize",
        "DefaultTolerationSeconds",
        "MutatingAdmissionWebhook",
        "ValidatingAdmissionWebhook",
        "ResourceQuota",
        "StorageObjectInUseProtection",
        "Priority",
        "TaintNodesByCondition",
        "RuntimeClass",
        "CertificateApproval",
        "CertificateSigning",
        "ClusterTrustBundleAttest",
        "CertificateSubjectRestriction",
        "DefaultIngressClass",
        "PodSecurity",
        "MutatingAdmissionPolicy",
        "ValidatingAdmissionPolicy",
    }
)

PluginFactory = Callable[[], Any]

# Kubernetes plugin name -> constructor, for every plugin kubeward has. CertificateSubjectRestriction
# (which refuses system:masters CSRs at create) is deliberately absent: the course's agent-smith
# flow needs the request to exist, and the signer refuses to sign it instead.
PLUGINS: Mapping[str, PluginFactory] = {
    "NamespaceLifecycle": NamespaceLifecyclePlugin,
    "LimitRanger": LimitRangerPlugin,
    "AlwaysPullImages": AlwaysPullImagesPlugin,
    "DefaultTolerationSeconds": DefaultTolerationSecondsPlugin,
    "StorageObjectInUseProtection": StorageObjectInUseProtectionPlugin,
    "ResourceQuota": ResourceQuotaPlugin,
    "ServiceAccount": ServiceAccountPlugin,
    "NodeRestriction": NodeRestrictionPlugin,
    "PodSecurity": PodSecurityPlugin,
    "CertificateApproval": CertificateApprovalPlugin,
    "CertificateSigning": CertificateSigningPlugin,
    "MutatingAdmissionPolicy": MutatingAdmissionPolicyPlugin,
    "MutatingAdmissionWebhook": MutatingWebhooks,
    "ValidatingAdmissionWebhook": ValidatingWebhooks,
    "ValidatingAdmissionPolicy": ValidatingAdmissionPolicyPlugin,
    "Priority": PriorityPlugin,
    "DefaultStorageClass": DefaultStorageClassPlugin,
    "PersistentVolumeClaimResize": PersistentVolumeClaimResizePlugin,
    "DefaultIngressClass": DefaultIngressClassPlugin,
}

# kubeward's plugins in Kubernetes' order, and those of them on by default (rules 2 and 3).
KUBEWARD_PLUGINS: tuple[str, ...] = tuple(n for n in ALL_ORDERED_PLUGINS if n in PLUGINS)
DEFAULT_ENABLED: tuple[str, ...] = tuple(n for n in KUBEWARD_PLUGINS if n in DEFAULT_ON_PLUGINS)


def _go_quote(name: str) -> str:
    return json.dumps(name)


def enabled_plugins(enable: Iterable[str] = (), disable: Iterable[str] = ()) -> list[str]:
    """The names that are on, in Kubernetes' order (rules 1-3), whether kubeward has them or not.

    Raises:
        InputError: unknown names or names in both flags, every error in one message.
    """
    enable_list, disable_list = list(enable), list(disable)
    known = set(ALL_ORDERED_PLUGINS)
    errors = [
        f"{flag} plugin {_go_quote(name)} is unknown"
        for flag, names in (
            ("enable-admission-plugins", enable_list),
            ("disable-admission-plugins", disable_list),
        )
        for name in names
        if name not in known
    ]
    overlap = sorted(set(enable_list) & set(disable_list))
    if overlap:
        errors.append(
            f"[{' '.join(overlap)}] in enable-admission-plugins and disable-admission-plugins "
            "overlapped"
        )
    if errors:
        raise InputError(errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]")
    on = (DEFAULT_ON_PLUGINS | set(enable_list)) - set(disable_list)
    return [name for name in ALL_ORDERED_PLUGINS if name in on]


def build_chain(
    factories: Mapping[str, PluginFactory] = PLUGINS,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
    *,
    authorizer: Authorizer | None = None,
    webhook_transport: TransportFactory | None = None,
) -> AdmissionChain:
    """The chain of the enabled plugins that ``factories`` has (rules 1-5).

    Raises:
        InputError: as :func:`enabled_plugins`; an explicitly enabled plugin kubeward lacks;
            a plugin that needs the authorizer when none is given.
    """
    names = enabled_plugins(enable, disable)
    for name in enable:
        if name not in factories:
            raise InputError(
                f"--enable-admission-plugins: plugin {name!r} is not implemented by kubeward"
            )
    mutating: list[MutatingPlugin] = []
    validating: list[ValidatingPlugin] = []
    built: list[str] = []
    for name in names:
        factory = factories.get(name)
        if factory is None:
            continue
        built.append(name)
        plugin: Any = factory()
        if hasattr(plugin, "set_authorizer"):
            if authorizer is None:
                raise InputError(f"admission plugin {name!r} needs the authorizer")
            plugin.set_authorizer(authorizer)
        if hasattr(plugin, "set_webhook_transport") and webhook_transport is not None:
            plugin.set_webhook_transport(webhook_transport)
        if hasattr(plugin, "admit"):
            mutating.append(plugin)
        if hasattr(plugin, "validate"):
            validating.append(plugin)
    return AdmissionChain(tuple(mutating), tuple(validating), tuple(built))
