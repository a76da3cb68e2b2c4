"""Panic recovery: the outermost filter, so that no error escapes as a dropped connection.

Rules:
 1. A ``StatusError`` raised anywhere inside is answered with its Status body and code.
 2. Any other exception is logged once with its traceback and answered with a 500 Status whose
    message gives nothing away, and the server goes on serving (k8s.io/apiserver's
    ``WithPanicRecovery``).
 3. A storage failure nobody handled is answered as ``errors.storage_status`` says (503 when
    etcd has no quorum, 504 when a request timed out) rather than as a bug.
 4. A client that went away (``ConnectionResetError``) or a cancelled handler is not answered:
    there is nobody to answer.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from kubeward.errors import (
    InternalError,
    StatusError,
    StorageTimeout,
    StorageUnavailable,
    storage_status,
)
from kubeward.server.filters.interfaces import Handler, RequestState
from kubeward.server.http import status_response

log = logging.getLogger("kubeward.apiserver")


class PanicRecovery:
    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        try:
            return await next(state)
        except StatusError as exc:
            return status_response(exc)
        except (StorageUnavailable, StorageTimeout) as exc:
            return status_response(storage_status(exc))
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:
            request = state.request
            log.exception("internal error serving %s %s", request.method, request.path)
            return status_response(
                InternalError("an error on the server has prevented the request from succeeding")
            )
