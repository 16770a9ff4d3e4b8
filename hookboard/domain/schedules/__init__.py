"""Schedule specs and their firing times: pure time logic, no I/O.

This package face only re-exports; the code lives in ``spec`` (types, error, constants),
``validation``, ``zones``, ``cron``, ``intervals``, ``fires`` (next firing times) and
``description`` (human words).

Four kinds of schedule:

* ``cron``: a cron expression evaluated in the schedule's IANA time zone. Five fields
  (``minute hour day-of-month month day-of-week``), the macros ``@hourly @daily @weekly
  @monthly @yearly @annually @midnight``, and croniter's ``L`` (last day of month; ``L5`` =
  last Friday), ``W`` (nearest weekday, ``15W``) and ``#`` (``5#3`` = third Friday).
  An optional **6th field holds the seconds and comes last**: ``minute hour dom month dow
  second`` (croniter's default; ``* * * * * */10`` fires every 10 seconds). ``H``/``R``
  (hashed/random) values, ``@reboot`` and a 7th (year) field are rejected. An equal range
  such as ``5-5`` means just ``5`` (croniter alone would read it as the whole field).
* ``interval``: every N units. Seconds, minutes and hours are fixed durations from the start
  (``starts_at``, else ``anchor``), firing k at ``start + k*N`` with no drift. Days, weeks,
  months and years are calendar steps in the schedule's zone, each computed from the start
  (so the wall-clock time of day survives DST and Jan 31 + 1 month = Feb 28, + 2 = Mar 31).
* ``once``: fires at ``run_at``.
* ``window``: an interval that requires ``starts_at`` and ``ends_at``.

Any kind may carry ``starts_at``/``ends_at``: nothing fires before ``starts_at`` or after
``ends_at`` (both inclusive).

DST follows Debian's cron. A *wild* cron job (see :func:`is_wild_cron`) keeps its
pattern in real time: in a repeated (fall-back) hour it fires in both occurrences, in a
skipped (spring-forward) hour it does not fire. Every other job - fixed-time cron jobs and
calendar-step intervals - fires once per wall-clock time: a wall time skipped by
spring-forward fires at the jump (the first real instant after the gap; several skipped
times collapse into that one firing), and a repeated wall time fires at its first
occurrence only.
"""

from hookboard.domain.schedules.cron import is_wild_cron
from hookboard.domain.schedules.description import describe
from hookboard.domain.schedules.fires import next_fire_after, next_fires
from hookboard.domain.schedules.spec import ScheduleSpec, ScheduleSpecError
from hookboard.domain.schedules.validation import validate

__all__ = [
    "ScheduleSpec",
    "ScheduleSpecError",
    "describe",
    "is_wild_cron",
    "next_fire_after",
    "next_fires",
    "validate",
]
