"""TARGET_HOST_ALLOWLIST: parsing (bounded, clear errors) and matching (linear, exact)."""

from __future__ import annotations

import time
from ipaddress import ip_address

import pytest

from hookboard.domain.host_allowlist import HostAllowlist, parse_host_allowlist
from hookboard.domain.limits import MAX_ALLOWLIST_ENTRIES
from hookboard.net.guard import BlockedAddressError, HostNotAllowedError, NetPolicy, check_url
from hookboard.net.resolve import clear_resolve_cache, resolve_and_check
from hookboard.settings import Settings, SettingsError, get_settings

PATTERNS = "*.example.com, hooks.partner.test:8443, 203.0.113.7, [2001:db8::7]:9000, Local.Test."


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_resolve_cache()


def allows(host: str, port: int = 443, text: str = PATTERNS) -> bool:
    return NetPolicy.from_strings(False, "", text).target_hosts.allows(host, port)


# --- matching -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port"),
    [
        ("sub.example.com", 443),
        ("a.b.example.com", 80),  # any depth under the domain
        ("hooks.partner.test", 8443),
        ("203.0.113.7", 1234),  # no port in the entry: every port
        ("2001:db8::7", 9000),
        ("local.test", 80),  # case and trailing dot do not matter
    ],
)
def test_it_allows_hosts_matching_a_pattern(host: str, port: int) -> None:
    assert allows(host, port)


@pytest.mark.parametrize(
    ("host", "port"),
    [
        ("example.com", 443),  # *.example.com is what is under example.com, not example.com
        ("badexample.com", 443),  # a suffix of the text, but not a parent domain
        ("example.com.evil.test", 443),
        ("sub.example.co", 443),
        ("hooks.partner.test", 443),  # the entry names port 8443 only
        ("x.hooks.partner.test", 8443),  # exact entries do not cover sub-domains
        ("203.0.113.8", 80),
        ("2001:db8::7", 9001),
        ("", 443),
    ],
)
def test_it_refuses_hosts_outside_every_pattern(host: str, port: int) -> None:
    assert not allows(host, port)


def test_an_empty_setting_restricts_nothing() -> None:
    assert not parse_host_allowlist(" , ").restricts
    NetPolicy().check_target_host("anything.test", 1)  # no error


def test_the_policy_compares_hosts_in_canonical_form() -> None:
    policy = NetPolicy.from_strings(False, "", "203.0.113.7, *.example.com")
    for host in ("203.0.113.7", "3405803783", "0xcb.0.113.7", "SUB.Example.COM."):
        policy.check_target_host(host, 80)
    with pytest.raises(HostNotAllowedError, match="host not in TARGET_HOST_ALLOWLIST"):
        policy.check_target_host("203.0.113.999", 80)  # malformed numeric matches nothing


def test_matching_time_is_linear_in_the_host_length() -> None:
    patterns = HostAllowlist(parents=frozenset({("example.com", None)}))
    host = "a." * 120 + "evil.test"  # 249 characters, 121 labels
    started = time.perf_counter()
    for _ in range(2000):
        assert not patterns.allows(host, 443)
    assert time.perf_counter() - started < 1.0


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "foo*bar.com",
        "*.*.example.com",
        "ex*.com",
        "*",
        "*.",
        "https://example.com",
        "example.com/path",
        "example.com:0",
        "example.com:70000",
        "example.com:http",
        "[2001:db8::1",
        "1.2.3.999",
        "10.0.0.0/8",  # networks belong in PRIVATE_TARGET_ALLOWLIST, not here
        "a" * 64 + ".com",
        "exa mple.com",
    ],
)
def test_it_refuses_a_malformed_entry_and_names_it(entry: str) -> None:
    with pytest.raises(ValueError, match="invalid entry"):
        parse_host_allowlist(f"ok.test, {entry}")


def test_it_bounds_the_number_and_length_of_entries() -> None:
    many = ",".join(f"h{index}.test" for index in range(MAX_ALLOWLIST_ENTRIES + 1))
    with pytest.raises(ValueError, match=f"at most {MAX_ALLOWLIST_ENTRIES} entries"):
        parse_host_allowlist(many)
    with pytest.raises(ValueError, match="longer than"):
        parse_host_allowlist("x" * 400)
    with pytest.raises(ValueError, match="longer than"):
        parse_host_allowlist("," * 1_000_000)


def test_a_malformed_setting_is_a_startup_error_naming_it(monkeypatch) -> None:
    monkeypatch.setenv("TARGET_HOST_ALLOWLIST", "hooks.test, *bad*.test")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=r"^TARGET_HOST_ALLOWLIST: invalid entry '\*bad"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_the_setting_defaults_to_no_restriction() -> None:
    assert Settings(_env_file=None).target_host_allowlist == ""
    assert not NetPolicy.from_settings(Settings(_env_file=None)).target_hosts.restricts


# --- beside the private-address rules ------------------------------------------------------------


def test_check_url_refuses_a_host_outside_the_allowlist_at_save() -> None:
    policy = NetPolicy.from_strings(False, "", "*.example.com:443")
    check_url("https://hooks.example.com/x", policy)
    for url in ("https://example.com/", "http://hooks.example.com/", "https://evil.test/"):
        with pytest.raises(HostNotAllowedError, match="host not in TARGET_HOST_ALLOWLIST"):
            check_url(url, policy)


def test_a_private_address_stays_refused_when_its_name_is_allowlisted() -> None:
    policy = NetPolicy.from_strings(False, "", "*.example.com, 127.0.0.1")
    resolver = {"in.example.com": ["10.0.0.5"]}.__getitem__
    with pytest.raises(BlockedAddressError, match="private address"):
        resolve_and_check("in.example.com", 443, policy, resolver)
    with pytest.raises(BlockedAddressError, match="loopback"):
        check_url("http://127.0.0.1/", policy)
    allowed = NetPolicy.from_strings(False, "in.example.com", "*.example.com")
    assert resolve_and_check("in.example.com", 443, allowed, resolver) == [ip_address("10.0.0.5")]


def test_delivery_refuses_a_host_outside_the_allowlist_before_resolving_it() -> None:
    calls: list[str] = []

    def resolver(host: str) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    policy = NetPolicy.from_strings(False, "", "hooks.example.com")
    with pytest.raises(HostNotAllowedError) as caught:
        resolve_and_check("other.example.com", 8080, policy, resolver)
    assert str(caught.value) == "other.example.com:8080: host not in TARGET_HOST_ALLOWLIST"
    assert calls == []
