"""How fast this machine runs Python, so figures from different VMs compare.

The 2-core VMs these benchmarks run on differ by 2x or more from one to the
next (and a shared one from minute to minute), which moves every CPU-bound
figure with them. bench/api.py prints this beside its figures.
"""

from __future__ import annotations

import time

LOOP = 2_000_000


def python_loop_ms(repeats: int = 3) -> float:
    """Best-of-`repeats` milliseconds of a plain 2,000,000-step Python loop
    on one core: lower is faster."""
    best = float("inf")
    for _ in range(repeats):
        began = time.process_time()
        total = 0
        for step in range(LOOP):
            total += step
        best = min(best, time.process_time() - began)
    return best * 1000
