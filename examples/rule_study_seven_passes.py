"""The whole rule study with two passes more (``epochs`` 7, the gate's schedule going on), stop 53's lever for LDS.

Runs every rule (backprop included) at seeds 1-5 on brian2:cpp and 1-2 on NEST, two at a time, into
``docs/validation/rule_study/study_e7`` (or the folder given). The folder resumes from the measures it holds, on any
machine, as ``spikebridge study rules`` does (a task's measures are keyed by its settings, not by the folder). About
8.5 hours two at a time on 2 cores; once complete, ``epochs`` 7 becomes ``TaskConfig``'s default, this folder
replaces ``docs/validation/rule_study/study``, and ``spikebridge study rules --report`` writes its tables, curves,
comparisons and figure.

    python examples/rule_study_seven_passes.py
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from spikebridge.workflows.rule_study import study
from spikebridge.workflows.rule_study.network import RULES, TaskConfig


def plan(out: Path) -> study.StudyPlan:
    """The study's plan (as its documented command) with seven passes."""
    return study.StudyPlan(
        rules=(study.REFERENCE, *RULES),
        seeds=(1, 2, 3, 4, 5),
        backends=("brian2:cpp", "nest"),
        config=replace(TaskConfig(), epochs=7),
        out=out,
        seed_limits={"nest": 2},
        workers=2,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/validation/rule_study/study_e7"))
    args = parser.parse_args()
    the_plan = plan(args.out)
    start = time.perf_counter()

    def show(task: Any, measures: dict[str, Any]) -> None:
        print(task, [round(a, 2) for a in measures["accuracy"]], f"{time.perf_counter() - start:.0f} s", flush=True)

    study.run_study(the_plan, show)


if __name__ == "__main__":
    main()
