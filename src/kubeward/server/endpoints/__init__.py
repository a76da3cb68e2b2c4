"""Endpoints that are not a stored kind's REST verbs: the access reviews, TokenReview and
SelfSubjectReview, TokenRequest and issuer discovery, the scale subresource, OpenAPI, and the
body checks they share. Each registers its handlers on the server (``server.virtual``)."""
