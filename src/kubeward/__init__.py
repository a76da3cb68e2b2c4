"""kubeward: a Kubernetes-compatible control plane in pure Python whose security is real."""

__version__ = "0.1.0"
