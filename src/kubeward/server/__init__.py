"""The API server: the HTTPS request path from TLS to storage, on aiohttp.

By role: ``filters/`` is the chain every request passes (composed in ``filters/chain.py``);
``handler`` routes after it and ``resources`` serves the REST verbs on stored kinds, with
``watch``/``watch_writer`` for their streams; ``endpoints/`` holds the rest of the API (reviews,
tokens, scale, OpenAPI); ``flowcontrol/`` is priority and fairness; ``wiring/`` assembles the
server from a :class:`ServerConfig` (``builder``) and holds ``kubeward up``'s configuration
(``local``); ``app``, ``transport``, ``tls`` and ``http`` are the aiohttp application, the
connection bounds, the TLS context and response helpers. docs/architecture.md draws it.
"""

from kubeward.server.config import ServerConfig
from kubeward.server.wiring.builder import RunningServer, serve_until_signalled, start_server

__all__ = ["RunningServer", "ServerConfig", "serve_until_signalled", "start_server"]
