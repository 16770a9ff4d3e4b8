"""SSRF guard: the policy, and whether an outbound webhook may reach an address.

Two layers use it:

* ``check_url`` runs when a job is created or edited. It rejects bad schemes and IP literals
  (in every spelling libc and browsers accept) that point at internal networks.
* ``resolve_and_check`` / ``aresolve_and_check`` (in ``resolve``) run at delivery time. They
  resolve the host, refuse if *any* address is forbidden here (DNS-rebinding defence), and
  return the checked addresses so the caller connects to exactly those and never resolves
  the name again.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from hookboard.domain.host_allowlist import (
    HostAllowlist,
    allowlist_entries,
    canonical_host,
    is_host_name,
    parse_host_allowlist,
    split_port,
    strip_trailing_dot,
)

if TYPE_CHECKING:
    from hookboard.settings import Settings

IPAddress = IPv4Address | IPv6Address
_LOOPBACK_V4 = IPv4Address("127.0.0.1")
_LOOPBACK_V6 = IPv6Address("::1")
IPNetwork = IPv4Network | IPv6Network

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
TARGET_HOST_REASON = "host not in TARGET_HOST_ALLOWLIST"


class BlockedAddressError(Exception):
    """The destination is an address the policy does not allow."""

    def __init__(self, address: str, reason: str, host: str | None = None) -> None:
        self.address = address
        self.reason = reason
        self.host = host
        if host and host != address:
            message = f"{host} resolves to {address}, which is {reason}"
        else:
            message = f"{address} is {reason}"
        super().__init__(message)


class HostNotAllowedError(BlockedAddressError):
    """TARGET_HOST_ALLOWLIST is set and the destination is not in it."""

    def __init__(self, host: str, port: int) -> None:
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        Exception.__init__(self, f"{shown}: {TARGET_HOST_REASON}")
        self.address = shown
        self.reason = TARGET_HOST_REASON
        self.host = host


# --- policy -------------------------------------------------------------------------------------

# A private allowlist entry: (host name, or network), and its port (None: every port).
_NamedEntry = tuple[str, int | None]
_NetworkEntry = tuple[IPNetwork, int | None]


@dataclass(frozen=True)
class NetPolicy:
    """Where outbound webhooks may go.

    The private-address rules: ``allow_private`` lifts them; ``allowlist`` entries are exact
    host names (case-insensitive) or CIDRs / single addresses, each with an optional port
    (``hooks.internal:8080``, ``10.0.0.0/8:443``, ``[fd00::/8]:443``), allowed anyway.
    ``target_hosts`` (TARGET_HOST_ALLOWLIST), when set, limits every destination to its
    patterns, in addition to the private-address rules, never instead of them.
    """

    allow_private: bool = False
    allowlist: tuple[str, ...] = ()
    target_hosts: HostAllowlist = field(default_factory=HostAllowlist)
    _hostnames: frozenset[_NamedEntry] = field(init=False, repr=False, compare=False)
    _networks: tuple[_NetworkEntry, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hostnames, networks = _parse_allowlist(self.allowlist)
        object.__setattr__(self, "_hostnames", hostnames)
        object.__setattr__(self, "_networks", networks)

    @classmethod
    def from_strings(
        cls, allow_private: bool, allowlist: str | list[str], target_hosts: str = ""
    ) -> NetPolicy:
        """Build a policy from configuration text, e.g. ``"10.0.0.0/8, hooks.internal:8080"``."""
        return cls(
            allow_private=allow_private,
            allowlist=allowlist_entries(allowlist),
            target_hosts=parse_host_allowlist(target_hosts),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> NetPolicy:
        return cls.from_strings(
            settings.allow_private_targets,
            settings.private_target_allowlist,
            settings.target_host_allowlist,
        )

    def allows(self, host: str, ip: IPAddress, port: int) -> bool:
        """True when a forbidden address is nevertheless allowed for this host and port."""
        if self.allow_private:
            return True
        name = strip_trailing_dot(host.lower())
        if (name, None) in self._hostnames or (name, port) in self._hostnames:
            return True
        return any(
            ip.version == net.version and ip in net and allowed in (None, port)
            for net, allowed in self._networks
        )

    def check_target_host(self, host: str, port: int) -> None:
        """Raise HostNotAllowedError when TARGET_HOST_ALLOWLIST is set and lacks host:port."""
        if not self.target_hosts.restricts:
            return
        try:
            literal = parse_ip_literal(host)
        except ValueError:
            literal = None  # malformed numeric: it matches no pattern either
        if not self.target_hosts.allows(canonical_host(host, literal), port):
            raise HostNotAllowedError(host, port)


def _parse_allowlist(
    entries: Iterable[str],
) -> tuple[frozenset[_NamedEntry], tuple[_NetworkEntry, ...]]:
    hostnames: set[_NamedEntry] = set()
    networks: list[_NetworkEntry] = []
    for raw in entries:
        try:
            host, port = split_port(raw.strip().lower())
        except ValueError as exc:
            raise ValueError(f"invalid allowlist entry: {raw!r} ({exc})") from None
        if "/" in host or ":" in host or _is_ip(host):
            try:
                networks.append((ipaddress.ip_network(host, strict=False), port))
            except ValueError as exc:
                raise ValueError(f"invalid CIDR in allowlist: {raw!r} ({exc})") from None
        elif is_host_name(strip_trailing_dot(host)):
            hostnames.add((strip_trailing_dot(host), port))
        else:
            raise ValueError(f"invalid allowlist entry: {raw!r} (expected a host name or CIDR)")
    return frozenset(hostnames), tuple(networks)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- IP literal parsing -------------------------------------------------------------------------

_UNICODE_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_NUMERIC_PART_RE = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


@lru_cache(maxsize=4096)
def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address a host denotes when it is an IP literal, else None (a host name).

    Accepts every IPv4 spelling inet_aton/WHATWG accept (``2130706433``, ``0177.0.0.1``,
    ``0x7f.1``, ``127.1``), bracketed IPv6 and IPv6 with a zone id (the zone is dropped).
    Raises ValueError for hosts that look numeric but are not valid addresses (``1.2.3.999``):
    they are not host names either, and must not fall through to DNS.
    """
    candidate = host.translate(_UNICODE_DOTS).lower()
    if candidate.startswith("[") and candidate.endswith("]"):
        return _parse_ipv6(candidate[1:-1])
    if ":" in candidate:
        return _parse_ipv6(candidate)
    parts = candidate.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot is allowed, as in host names
    if not _NUMERIC_PART_RE.match(parts[-1]):
        return None  # WHATWG: only hosts whose last label is numeric are IPv4
    return _parse_ipv4_parts(parts, host)


