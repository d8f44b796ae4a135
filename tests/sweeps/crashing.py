"""A trial task that kills its worker process with SIGSEGV for one seed (a simulator crash), else runs the trial."""

from __future__ import annotations

import os
import signal
from typing import Any

from spikebridge.workflows.sweeps.trial import TrialSpec, execute_trial

CRASH_SEED = 2


def segfault_on_seed_2(spec: TrialSpec) -> dict[str, Any]:
    if f"simulation.seed={CRASH_SEED}" in spec.overrides:
        os.kill(os.getpid(), signal.SIGSEGV)
    return execute_trial(spec)
