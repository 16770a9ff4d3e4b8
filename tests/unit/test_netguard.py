"""The SSRF guard: pure checks only; nothing here opens a connection or queries DNS."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from hookboard.net.guard import (
    BlockedAddressError,
    NetPolicy,
    check_url,
    forbidden_reason,
    parse_ip_literal,
)
from hookboard.net.resolve import (
    ResolveError,
    aresolve_and_check,
    clear_resolve_cache,
    resolve_and_check,
)

STRICT = NetPolicy()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_resolve_cache()


def fake_resolver(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str) -> list[str]:
        calls.append(host)
        if host not in table:
            raise ResolveError(f"cannot resolve {host}: Name or service not known")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


# --- parsing every spelling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "127.0.0.1",
        "2130706433",  # one decimal integer
        "0177.0.0.1",  # octal
        "0177.0000.0.01",
        "0x7f.0.0.1",  # hex
        "0X7F.0x0.0.0x1",
        "0x7f000001",
        "0x7f.1",  # hex, short form
        "127.1",  # short forms
        "127.0.1",
        "0177.0x0.1",  # mixed
        "127.0.0.1.",  # trailing dot
        "127\u30020\u30020\u30021",  # ideographic full stops
    ],
)
def test_every_ipv4_spelling_of_loopback_parses_to_127_0_0_1(spelling: str) -> None:
    assert parse_ip_literal(spelling) == IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),  # zone id as it appears in URLs
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_ipv6_literals_parse(spelling: str, expected: str) -> None:
    assert parse_ip_literal(spelling) == IPv6Address(expected)


@pytest.mark.parametrize("host", ["example.com", "localhost", "hooks.internal.", "0x7f.example"])
def test_host_names_are_not_ip_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize("host", ["1.2.3.999", "256.0.0.1", "0x100.1", "1.2.3.4.5", "09.1.1.1"])
def test_numeric_looking_but_invalid_hosts_raise(host: str) -> None:
    with pytest.raises(ValueError):
        parse_ip_literal(host)


def test_malformed_bracketed_ipv6_raises() -> None:
    with pytest.raises(ValueError):
        parse_ip_literal("[not-an-ip]")


# --- classification -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason_fragment"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this network"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("fd00:ec2::254", "metadata"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped address of 127.0.0.1, a loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped address of 10.0.0.1, a private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::8.8.8.8", "IPv4-compatible"),
        ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:7f00:1::1", "6to4 address of 127.0.0.1"),
        ("2002:c0a8:101::1", "6to4 address of 192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("2001:db8::1", "documentation"),
        ("100::1", "discard"),
    ],
)
def test_forbidden_addresses_have_a_reason(address: str, reason_fragment: str) -> None:
    reason = forbidden_reason(ip_address(address))
    assert reason is not None
    assert reason_fragment in reason


@pytest.mark.parametrize(
    "address",
    [
        *("8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1", "2a00:1450::1"),
        *("::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"),  # embedded public IPv4
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ip_address(address)) is None


# --- policy -------------------------------------------------------------------------------------


def test_policy_from_strings_parses_hosts_and_cidrs() -> None:
    policy = NetPolicy.from_strings(False, " 10.0.0.0/8, Hooks.Internal ,::1/128,, 127.0.0.1")
    assert policy.allowlist == ("10.0.0.0/8", "Hooks.Internal", "::1/128", "127.0.0.1")
    assert policy.allows("hooks.internal", ip_address("127.0.0.1"), 80)
    assert policy.allows("other", ip_address("10.9.9.9"), 80)
    assert policy.allows("other", ip_address("::1"), 80)
    assert policy.allows("other", ip_address("127.0.0.1"), 80)
    assert not policy.allows("other", ip_address("192.168.0.1"), 80)
    assert NetPolicy.from_strings(True, []).allows("any", ip_address("127.0.0.1"), 80)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "300.1.1.0/24", "fe80::zz/64", "not a host"])
def test_bad_allowlist_entry_raises_value_error(entry: str) -> None:
    with pytest.raises(ValueError, match="allowlist"):
        NetPolicy.from_strings(False, entry)


PORTED = NetPolicy.from_strings(
    False, "hooks.internal:8080, 10.0.0.0/8:443, [fd00::/8]:9000, 127.0.0.1:3000, [::1]:4000"
)


@pytest.mark.parametrize(
    ("host", "address", "port", "allowed"),
    [
        ("hooks.internal", "10.9.9.9", 8080, True),
        ("hooks.internal", "192.168.0.9", 8080, True),
        ("hooks.internal", "192.168.0.9", 8081, False),
        ("other", "10.1.2.3", 443, True),
        ("other", "10.1.2.3", 80, False),
        ("other", "fd00::5", 9000, True),
        ("other", "fd00::5", 443, False),
        ("127.0.0.1", "127.0.0.1", 3000, True),
        ("127.0.0.1", "127.0.0.1", 3001, False),
        ("::1", "::1", 4000, True),
        ("::1", "::1", 80, False),
    ],
)
def test_private_allowlist_entries_with_a_port_allow_only_that_port(
    host: str, address: str, port: int, allowed: bool
) -> None:
    assert PORTED.allows(host, ip_address(address), port) is allowed


def test_private_allowlist_entries_without_a_port_allow_every_port() -> None:
    policy = NetPolicy.from_strings(False, "hooks.internal, 10.0.0.0/8, fd00::/8, [::1]")
    for port in (1, 80, 8080, 65535):
        assert policy.allows("hooks.internal", ip_address("192.168.1.1"), port)
        assert policy.allows("x", ip_address("10.0.0.1"), port)
        assert policy.allows("x", ip_address("fd00::1"), port)
        assert policy.allows("x", ip_address("::1"), port)


def test_a_ported_private_allowance_is_checked_at_save_for_ip_literals() -> None:
    check_url("http://127.0.0.1:3000/hook", PORTED)
    check_url("http://[::1]:4000/", PORTED)
    for url in ("http://127.0.0.1/", "http://127.0.0.1:3001/", "https://127.0.0.1:443/"):
        with pytest.raises(BlockedAddressError):
            check_url(url, PORTED)


def test_the_resolve_cache_does_not_carry_an_allowance_to_another_port() -> None:
    resolver = fake_resolver({"hooks.internal": ["10.0.0.5"]})
    policy = NetPolicy.from_strings(False, "hooks.internal:8080")
    assert resolve_and_check("hooks.internal", 8080, policy, resolver) == [ip_address("10.0.0.5")]
    with pytest.raises(BlockedAddressError):
        resolve_and_check("hooks.internal", 9090, policy, resolver)


@pytest.mark.parametrize(
    "entry", ["hooks.internal:0", "hooks.internal:65536", "10.0.0.1:x", "[::1", "[::1]x"]
)
def test_bad_ports_in_the_private_allowlist_raise_value_error(entry: str) -> None:
    with pytest.raises(ValueError, match="allowlist"):
        NetPolicy.from_strings(False, entry)


def test_policies_are_hashable_and_compare_by_configuration() -> None:
    assert NetPolicy.from_strings(False, "a.test") == NetPolicy(allowlist=("a.test",))
    assert hash(NetPolicy()) == hash(NetPolicy())


# --- check_url ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://0x7f.0.0.1:8080/x",
        "http://0x7f.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "https://[::1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://user:pass@10.0.0.1/",
    ],
)
def test_check_url_blocks_forbidden_ip_literals(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, STRICT)


def test_blocked_error_explains_the_reason() -> None:
    with pytest.raises(BlockedAddressError) as caught:
        check_url("http://127.0.0.1/", STRICT)
    assert str(caught.value) == "127.0.0.1 is a loopback address"
    assert caught.value.address == "127.0.0.1"


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hook", "https://[2606:4700::1]:8443/", "https://example.com/x"]
)
def test_check_url_passes_public_literals_and_host_names(url: str) -> None:
    check_url(url, STRICT)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1/", "scheme"),
        ("example.com/hook", "scheme"),
        ("http:///path-only", "no host"),
        ("http://example.com:99999/", "invalid URL"),
        ("http://1.2.3.999/", "IPv4"),
    ],
)
def test_check_url_rejects_malformed_urls_with_value_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_url(url, STRICT)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://localhost/", "127.0.0.1"),
        ("http://LocalHost.:8080/x", "127.0.0.1"),
        ("http://api.localhost/", "127.0.0.1"),
        ("http://a.b.localhost./", "127.0.0.1"),
        ("http://ip6-localhost/", "::1"),
        ("http://ip6-loopback/", "::1"),
    ],
)
def test_names_that_are_always_loopback_are_refused_when_saved(url: str, address: str) -> None:
    with pytest.raises(BlockedAddressError) as caught:
        check_url(url, STRICT)
    assert caught.value.address == address


@pytest.mark.parametrize(
    "url", ["http://localhost.example.com/", "http://mylocalhost/", "http://localhostx/"]
)
def test_names_that_only_contain_localhost_pass(url: str) -> None:
    check_url(url, STRICT)


def test_a_loopback_name_passes_when_the_operator_allows_it() -> None:
    check_url("http://localhost:9000/", NetPolicy(allow_private=True))
    check_url("http://localhost:9000/", NetPolicy(allowlist=("localhost",)))
    check_url("http://api.localhost/", NetPolicy(allowlist=("127.0.0.0/8",)))
    with pytest.raises(BlockedAddressError):
        check_url("http://api.localhost/", NetPolicy(allowlist=("localhost",)))


def test_check_url_honours_the_policy() -> None:
    check_url("http://127.0.0.1:9000/", NetPolicy(allow_private=True))
    check_url("http://10.1.2.3/", NetPolicy(allowlist=("10.0.0.0/8",)))
    with pytest.raises(BlockedAddressError):
        check_url("http://10.1.2.3/", NetPolicy(allowlist=("10.0.0.0/16",)))


# --- resolution at delivery time ----------------------------------------------------------------


def test_resolved_public_addresses_are_returned() -> None:
    resolver = fake_resolver({"hooks.example": ["93.184.216.34", "2606:4700::1", "93.184.216.34"]})
    addresses = resolve_and_check("hooks.example", 443, STRICT, resolver)
    assert addresses == [ip_address("93.184.216.34"), ip_address("2606:4700::1")]


def test_name_resolving_to_public_and_private_is_refused() -> None:
    resolver = fake_resolver({"rebind.example": ["93.184.216.34", "10.0.0.5"]})
    with pytest.raises(BlockedAddressError) as caught:
        resolve_and_check("rebind.example", 80, STRICT, resolver)
    assert "rebind.example resolves to 10.0.0.5" in str(caught.value)


def test_name_resolving_to_metadata_over_ipv6_is_refused() -> None:
    resolver = fake_resolver({"meta.example": ["fd00:ec2::254"]})
    with pytest.raises(BlockedAddressError, match="metadata"):
        resolve_and_check("meta.example", 80, STRICT, resolver)


def test_allowlisted_host_name_may_resolve_to_private_addresses() -> None:
    resolver = fake_resolver({"hooks.internal": ["10.0.0.5", "fd00::5"]})
    policy = NetPolicy.from_strings(False, "HOOKS.internal")
    assert resolve_and_check("hooks.internal", 80, policy, resolver) == [
        ip_address("10.0.0.5"),
        ip_address("fd00::5"),
    ]


def test_allowlisted_cidr_must_cover_every_resolved_address() -> None:
    resolver = fake_resolver({"svc.internal": ["10.0.0.5", "192.168.1.5"]})
    policy = NetPolicy.from_strings(False, "10.0.0.0/8")
    with pytest.raises(BlockedAddressError, match=r"192\.168\.1\.5"):
        resolve_and_check("svc.internal", 80, policy, resolver)


def test_ip_literals_are_checked_without_any_resolution() -> None:
    resolver = fake_resolver({})
    with pytest.raises(BlockedAddressError):
        resolve_and_check("0x7f.1", 80, STRICT, resolver)
    with pytest.raises(BlockedAddressError, match="malformed"):
        resolve_and_check("1.2.3.999", 80, STRICT, resolver)
    assert resolve_and_check("8.8.8.8", 80, STRICT, resolver) == [ip_address("8.8.8.8")]
    assert resolver.calls == []  # type: ignore[attr-defined]


def test_resolution_failure_raises_resolve_error() -> None:
    with pytest.raises(ResolveError):
        resolve_and_check("nowhere.example", 80, STRICT, fake_resolver({}))

    def broken(host: str) -> list[str]:
        raise OSError("resolver unreachable")

    with pytest.raises(ResolveError, match="resolver unreachable"):
        resolve_and_check("nowhere.example", 80, STRICT, broken)
    with pytest.raises(ResolveError, match="no addresses"):
        resolve_and_check("empty.example", 80, STRICT, fake_resolver({"empty.example": []}))


def test_checked_answers_are_cached_but_refusals_are_not() -> None:
    resolver = fake_resolver({"a.example": ["93.184.216.34"], "b.example": ["10.0.0.1"]})
    for _ in range(3):
        resolve_and_check("a.example", 80, STRICT, resolver)
        with pytest.raises(BlockedAddressError):
            resolve_and_check("b.example", 80, STRICT, resolver)
    assert resolver.calls == ["a.example"] + ["b.example"] * 3  # type: ignore[attr-defined]


def test_localhost_resolves_to_loopback_and_is_refused() -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        resolve_and_check("localhost", 80, STRICT)
    allowed = resolve_and_check("localhost", 80, NetPolicy(allow_private=True))
    assert allowed and all(ip.is_loopback for ip in allowed)


def test_async_variant_accepts_sync_and_async_resolvers() -> None:
    async def async_resolver(host: str) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    async def scenario() -> None:
        with pytest.raises(BlockedAddressError, match="loopback"):
            await aresolve_and_check("mixed.example", 80, STRICT, async_resolver)
        sync_resolver = fake_resolver({"ok.example": ["93.184.216.34"]})
        assert await aresolve_and_check("ok.example", 80, STRICT, sync_resolver) == [
            ip_address("93.184.216.34")
        ]
        with pytest.raises(BlockedAddressError):
            await aresolve_and_check("localhost", 80, STRICT)

    asyncio.run(scenario())
