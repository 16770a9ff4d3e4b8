"""The test harness itself: nothing resolves outside names, here or in children."""

import socket
import subprocess
import sys

import pytest

from tests.support.processes import PROJECT_ROOT, hookboard_env


def test_this_process_resolves_loopback_only():
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo("127.0.0.1", 80)
    with pytest.raises(socket.gaierror, match="outside names"):
        socket.getaddrinfo("example.com", 80)


def test_child_processes_resolve_loopback_only():
    code = "import socket; socket.getaddrinfo('example.com', 80)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=hookboard_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "outside names" in result.stderr
