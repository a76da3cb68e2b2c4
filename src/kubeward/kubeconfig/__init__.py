"""kubeconfig files: the model, loading with KUBECONFIG merge rules, writing, and client TLS.

The public surface, re-exported here:

* :class:`Kubeconfig` with :class:`Cluster`, :class:`AuthInfo` and :class:`Context` — the model;
* :class:`KubeconfigPaths`, :func:`load_kubeconfig`, :func:`load_merged`,
  :func:`parse_kubeconfig` — finding and reading files as kubectl does;
* :func:`save_changes`, :func:`serialize` — writing edits back where they belong;
* :class:`ClientCredentials` — the ``ssl.SSLContext`` and credentials for an API client;
* :func:`client_certificate_kubeconfig`, :func:`dump_kubeconfig`, :func:`write_kubeconfig` —
  building the kubeconfigs kubeward generates.
"""

from kubeward.kubeconfig.build import (
    client_certificate_kubeconfig,
    dump_kubeconfig,
    write_kubeconfig,
)
from kubeward.kubeconfig.load import (
    KubeconfigPaths,
    load_kubeconfig,
    load_merged,
    parse_kubeconfig,
)
from kubeward.kubeconfig.model import AuthInfo, Cluster, Context, Kubeconfig
from kubeward.kubeconfig.save import save_changes, serialize
from kubeward.kubeconfig.tls import ClientCredentials

__all__ = [
    "AuthInfo",
    "ClientCredentials",
    "Cluster",
    "Context",
    "Kubeconfig",
    "KubeconfigPaths",
    "client_certificate_kubeconfig",
    "dump_kubeconfig",
    "load_kubeconfig",
    "load_merged",
    "parse_kubeconfig",
    "save_changes",
    "serialize",
    "write_kubeconfig",
]
