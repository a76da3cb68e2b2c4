"""The admission chain: which plugins run, in which order, as kube-apiserver decides it.

Rules (kube-apiserver's ``--enable-admission-plugins`` / ``--disable-admission-plugins``):
 1. Plugin names are Kubernetes' own. The plugins that are on by default stay on unless
    disabled; ``--enable-admission-plugins`` adds to them; a name in both flags, or a name
    Kubernetes does not know, is an error.
 2. The order in which plugins run is Kubernetes' fixed order (``AllOrderedPlugins`` in
    ``pkg/kubeapiserver/options/plugins.go`` of 1.32), never the order of the flag.
 3. A plugin kubeward does not implement is skipped when it is merely on by default (its
    effect is absent, as a cluster without that API would have it) and refused when asked for
    explicitly, so that nobody believes a protection is on when it is not.
 4. Every mutating plugin runs, in order, then every validating plugin, in order; the first
    refusal ends the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeward.admission.interfaces import (
    AdmissionRequest,
    MutatingPlugin,
    ObjectReader,
    ValidatingPlugin,
)
from kubeward.errors import InputError

# Rule 2: Kubernetes 1.32's order.
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


def enabled_plugins(enable: Iterable[str] = (), disable: Iterable[str] = ()) -> list[str]:
    """The names that are on, in Kubernetes' order (rules 1 and 2).

    Raises:
        InputError: an unknown name, or a name both enabled and disabled.
    """
    enable_set, disable_set = set(enable), set(disable)
    known = set(ALL_ORDERED_PLUGINS)
    for flag, names in (
        ("enable-admission-plugins", enable_set),
        ("disable-admission-plugins", disable_set),
    ):
        for name in sorted(names - known):
            raise InputError(f"--{flag}: plugin {name!r} is unknown")
    overlap = enable_set & disable_set
    if overlap:
        raise InputError(
            f"--enable-admission-plugins: {sorted(overlap)} in enable-admission-plugins and "
            "disable-admission-plugins overlapped"
        )
    on = (DEFAULT_ON_PLUGINS | enable_set) - disable_set
    return [name for name in ALL_ORDERED_PLUGINS if name in on]


@dataclass(frozen=True)
class AdmissionChain:
    """The mutating and validating plugins that run on every write (rule 4)."""

    mutating: tuple[MutatingPlugin, ...]
    validating: tuple[ValidatingPlugin, ...]

    @property
    def names(self) -> tuple[str, ...]:
        seen: list[str] = []
        for name in [p.name for p in self.mutating] + [p.name for p in self.validating]:
            if name not in seen:
                seen.append(name)
        return tuple(seen)

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        for mutator in self.mutating:
            await mutator.admit(request, reader)
        for validator in self.validating:
            await validator.validate(request, reader)


def build_chain(
    factories: Mapping[str, PluginFactory],
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
) -> AdmissionChain:
    """Instantiate the enabled plugins that kubeward implements (rule 3).

    ``factories`` maps a Kubernetes plugin name to a constructor of a plugin with ``admit``
    and/or ``validate``.

    Raises:
        InputError: as :func:`enabled_plugins`, or an explicitly enabled plugin kubeward lacks.
    """
    names = enabled_plugins(enable, disable)
    for name in enable:
        if name not in factories:
            raise InputError(
                f"--enable-admission-plugins: plugin {name!r} is not implemented by kubeward"
            )
    mutating: list[MutatingPlugin] = []
    validating: list[ValidatingPlugin] = []
    for name in names:
        factory = factories.get(name)
        if factory is None:
            continue
        plugin: Any = factory()
        if hasattr(plugin, "admit"):
            mutating.append(plugin)
        if hasattr(plugin, "validate"):
            validating.append(plugin)
    return AdmissionChain(tuple(mutating), tuple(validating))
