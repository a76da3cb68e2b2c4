"""Defaults of the pod template that workload kinds carry (Jobs, StatefulSets, DaemonSets …).

Kubernetes defaults a ``PodTemplateSpec`` as it defaults a pod's spec (``SetDefaults_PodSpec``
and the container defaults) but a template has no status, and ``priority`` and
``preemptionPolicy`` come from the Priority admission plugin when a pod is created, not from
defaulting: this module applies the pod strategy's defaults and drops what they add beyond.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.resources.core import PODS, PodStrategy

_POD_DEFAULTS = PodStrategy(PODS)
_ADMISSION_FIELDS = ("priority", "preemptionPolicy")


def default_pod_template(template: Any) -> None:
    """Default ``template`` in place; anything but an object is left for validation."""
    if not isinstance(template, dict):
        return
    spec = template.get("spec")
    given = set(spec) if isinstance(spec, dict) else set()
    _POD_DEFAULTS.default(template)
    template.pop("status", None)
    for key in _ADMISSION_FIELDS:
        if key not in given:
            template["spec"].pop(key, None)