def _parse_ipv6(text: str) -> IPv6Address:
    address = text.split("%", 1)[0]  # zone id ("%eth0", "%25eth0" in URLs) has no meaning here
    try:
        return IPv6Address(address)
    except ValueError:
        raise ValueError(f"invalid IPv6 address: {text!r}") from None


def _parse_ipv4_parts(parts: list[str], original: str) -> IPv4Address:
    if len(parts) > 4:
        raise ValueError(f"invalid IPv4 address: {original!r}")
    numbers = [_parse_ipv4_number(part, original) for part in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"invalid IPv4 address: {original!r}")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _parse_ipv4_number(part: str, original: str) -> int:
    if not _NUMERIC_PART_RE.match(part):
        raise ValueError(f"invalid IPv4 address: {original!r}")
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        if not set(part) <= set("01234567"):
            raise ValueError(f"invalid octal part in IPv4 address: {original!r}")
        return int(part, 8)
    return int(part)


# --- classification -----------------------------------------------------------------------------

_DOCUMENTATION = "a documentation address"
_PRIVATE = "a private address (RFC 1918)"

_IPV4_RULES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/32", "an unspecified address"),
        ("0.0.0.0/8", "a 'this network' address (0.0.0.0/8)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.169.254/32", "a cloud metadata address"),
        ("169.254.0.0/16", "a link-local address"),
        ("10.0.0.0/8", _PRIVATE),
        ("172.16.0.0/12", _PRIVATE),
        ("192.168.0.0/16", _PRIVATE),
        ("100.64.0.0/10", "a shared address space (CGNAT) address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", _DOCUMENTATION),
        ("198.51.100.0/24", _DOCUMENTATION),
        ("203.0.113.0/24", _DOCUMENTATION),
        ("198.18.0.0/15", "a benchmarking address"),
    )
)

