"""The API server: TLS, the request filters (authn → authz → admission), REST handlers, watch."""
