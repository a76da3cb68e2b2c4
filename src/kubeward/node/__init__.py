"""kubeward.node: the node agent — a kubelet with a simulated container runtime."""

from kubeward.node.agent import NodeAgent
from kubeward.node.config import NodeConfig

__all__ = ["NodeAgent", "NodeConfig"]
