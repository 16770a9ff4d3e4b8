"""Destination allowlists as operators write them, parsed once and matched without regexes.

Both ``PRIVATE_TARGET_ALLOWLIST`` and ``TARGET_HOST_ALLOWLIST`` are comma-separated entries
with an optional port: ``host:port``, ``10.0.0.0/8:443``, ``[fd00::/8]:443`` (IPv6 in
brackets when a port follows). An entry without a port allows every port.

``TARGET_HOST_ALLOWLIST`` (``HostAllowlist``) holds host patterns: an exact host name or IP
address, or ``*.example.com``, which matches any name *under* example.com (sub.example.com,
a.b.example.com) but not example.com itself: list both to allow both. Matching looks up
the host and each of its parent domains in sets, so its cost is linear in the host's length.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from hookboard.domain.limits import MAX_ALLOWLIST_ENTRIES, MAX_ALLOWLIST_ENTRY_CHARS

# Labels of letters, digits, '-' and '_' (seen in real internal names), dot separated.
HOSTNAME_RE = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
MAX_HOSTNAME_CHARS = 253
WILDCARD_PREFIX = "*."

_MAX_TEXT_CHARS = MAX_ALLOWLIST_ENTRIES * (MAX_ALLOWLIST_ENTRY_CHARS + 2)  # ", " between

# (canonical host or parent domain, port or None for every port)
_Entry = tuple[str, int | None]


def allowlist_entries(text: str | Iterable[str]) -> tuple[str, ...]:
    """The non-empty entries of a comma-separated setting, stripped and bounded."""
    if isinstance(text, str):
        if len(text) > _MAX_TEXT_CHARS:
            raise ValueError(f"longer than {_MAX_TEXT_CHARS} characters")
        text = text.split(",")
    entries = tuple(item.strip() for item in text if item.strip())
    if len(entries) > MAX_ALLOWLIST_ENTRIES:
        raise ValueError(f"at most {MAX_ALLOWLIST_ENTRIES} entries")
    for entry in entries:
        if len(entry) > MAX_ALLOWLIST_ENTRY_CHARS:
            raise ValueError(f"entry longer than {MAX_ALLOWLIST_ENTRY_CHARS} characters")
    return entries


def split_port(entry: str) -> tuple[str, int | None]:
    """``host:port`` -> (host, port); ``[v6]:port`` for IPv6; a bare IPv6 address or
    network (two or more colons, no brackets) has no port."""
    if entry.startswith("["):
        inner, bracket, rest = entry[1:].partition("]")
        if not bracket:
            raise ValueError("missing ']'")
        if not rest:
            return inner, None
        if not rest.startswith(":"):
            raise ValueError("expected ':port' after ']'")
        return inner, _port_number(rest[1:])
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, _port_number(port)
    return entry, None


def _port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 65535):
        raise ValueError(f"port must be 1 to 65535, not {text!r}")
    return int(text)


def strip_trailing_dot(host: str) -> str:
    return host[:-1] if host.endswith(".") else host


def is_host_name(name: str) -> bool:
    return len(name) <= MAX_HOSTNAME_CHARS and HOSTNAME_RE.match(name) is not None


@dataclass(frozen=True)
class HostAllowlist:
    """TARGET_HOST_ALLOWLIST, parsed; empty means no restriction (see ``restricts``)."""

    exact: frozenset[_Entry] = frozenset()
    parents: frozenset[_Entry] = frozenset()  # "example.com" for "*.example.com"

    @property
    def restricts(self) -> bool:
        return bool(self.exact or self.parents)

    def allows(self, host: str, port: int) -> bool:
        """``host`` in canonical form (``canonical_host``); ``port`` as connected to."""
        if _listed(self.exact, host, port):
            return True
        dot = host.find(".")
        while dot != -1:  # each parent domain once: sub.a.example.com -> a.example.com -> ...
            if _listed(self.parents, host[dot + 1 :], port):
                return True
            dot = host.find(".", dot + 1)
        return False


def _listed(entries: frozenset[_Entry], host: str, port: int) -> bool:
    return (host, None) in entries or (host, port) in entries


def canonical_host(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """How ``HostAllowlist`` compares hosts: an IP as ``ipaddress`` prints it, a name in lower
    case without its trailing dot. ``address`` is the IP the host denotes, if it is one."""
    return str(address) if address is not None else strip_trailing_dot(host.lower())


@lru_cache(maxsize=16)
def parse_host_allowlist(text: str) -> HostAllowlist:
    """Parse TARGET_HOST_ALLOWLIST; ValueError names the first malformed entry."""
    exact: set[_Entry] = set()
    parents: set[_Entry] = set()
    for entry in allowlist_entries(text):
        try:
            host, port = split_port(entry.lower())
            if host.startswith(WILDCARD_PREFIX):
                parents.add((_pattern_name(host[len(WILDCARD_PREFIX) :]), port))
            else:
                exact.add((_exact_host(host), port))
        except ValueError as error:
            raise ValueError(f"invalid entry {entry!r}: {error}") from None
    return HostAllowlist(frozenset(exact), frozenset(parents))


def _exact_host(host: str) -> str:
    name = strip_trailing_dot(host)
    if ":" in name or _last_label_is_numeric(name):
        try:
            return str(ipaddress.ip_address(name))
        except ValueError:
            raise ValueError("not a valid IP address") from None
    return _pattern_name(host)


def _pattern_name(host: str) -> str:
    name = strip_trailing_dot(host)
    if not is_host_name(name) or _last_label_is_numeric(name):
        raise ValueError("expected a host name, *.domain or an IP address")
    return name


def _last_label_is_numeric(name: str) -> bool:
    return name.rpartition(".")[2].isdigit()
