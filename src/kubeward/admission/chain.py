"""The admission chain: the enabled plugins, run in two phases around the kind's strategy.

Which plugins are on, and in which order, is decided by ``admission.registry``. Rules:
 1. Mutating plugins (``admit``) run in the registry's order, on the object before defaults
    and validation; validating plugins (``validate``) run in the same order, on the object as
    it will be stored (``api.registry.scope`` states the whole order of a write).
 2. The first refusal ends the request; nothing is written.
 2a. When a mutating webhook or policy asks for reinvocation (``admission.interfaces`` rule
    6), the mutating plugins run a second time, in the same order.
 3. Bound to one request (:meth:`AdmissionChain.bind`), the chain is the store's
    :class:`kubeward.api.registry.scope.WriteAdmission`: each phase sees a fresh
    :class:`AdmissionRequest` with the object of that moment, and the warnings and audit
    annotations of every phase go to the request's lists.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from kubeward.admission.interfaces import (
    AdmissionRequest,
    MutatingPlugin,
    ObjectReader,
    ValidatingPlugin,
)
from kubeward.api import meta as m

log = logging.getLogger("kubeward.apiserver.admission")


@dataclass(frozen=True)
class AdmissionChain:
    """The mutating and validating plugins that run on every write (rule 1)."""

    mutating: tuple[MutatingPlugin, ...] = ()
    validating: tuple[ValidatingPlugin, ...] = ()
    # The plugins' names in the registry's order; by default, mutating ones first.
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.names:
            seen: list[str] = []
            for name in [p.name for p in self.mutating] + [p.name for p in self.validating]:
                if name not in seen:
                    seen.append(name)
            object.__setattr__(self, "names", tuple(seen))

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        """Both phases at once, for a request that has no strategy between them."""
        for mutator in self.mutating:
            await mutator.admit(request, reader)
        if request.reinvocation.wanted(request.object):  # rule 2a
            request.reinvocation.second_pass = True
            for mutator in self.mutating:
                await mutator.admit(request, reader)
        for validator in self.validating:
            await validator.validate(request, reader)

    def bind(self, request: AdmissionRequest, reader: ObjectReader) -> BoundAdmission:
        """Rule 3: ``request`` carries everything but the object and the old object."""
        return BoundAdmission(self, request, reader)


class BoundAdmission:
    """The chain for one request, in the shape the store calls (rule 3)."""

    def __init__(self, chain: AdmissionChain, request: AdmissionRequest, reader: ObjectReader):
        self.chain = chain
        self.request = request
        self.reader = reader

    def _request(self, obj: m.JSONObject, old: m.JSONObject | None) -> AdmissionRequest:
        # Warnings and audit annotations are shared with self.request (the same list and dict).
        return dataclasses.replace(
            self.request, object=obj, old_object=old, name=m.name_of(obj) or self.request.name
        )

    async def mutate(self, obj: m.JSONObject, old: m.JSONObject | None) -> None:
        if not self.chain.mutating:
            return
        request = self._request(obj, old)
        for mutator in self.chain.mutating:
            await mutator.admit(request, self.reader)
        if request.reinvocation.wanted(request.object):  # rule 2a
            request.reinvocation.second_pass = True
            for mutator in self.chain.mutating:
                await mutator.admit(request, self.reader)

    async def validate(self, obj: m.JSONObject, old: m.JSONObject | None) -> None:
        if not self.chain.validating:
            return
        request = self._request(obj, old)
        try:
            for validator in self.chain.validating:
                await validator.validate(request, self.reader)
        finally:
            if request.audit_annotations:
                log.debug(
                    "audit annotations for %s %s/%s: %s",
                    request.operation,
                    request.resource,
                    request.name,
                    request.audit_annotations,
                )
