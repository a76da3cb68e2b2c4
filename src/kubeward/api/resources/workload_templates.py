"""Defaults of the pod template that workload kinds carry (Jobs, StatefulSets, DaemonSets …).

Kubernetes defaults a ``PodTemplateSpec`` as it defaults a pod's spec (``SetDefaults_PodSpec``
and the container defaults) but a template has no status; this module applies the pod
strategy's defaults and drops the status they add.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.resources.core import PODS, PodStrategy

_POD_DEFAULTS = PodStrategy(PODS)


def default_pod_template(template: Any) -> None:
    """Default ``template`` in place; anything but an object is left for validation."""
    if not isinstance(template, dict):
        return
    _POD_DEFAULTS.default(template)
    template.pop("status", None)
