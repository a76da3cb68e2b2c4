"""Running asyncio programs from the CLI: uvloop when available, logging set up once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def run_async(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)


async def until_signalled(
    work: Coroutine[Any, Any, None], cleanup: Callable[[], Awaitable[None]]
) -> None:
    """Run ``work`` until it ends or SIGINT/SIGTERM cancels it, then ``cleanup`` (a client's
    ``close``): the controller-manager, the scheduler and the node agent stop this way."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(work)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await cleanup()
