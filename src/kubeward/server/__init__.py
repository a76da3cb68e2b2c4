"""The API server: the HTTPS request path from TLS to storage, on aiohttp.

``filters/`` is the chain every request passes (composed in ``filters/chain.py``),
``handler`` the routing after it, ``resources`` the REST verbs on stored kinds; the other
modules are endpoints (reviews, tokens, scale, OpenAPI), wiring (``builder`` assembles the
server from a :class:`ServerConfig`; ``local`` is ``kubeward up``'s configuration) and the
controllers that change the server itself (CRDs). docs/architecture.md draws it.
"""

from kubeward.server.builder import RunningServer, serve_until_signalled, start_server
from kubeward.server.config import ServerConfig

__all__ = ["RunningServer", "ServerConfig", "serve_until_signalled", "start_server"]
