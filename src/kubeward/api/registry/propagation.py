"""What a DELETE's propagation policy does to the object's finalizers, as kube-apiserver's
generic registry store decides it (``deletionFinalizersForGarbageCollection``).

The garbage collector (``controllers.garbagecollector``) does the work; the API server only
marks the object. Rules:

 1. ``propagationPolicy`` is ``Foreground``, ``Background`` or ``Orphan``; the deprecated
    ``orphanDependents`` may be given instead, never with it. Anything else is 422.
 2. Orphan (``Orphan``, or ``orphanDependents: true``) puts the ``orphan`` finalizer on the
    object; Foreground puts ``foregroundDeletion``; each removes the other. Background removes
    both. With no option, a finalizer already present decides; else the kind's default,
    which for every apps/v1 and core/v1 kind is Background.
 3. An object left with finalizers is only marked (``deletionTimestamp``); a DELETE of an
    object already marked may still change these two finalizers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeward.api.validation import field
from kubeward.errors import Cause, invalid

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
FOREGROUND = "Foreground"
BACKGROUND = "Background"
ORPHAN = "Orphan"
POLICIES = (FOREGROUND, BACKGROUND, ORPHAN)


@dataclass(frozen=True)
class Propagation:
    """A DELETE's choice: ``policy`` (one of :data:`POLICIES`) or ``""`` for none given."""

    policy: str = ""

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Propagation:
        """Rule 1: read ``propagationPolicy``/``orphanDependents`` (Invalid when wrong)."""
        policy = options.get("propagationPolicy")
        orphan = options.get("orphanDependents")
        causes: list[Cause] = []
        if policy is not None and orphan is not None:
            causes.append(
                field.invalid(
                    "propagationPolicy",
                    policy,
                    "orphanDependents and deletionPropagation cannot be both set",
                )
            )
        if policy is not None and policy not in POLICIES:
            causes.append(field.not_supported("propagationPolicy", policy, [*POLICIES, "nil"]))
        if causes:
            raise invalid("DeleteOptions", "", causes, group="meta.k8s.io")
        if policy is not None:
            return cls(str(policy))
        if orphan is not None:
            return cls(ORPHAN if orphan is True else BACKGROUND)
        return cls()

    def finalizers(self, current: list[str]) -> list[str]:
        """Rule 2: the finalizers the object should carry once this DELETE is applied."""
        policy = self.policy
        if not policy:
            if ORPHAN_FINALIZER in current:
                policy = ORPHAN
            elif FOREGROUND_FINALIZER in current:
                policy = FOREGROUND
            else:
                policy = BACKGROUND
        kept = [f for f in current if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
        if policy == ORPHAN:
            kept.append(ORPHAN_FINALIZER)
        elif policy == FOREGROUND:
            kept.append(FOREGROUND_FINALIZER)
        return kept
