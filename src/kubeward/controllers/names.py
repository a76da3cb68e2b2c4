"""The controllers kubeward's controller-manager knows, by kube-controller-manager's names,
and its ``--controllers`` flag (``cmd/kube-controller-manager/names`` and
``app.IsControllerEnabled``).

Rules:

 1. Each controller has its canonical name (``deployment-controller``) and the aliases
    Kubernetes accepts (``deployment``), and the service account it runs as under
    ``--use-service-account-credentials`` (kube-system's ``deployment-controller``, …).
 2. ``--controllers`` is a list of ``*`` (every controller on by default), ``name``
    (enable) and ``-name`` (disable); the first entry naming a controller decides, then ``*``;
    without ``*`` an unnamed controller is off. The default is ``*``. As upstream,
    ``token-cleaner-controller`` is off by default (kubeadm turns it on:
    ``--controllers=*,bootstrapsigner,tokencleaner``); kubeward's bootstrap signer runs in the
    API server (``controllers.bootstrapsigner``), so ``bootstrapsigner`` is not a name here.
 3. A name that is neither a known controller nor an alias is refused with Kubernetes'
    message: ``"x" is not in the list of known controllers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubeward.errors import InputError

DEPLOYMENT = "deployment-controller"
REPLICASET = "replicaset-controller"
GARBAGE_COLLECTOR = "garbage-collector-controller"
CSR_SIGNING = "certificatesigningrequest-signing-controller"
CSR_APPROVING = "certificatesigningrequest-approving-controller"
CSR_CLEANER = "certificatesigningrequest-cleaner-controller"
TOKEN_CLEANER = "token-cleaner-controller"
NODE_LIFECYCLE = "node-lifecycle-controller"
NODE_IPAM = "node-ipam-controller"
STATEFULSET = "statefulset-controller"
DAEMONSET = "daemonset-controller"
ENDPOINTS = "endpoints-controller"
ENDPOINT_SLICE = "endpointslice-controller"
DISRUPTION = "disruption-controller"
REPLICATION_CONTROLLER = "replicationcontroller-controller"
HORIZONTAL_POD_AUTOSCALER = "horizontal-pod-autoscaler-controller"
JOB = "job-controller"
CRONJOB = "cronjob-controller"
TTL_AFTER_FINISHED = "ttl-after-finished-controller"


@dataclass(frozen=True)
class ControllerName:
    """Rule 1."""

    name: str
    aliases: tuple[str, ...]
    service_account: str
    enabled_by_default: bool = True


KNOWN: tuple[ControllerName, ...] = (
    ControllerName(CSR_SIGNING, ("csrsigning",), "certificate-controller"),
    ControllerName(CSR_APPROVING, ("csrapproving",), "certificate-controller"),
    ControllerName(CSR_CLEANER, ("csrcleaner",), "certificate-controller"),
    ControllerName(REPLICASET, ("replicaset",), "replicaset-controller"),
    ControllerName(DEPLOYMENT, ("deployment",), "deployment-controller"),
    ControllerName(GARBAGE_COLLECTOR, ("garbagecollector",), "generic-garbage-collector"),
    ControllerName(TOKEN_CLEANER, ("tokencleaner",), "token-cleaner", enabled_by_default=False),
    ControllerName(NODE_LIFECYCLE, ("nodelifecycle",), "node-controller"),
    ControllerName(NODE_IPAM, ("nodeipam",), "node-controller"),
    ControllerName(STATEFULSET, ("statefulset",), "statefulset-controller"),
    ControllerName(DAEMONSET, ("daemonset",), "daemon-set-controller"),
    ControllerName(ENDPOINTS, ("endpoint",), "endpoint-controller"),
    ControllerName(ENDPOINT_SLICE, ("endpointslice",), "endpointslice-controller"),
    ControllerName(DISRUPTION, ("disruption",), "disruption-controller"),
    ControllerName(REPLICATION_CONTROLLER, ("replicationcontroller",), "replication-controller"),
    ControllerName(
        HORIZONTAL_POD_AUTOSCALER, ("horizontalpodautoscaling",), "horizontal-pod-autoscaler"
    ),
    ControllerName(JOB, ("job",), "job-controller"),
    ControllerName(CRONJOB, ("cronjob",), "cronjob-controller"),
    ControllerName(TTL_AFTER_FINISHED, ("ttl-after-finished",), "ttl-after-finished-controller"),
)
BY_NAME = {c.name: c for c in KNOWN}
_CANONICAL = {alias: c.name for c in KNOWN for alias in (c.name, *c.aliases)}


@dataclass(frozen=True)
class ControllerSelection:
    """The parsed ``--controllers`` flag (rule 2)."""

    entries: tuple[str, ...] = ("*",)

    @classmethod
    def parse(cls, values: Sequence[str]) -> ControllerSelection:
        """Rules 2 and 3; ``values`` may hold comma-separated lists."""
        entries: list[str] = []
        problems: list[str] = []
        for value in values:
            for raw in value.split(","):
                entry = raw.strip()
                if not entry:
                    continue
                if entry == "*":
                    entries.append(entry)
                    continue
                negated = entry.startswith("-")
                bare = entry[1:] if negated else entry
                canonical = _CANONICAL.get(bare)
                if canonical is None:
                    problems.append(f'"{bare}" is not in the list of known controllers')
                    continue
                entries.append(f"-{canonical}" if negated else canonical)
        if problems:
            raise InputError("--controllers: " + "; ".join(problems))
        return cls(tuple(entries) if entries else ("*",))

    def enabled(self, name: str) -> bool:
        """Rule 2."""
        star = False
        for entry in self.entries:
            if entry == name:
                return True
            if entry == f"-{name}":
                return False
            if entry == "*":
                star = True
        return star and BY_NAME[name].enabled_by_default
