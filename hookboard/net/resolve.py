"""Delivery-time resolution: resolve a host, check every address with the guard,
and return (and briefly cache) the checked addresses the caller pins its connection to.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable

from hookboard.net.guard import (
    BlockedAddressError,
    IPAddress,
    NetPolicy,
    check_address,
    parse_ip_literal,
)

# An injected resolver maps a host name to IP address strings (sync or async).
Resolver = Callable[[str], Iterable[str] | Awaitable[Iterable[str]]]

RESOLVE_CACHE_TTL_SECONDS = 5.0
_RESOLVE_CACHE_MAX_ENTRIES = 10_000


class ResolveError(Exception):
    """The host name could not be resolved."""


# The port is part of the key: a private allowance may hold for one port only.
_CacheKey = tuple[str, int, NetPolicy, object]
_resolve_cache: dict[_CacheKey, tuple[float, tuple[IPAddress, ...]]] = {}


def clear_resolve_cache() -> None:
    _resolve_cache.clear()


def resolve_and_check(
    host: str, port: int, policy: NetPolicy, resolver: Resolver | None = None
) -> list[IPAddress]:
    """Resolve ``host`` and return its addresses, refusing if any of them is forbidden
    (or the host is outside TARGET_HOST_ALLOWLIST, before anything is resolved)."""
    literal = _literal_or_none(host)
    policy.check_target_host(host, port)
    if literal is not None:
        return [check_address(literal, host, port, policy)]
    key = (host.lower(), port, policy, resolver)
    cached = _cache_get(key)
    if cached is not None:
        return list(cached)
    if resolver is None:
        raw = _getaddrinfo(host, port)
    else:
        raw = _call_resolver(resolver, host)
        if inspect.isawaitable(raw):
            raise TypeError("an async resolver needs aresolve_and_check")
    return _check_all_and_cache(key, host, port, raw, policy)


async def aresolve_and_check(
    host: str, port: int, policy: NetPolicy, resolver: Resolver | None = None
) -> list[IPAddress]:
    """Async twin of ``resolve_and_check``; the system resolver runs in the default executor."""
    literal = _literal_or_none(host)
    policy.check_target_host(host, port)
    if literal is not None:
        return [check_address(literal, host, port, policy)]
    key = (host.lower(), port, policy, resolver)
    cached = _cache_get(key)
    if cached is not None:
        return list(cached)
    if resolver is None:
        raw = await _agetaddrinfo(host, port)
    else:
        raw = _call_resolver(resolver, host)
        if inspect.isawaitable(raw):
            raw = await _await_resolver(raw, host)
    return _check_all_and_cache(key, host, port, raw, policy)


def _literal_or_none(host: str) -> IPAddress | None:
    try:
        return parse_ip_literal(host)
    except ValueError:
        # Numeric-looking but invalid: libc might still "resolve" it, so never pass it to DNS.
        raise BlockedAddressError(host, "a malformed numeric address") from None


def _cache_get(key: _CacheKey) -> tuple[IPAddress, ...] | None:
    entry = _resolve_cache.get(key)
    if entry is None:
        return None
    expires_at, addresses = entry
    if expires_at < time.monotonic():
        _resolve_cache.pop(key, None)
        return None
    return addresses


def _check_all_and_cache(
    key: _CacheKey, host: str, port: int, raw: Iterable[str], policy: NetPolicy
) -> list[IPAddress]:
    addresses = _parse_resolved(host, raw)
    for ip in addresses:  # one forbidden address poisons the whole answer
        check_address(ip, host, port, policy)
    if len(_resolve_cache) >= _RESOLVE_CACHE_MAX_ENTRIES:
        _resolve_cache.clear()
    # Only checked answers are cached, so the cache can never let a forbidden address through.
    _resolve_cache[key] = (time.monotonic() + RESOLVE_CACHE_TTL_SECONDS, tuple(addresses))
    return addresses


def _parse_resolved(host: str, raw: Iterable[str]) -> list[IPAddress]:
    addresses: list[IPAddress] = []
    for text in raw:
        try:
            ip = ipaddress.ip_address(str(text).split("%", 1)[0])
        except ValueError:
            message = f"resolver returned an invalid address for {host}: {text!r}"
            raise ResolveError(message) from None
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise ResolveError(f"{host} has no addresses")
    return addresses


def _call_resolver(resolver: Resolver, host: str) -> Iterable[str] | Awaitable[Iterable[str]]:
    try:
        return resolver(host)
    except (ResolveError, BlockedAddressError):
        raise
    except (OSError, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host}: {exc}") from exc


async def _await_resolver(pending: Awaitable[Iterable[str]], host: str) -> Iterable[str]:
    try:
        return await pending
    except (ResolveError, BlockedAddressError):
        raise
    except (OSError, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host}: {exc}") from exc


def _getaddrinfo(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host}: {_describe(exc)}") from exc
    return [str(info[4][0]) for info in infos]


async def _agetaddrinfo(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host}: {_describe(exc)}") from exc
    return [str(info[4][0]) for info in infos]


def _describe(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
