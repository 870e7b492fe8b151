"""How often one user may have links checked: a token bucket per user, in this process's memory.

Why a limit: every check may send requests to up to ten wikis on the reporter's behalf; without
a limit one account could keep the web threads and the process's outbound slots busy.

Why in memory, per process, and not in the database like the daily report limit: a check stores
nothing, and a row per check would leave in the database a trace of when someone was preparing
a report (and a write per pause in typing, which the form's script checks on). The limit guards
the tool's resources; it need not be exact. So each process (gunicorn worker, replica) keeps its
own buckets, and a user may get the allowance once per process: with Toolforge's 2 workers, up to
twice ``rate_limit.evidence_checks_per_hour``. Buckets are forgotten on restart, and only the
most recently seen :data:`MAX_USERS` users are remembered (a forgotten user starts full again).
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from reporting.config import Setting, parse_positive_int, register_settings

__all__ = ["BURST", "MAX_USERS", "CheckThrottle"]

register_settings(
    Setting("rate_limit.evidence_checks_per_hour", parse_positive_int, 120,
            "Link checks (the form's \"Check the links\", `/api/v1/evidence/parse` and `/resolve`) one user may run "
            "per hour and per web process, after a first burst of 20; counted in memory, not stored."),
)

#: Checks a user may run at once before the hourly rate applies (typing pauses come in bursts).
BURST = 20
#: Users whose buckets are remembered at most.
MAX_USERS = 10_000


class CheckThrottle:
    """A token bucket per user name: ``BURST`` tokens, refilled at ``per_hour`` an hour."""

    def __init__(self, per_hour: int, *, burst: int = BURST, clock: Callable[[], float] = time.monotonic,
                 max_users: int = MAX_USERS) -> None:
        self.rate = per_hour / 3600.0
        self.burst = float(min(burst, per_hour))
        self._clock = clock
        self._max_users = max_users
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # user -> (tokens, when)
        self._lock = threading.Lock()

    def hit(self, user: str) -> int | None:
        """Take a token for ``user``: None when there was one, else the whole seconds until
        there is (nothing is taken then)."""
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.pop(user, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            wait = None if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[user] = (tokens - 1 if wait is None else tokens, now)
            while len(self._buckets) > self._max_users:
                self._buckets.popitem(last=False)
            return wait