_IPV6_RULES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible address (deprecated)"),
        ("fd00:ec2::254/128", "a cloud metadata address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("2001::/32", "a Teredo tunnelling address"),
        ("fc00::/7", "a unique local address (ULA)"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address (deprecated)"),
        ("ff00::/8", "a multicast address"),
        ("2001:db8::/32", _DOCUMENTATION),
        ("100::/64", "a discard-only address"),
    )
)

_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")


@lru_cache(maxsize=8192)
def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be reached from a public webhook sender, or None when public."""
    if isinstance(ip, IPv4Address):
        return _first_matching_rule(ip, _IPV4_RULES) or _non_global_reason(ip)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind, ipv4 = embedded
        inner = forbidden_reason(ipv4)
        return f"{kind} of {ipv4}, {inner}" if inner else None
    return _first_matching_rule(ip, _IPV6_RULES) or _non_global_reason(ip)


def _first_matching_rule(ip: IPAddress, rules: Iterable[tuple[IPNetwork, str]]) -> str | None:
    for network, reason in rules:
        if ip in network:
            return reason
    return None


def _non_global_reason(ip: IPAddress) -> str | None:
    # Catch-all for special-purpose ranges not named above (the registry keeps growing).
    return None if ip.is_global else "a non-global (special-purpose) address"


def _embedded_ipv4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    """IPv6 forms that deliver to an IPv4 address: judge them by that address."""
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped address", ip.ipv4_mapped
    if ip in _NAT64:
        return "a NAT64 address", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR and ip.sixtofour is not None:
        return "a 6to4 address", ip.sixtofour
    return None


def check_address(ip: IPAddress, host: str, port: int, policy: NetPolicy) -> IPAddress:
    reason = forbidden_reason(ip)
    if reason is not None and not policy.allows(host, ip, port):
        raise BlockedAddressError(str(ip), reason, host)
    return ip


# --- static URL check ---------------------------------------------------------------------------


def check_url(url: str, policy: NetPolicy) -> None:
    """Validate a webhook URL when it is saved; host names are checked again at delivery.

    Raises ValueError for a malformed URL, a scheme other than http/https or a missing host,
    and BlockedAddressError for an IP literal (any spelling) the policy forbids, or a host
    outside TARGET_HOST_ALLOWLIST when that is set.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise ValueError(f"invalid URL: {exc}") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise ValueError(f"URL scheme must be http or https, not {parts.scheme or 'missing'!r}")
    if not host:
        raise ValueError("URL has no host")
    # Check the host as both parsers see it, so a parser differential cannot hide an address;
    # the delivery engine uses httpx's view, and rejects what httpx refuses.
    try:
        delivery = httpx.URL(url)
    except httpx.InvalidURL as exc:
        _check_literal(host, port, policy)  # "0177.0.0.1" is refused by httpx but is loopback
        raise ValueError(f"invalid URL: {exc}") from None
    delivery_port = delivery.port or DEFAULT_PORTS[delivery.scheme]
    # Where the request goes is httpx's view (the same check runs again at every hop).
    policy.check_target_host(delivery.host, delivery_port)
    _check_literal(host, port, policy)
    _check_literal(delivery.host, delivery_port, policy)


# Names that always mean this host, whatever DNS says: RFC 6761 section 6.3
# (localhost and *.localhost) and the IPv6 names of Debian's /etc/hosts. They are
# refused when a URL is saved, like the loopback literals they stand for.
_LOOPBACK_NAMES = {
    "localhost": _LOOPBACK_V4,
    "ip6-localhost": _LOOPBACK_V6,
    "ip6-loopback": _LOOPBACK_V6,
}


def loopback_name_address(host: str) -> IPAddress | None:
    """The address a name that is always loopback stands for; None for other names."""
    name = strip_trailing_dot(host.lower())
    if name.endswith(".localhost"):
        return _LOOPBACK_V4
    return _LOOPBACK_NAMES.get(name)


def _check_literal(host: str, port: int, policy: NetPolicy) -> None:
    ip = parse_ip_literal(host)
    if ip is None:
        ip = loopback_name_address(host)
    if ip is not None:
        check_address(ip, host, port, policy)
