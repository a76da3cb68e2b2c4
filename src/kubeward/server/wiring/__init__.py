"""Assembling the API server: ``builder`` turns a ``ServerConfig`` into a running server through
the factories (storage, authentication, authorization, admission); the ``*_wiring`` modules
connect the RBAC, service-account and admission parts to the stores and informers; ``local``
is ``kubeward up``'s configuration on a data directory."""
