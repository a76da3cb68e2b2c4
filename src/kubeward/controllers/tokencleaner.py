"""The tokencleaner controller: deletes bootstrap tokens once they expire, as upstream's.

Rules (``pkg/controller/bootstrap/tokencleaner.go``):

 1. It follows the Secrets of ``kube-system`` and looks only at those of type
    ``bootstrap.kubernetes.io/token``.
 2. A token whose ``expiration`` has passed (or cannot be parsed) is deleted, with its uid as a
    precondition so that a token recreated under the same name is safe; the deletion is logged.
 3. A token that expires later is looked at again when it expires; one without an expiration
    is never deleted.
"""

from __future__ import annotations

import contextlib
import logging
import time

from kubeward.api import meta as m
from kubeward.api.resources.core import SECRETS
from kubeward.authn.bootstrap import EXPIRATION_KEY, SECRET_NAMESPACE, SECRET_TYPE, secret_data
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.errors import Conflict, NotFound

log = logging.getLogger("kubeward.controllers")


def seconds_left(secret: m.JSONObject, now: float) -> float | None:
    """Rules 2 and 3: seconds until the token expires (0 or less: expired), None: never."""
    text = secret_data(secret, EXPIRATION_KEY)
    if not text:
        return None
    stamp = m.parse_time(text)
    if stamp is None:
        log.warning(
            "unparseable expiration time (%s) in %s/%s Secret: treating it as expired",
            text,
            SECRET_NAMESPACE,
            m.name_of(secret),
        )
        return 0.0
    return stamp.timestamp() - now


class TokenCleaner(Controller):
    name = "tokencleaner"

    def __init__(self, informer: Informer, client: APIClient) -> None:
        super().__init__(informer)
        self.client = client

    async def reconcile(self, key: str) -> float | None:
        secret = self.cached(key)
        if secret is None or secret.get("type") != SECRET_TYPE:
            return None
        if m.namespace_of(secret) != SECRET_NAMESPACE:
            return None
        left = seconds_left(secret, time.time())
        if left is None:
            return None
        if left > 0:
            return left
        log.info("deleting expired bootstrap token Secret %s", key)
        with contextlib.suppress(NotFound, Conflict):
            uid = str(m.metadata(secret).get("uid") or "")
            await self.client.delete(SECRETS, m.name_of(secret), SECRET_NAMESPACE, uid=uid)
        return None
