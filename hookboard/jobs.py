"""The RQ job path before the layout moved it to `hookboard.engine.jobs`.

RQ stores a job's function as a dotted string, so jobs queued (or scheduled as
retries) by the previous release still name `hookboard.jobs.deliver_runs`.
This alias lets them run after an upgrade. Remove it in the release after 0.2.
"""

from hookboard.engine.jobs import deliver_runs

__all__ = ["deliver_runs"]
