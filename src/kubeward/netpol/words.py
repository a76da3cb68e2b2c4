"""NetworkPolicy parts said in plain words, for explanations, lint findings and the HTML page.

Rules of wording:

 1. Selectors are printed in the ``?labelSelector=`` syntax (``app=web,tier in (a,b)``).
 2. A namespace selector that only pins ``kubernetes.io/metadata.name`` reads as the namespace's
    name, the way people write "namespace prod" with it.
 3. Each rule reads "from|to <peers, joined by 'or'>, on <ports, joined by 'or'>".
"""

from __future__ import annotations

from kubeward.api.selectors import EQUALS, IN, LabelSelector
from kubeward.netpol.model import EGRESS, NAMESPACE_NAME_LABEL, Peer, PolicyPort, Rule


def selector_text(selector: LabelSelector) -> str:
    return str(selector) if not selector.empty else "everything"


def _namespace_names(selector: LabelSelector) -> list[str] | None:
    """The names a selector pins through ``kubernetes.io/metadata.name`` alone, if that is all."""
    if len(selector.requirements) != 1:
        return None
    req = selector.requirements[0]
    if req.key != NAMESPACE_NAME_LABEL or req.operator not in (EQUALS, IN):
        return None
    return sorted(req.values)


def namespaces_text(selector: LabelSelector | None, policy_namespace: str) -> str:
    if selector is None:
        return f"namespace {policy_namespace}"
    if selector.empty:
        return "every namespace"
    names = _namespace_names(selector)
    if names is not None:
        return ("namespace " if len(names) == 1 else "namespaces ") + ", ".join(names)
    return f"namespaces labelled {selector}"


def peer_text(peer: Peer, policy_namespace: str) -> str:
    if peer.ip_block is not None:
        return f"IP addresses in {peer.ip_block}"
    where = namespaces_text(peer.namespace_selector, policy_namespace)
    if peer.pod_selector is None or peer.pod_selector.empty:
        return f"every pod in {where}"
    return f"pods labelled {peer.pod_selector} in {where}"


def port_text(port: PolicyPort) -> str:
    return str(port)


def rule_text(rule: Rule, direction: str, policy_namespace: str) -> str:
    other = "to" if direction == EGRESS else "from"
    if rule.peers:
        peers = " or ".join(peer_text(p, policy_namespace) for p in rule.peers)
    else:
        peers = "anywhere (every pod and every IP address)"
    ports = " or ".join(port_text(p) for p in rule.ports) if rule.ports else "every port"
    return f"{other} {peers}, on {ports}"
