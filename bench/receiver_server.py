"""Run HTTP receivers (tests/support/receiver.py) in a process of their own.

Prints one JSON line ``{"urls": [...]}`` once listening, then serves until
stdin closes, SIGTERM/SIGINT, or ``--max-seconds`` passes (it always stops by
itself). On exit it prints ``{"requests": N}`` to stderr.

    python bench/receiver_server.py --count 1 --delay 0.05
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.receiver import Receiver  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    parser.add_argument("--count", type=int, default=1, help="receivers (ports) in this process")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before answering")
    parser.add_argument("--max-seconds", type=float, default=3600, help="safety stop")
    args = parser.parse_args()

    stop = threading.Event()

    def on_signal(*_):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    receivers = [
        Receiver(args.host, delay=args.delay, record=False).start() for _ in range(args.count)
    ]
    print(json.dumps({"urls": [rx.url for rx in receivers]}), flush=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait(args.max_seconds)
    total = sum(rx.request_count for rx in receivers)
    for rx in receivers:
        rx.stop()
    print(json.dumps({"requests": total}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
