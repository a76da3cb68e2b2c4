"""kubeconfig files: the model, loading with KUBECONFIG merge rules, writing, and client TLS."""
