"""Kubernetes' CEL extension libraries (k8s.io/apiserver/pkg/cel/library), in Python.

Each module declares :class:`Function` values; ``ALL`` is every one of them, in one list, for
the engine to declare once per environment. Names, receivers and results follow upstream:
``strings`` (cel-go's extension, as Kubernetes enables it), ``lists``, ``regex``, ``urls``,
``quantity``, ``ip``/``cidr``, ``jsonpatch`` (MutatingAdmissionPolicy's ``escapeKey``) and
``authz`` (the ``authorizer`` of admission policies).
"""

from __future__ import annotations

from kubeward.cel.library import authz, ip, jsonpatch, lists, quantity, regex, strings, urls
from kubeward.cel.library.declarations import Function, Overload

ALL: tuple[Function, ...] = (
    *strings.FUNCTIONS,
    *lists.FUNCTIONS,
    *regex.FUNCTIONS,
    *urls.FUNCTIONS,
    *quantity.FUNCTIONS,
    *ip.FUNCTIONS,
    *authz.FUNCTIONS,
    *jsonpatch.FUNCTIONS,
)

__all__ = ["ALL", "Function", "Overload"]
