"""The Node authorizer: the graph of what leads to each node, and the decisions it supports."""

from kubeward.authz.node.authorizer import NodeAuthorizer, node_identity
from kubeward.authz.node.graph import Graph

__all__ = ["Graph", "NodeAuthorizer", "node_identity"]
