"""CPU time of this process, in user space and in the kernel, at microsecond resolution.

``os.times`` counts in clock ticks (10 ms here), so a phase shorter than a tick reads as 0 s; ``getrusage`` reads the
same counters in microseconds.
"""

from __future__ import annotations

import resource


def cpu_now() -> tuple[float, float]:
    """This process's CPU seconds so far, all of its threads together: (user, system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def cpu_since(start: tuple[float, float]) -> dict[str, float]:
    """The CPU seconds spent since ``start`` (a :func:`cpu_now`), as ``{"user": ..., "system": ...}``."""
    user, system = cpu_now()
    return {"user": user - start[0], "system": system - start[1]}
