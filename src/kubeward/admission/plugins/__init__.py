"""Admission plugins, one per module, named as Kubernetes names them."""
