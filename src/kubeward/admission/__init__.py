"""Admission: what may change an object, or refuse it, after authorization and before storage.

The seam is ``interfaces`` (mutating and validating plugins see an :class:`AdmissionRequest`
value, never the HTTP request); ``chain`` runs them in order around the strategy; ``registry``
is the one module that knows every plugin by its Kubernetes name and order and builds the chain
from ``--enable-admission-plugins`` and ``--disable-admission-plugins``; ``plugins/`` holds one
module per plugin.
"""

from kubeward.admission.chain import AdmissionChain, BoundAdmission
from kubeward.admission.interfaces import (
    AdmissionRequest,
    MutatingPlugin,
    ObjectReader,
    ValidatingPlugin,
)
from kubeward.admission.registry import build_chain, enabled_plugins

__all__ = [
    "AdmissionChain",
    "AdmissionRequest",
    "BoundAdmission",
    "MutatingPlugin",
    "ObjectReader",
    "ValidatingPlugin",
    "build_chain",
    "enabled_plugins",
]
