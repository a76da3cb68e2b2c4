"""NetworkPolicy analysis: which connections a set of policies allows, and why.

A pure library: build an :class:`Inventory` (from files with :func:`load_inventory_from_files`,
or from objects a live cluster returned with :func:`inventory_from_objects`), wrap it in an
:class:`Evaluator`, and ask it about one connection (:meth:`Evaluator.check`) or all of them
(:func:`build_truth_table`). :func:`explain_pod`, :func:`diff_inventories` and :func:`lint`
answer the other questions administrators ask. The semantics are listed in
:mod:`kubeward.netpol.evaluator`.
"""

from kubeward.netpol.diff import PolicyDiff, diff_inventories
from kubeward.netpol.evaluator import Evaluator, RuleMatch, SideVerdict, Verdict
from kubeward.netpol.explain import PodExplanation, explain_pod
from kubeward.netpol.lint import Finding, lint
from kubeward.netpol.load import load_inventory_from_files
from kubeward.netpol.matrix import Probe, TruthTable, build_truth_table
from kubeward.netpol.model import (
    ContainerPort,
    ExternalEndpoint,
    Inventory,
    IPBlock,
    Namespace,
    NetworkPolicy,
    Peer,
    Pod,
    PolicyPort,
    Rule,
)
from kubeward.netpol.objects import inventory_from_objects

__all__ = [
    "ContainerPort",
    "Evaluator",
    "ExternalEndpoint",
    "Finding",
    "IPBlock",
    "Inventory",
    "Namespace",
    "NetworkPolicy",
    "Peer",
    "Pod",
    "PodExplanation",
    "PolicyDiff",
    "PolicyPort",
    "Probe",
    "Rule",
    "RuleMatch",
    "SideVerdict",
    "TruthTable",
    "Verdict",
    "build_truth_table",
    "diff_inventories",
    "explain_pod",
    "inventory_from_objects",
    "lint",
    "load_inventory_from_files",
]
