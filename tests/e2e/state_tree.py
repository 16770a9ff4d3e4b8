"""A browser tab's Reflex state tree for calling the dashboard's event handlers
as Reflex calls them (no browser): build it, sign it in, run a handler, read the
toasts it answered with."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import reflex as rx

from hookboard.core import db
from hookboard.services import ratelimit
from hookboard.settings import get_settings
from hookboard.ui import services
from hookboard.ui.state import AuthState
from tests.api.support import new_user

USER_LIMIT = 50


def clear_caches() -> None:
    for cached in (get_settings, db.get_engine, db.get_read_engine, ratelimit.get_limiter):
        cached.cache_clear()
    services.config.cache_clear()


def tab() -> rx.State:
    """One browser tab's state tree, as the state manager builds it."""
    return rx.State(_reflex_internal_init=True)


def page_state(root: rx.State, state_cls):
    return root.get_substate(state_cls.get_full_name().split("."))


def signed_in(root: rx.State, engine, email: str) -> str:
    _, headers = new_user(engine, email)
    token = headers["Authorization"].removeprefix("Bearer ")
    page_state(root, AuthState).token = token
    return token


def run(handler, state, *args):
    """Call an event handler's function; drain it when it is a generator.

    In a thread of its own: Playwright's sync API (the browser tests of this
    package) keeps an event loop running in the main thread."""
    result = handler.fn(state, *args)
    if hasattr(result, "__anext__"):

        async def drain():
            return [item async for item in result]

        return _in_a_thread(drain())
    if asyncio.iscoroutine(result):
        return _in_a_thread(result)
    return result


def _in_a_thread(coroutine):
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def shown(result) -> str:
    """The JavaScript of the events a handler answered with (a toast's text is in it)."""
    specs = result if isinstance(result, list) else [result]
    return " ".join(
        str(value) for spec in specs if spec is not None for _, value in getattr(spec, "args", ())
    )
