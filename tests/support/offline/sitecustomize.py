"""Loaded by every Python process the tests start (PYTHONPATH): name resolution
answers only for loopback names and IP literals, so no test can send a DNS
query off this machine, whatever host name a test or a fuzzer makes up."""

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_real_getaddrinfo = socket.getaddrinfo


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _offline_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name.lower().rstrip(".") in LOOPBACK_NAMES or _is_ip_literal(name):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no outside names ({name!r})")


socket.getaddrinfo = _offline_getaddrinfo
