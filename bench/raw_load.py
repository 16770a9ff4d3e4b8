"""The raw ceiling: a bare loop of Hookboard's HTTP client against the receivers.

Same client as the worker (``hookboard.net.attempt.make_client`` + ``client.post``),
the same concurrency (``--in-flight`` coroutines over ``--clients`` pools of
``in_flight // clients`` connections each), no scheduling, no database.
Counts the requests *started* in [start_at, start_at + duration) that got a
2xx answer; earlier requests are the warm-up. Prints one JSON line.
Always stops by itself at start_at + duration (+ the client timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from hookboard.net.attempt import make_client  # noqa: E402

try:  # the worker's client only connects to addresses its SSRF guard pinned
    from hookboard.net.transport import pinned
except ImportError:  # older engine: no pinning transport
    from contextlib import nullcontext

    def pinned(host: str, address: str):
        return nullcontext()


HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "Hookboard-bench",
    "webhook-id": "run_0",
    "webhook-timestamp": "0",
    "webhook-signature": "v1," + "A" * 44,
}


async def run(args) -> dict:
    per_client = max(1, args.in_flight // args.clients)
    clients = [make_client(max_connections=per_client) for _ in range(args.clients)]
    stop_at = args.start_at + args.duration
    urls = args.urls
    host = "127.0.0.1"
    counts = {"ok": 0, "bad": 0, "errors": 0, "warmup": 0}

    async def loop(index: int) -> None:
        client = clients[index % len(clients)]
        n = index
        while True:
            started = time.time()
            if started >= stop_at:
                return
            url = f"{urls[n % len(urls)]}/hook/{n % 10000}"
            n += args.in_flight
            try:
                with pinned(host, host):  # what send_attempt does after its check
                    response = await client.post(url, content=b'{"schedule": 1}', headers=HEADERS)
                ok = 200 <= response.status_code < 300
            except Exception as error:
                counts["errors"] += 1
                counts.setdefault("first_error", repr(error))
                await asyncio.sleep(0.01)
                continue
            if started < args.start_at:
                counts["warmup"] += 1
            elif ok:
                counts["ok"] += 1
            else:
                counts["bad"] += 1

    await asyncio.gather(*(loop(i) for i in range(args.in_flight)))
    for client in clients:
        await client.aclose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--urls", nargs="+", required=True)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--start-at", type=float, required=True, help="epoch seconds")
    parser.add_argument("--duration", type=float, default=12)
    args = parser.parse_args()
    for url in args.urls:
        if not url.startswith(("http://127.0.0.1:", "http://[::1]:")):
            raise SystemExit(f"loopback receivers only, not {url}")
    for url in args.urls:
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit("receivers on 127.0.0.1 only")
    counts = asyncio.run(run(args))
    print(json.dumps({**counts, "duration": args.duration}), flush=True)


if __name__ == "__main__":
    main()
