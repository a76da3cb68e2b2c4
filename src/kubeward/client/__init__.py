"""kubeward.client: an asyncio HTTPS client for the Kubernetes API, built from a kubeconfig.

Used by the controllers (and later the node agent and CLI). ``APIClient`` speaks JSON to one
API server over one reused connection pool; errors come back as the ``kubeward.errors``
``StatusError`` classes the server's ``Status`` body names.
"""

from kubeward.client.api import APIClient, ServerUnreachable, TLSFailure, WatchEvent

__all__ = ["APIClient", "ServerUnreachable", "TLSFailure", "WatchEvent"]
