"""A rule study across simulators: each rule's runs on two or more backends at equal seeds, judged as
``spikebridge compare`` judges runs (:func:`spikebridge.workflows.compare.workflow.judge`), and the final test
answers set side by side.

A seed is one drawn network (weights, input spikes, order of the images) that every backend simulates, so the
per-cell spike counts of two backends at one seed should agree better than two seeds of the reference do (compare's
exact mode), and the weight changes should point the same way. At one seed both backends answer the same test images:
McNemar's exact test (a binomial test of the images only one of them got right) asks whether their final accuracies
differ.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats

from ...atomic import atomic_file
from ...rundir import Results, load
from ..compare.report import write_report
from ..compare.workflow import Comparison, judge
from . import study
from .measures import correct_answers
from .network import Protocol

KEPT = "rows.json"
"""Where a rule's judged rows are kept, beside its report (``OUT/compare/RULE/rows.json``)."""

COLUMNS = (
    "rule",
    "reference",
    "other",
    "seeds",
    "too_few_seeds",
    "compare_verdict",
    "accuracy_reference",
    "accuracy_other",
    "accuracy_max_abs_diff",
    "discordant",
    "accuracy_min_p",
    "accuracy_verdict",
    "verdict",
    "report",
)
"""The columns of :func:`compare_backends`' table, followed by one ``angle_PROJECTION_deg`` per plastic projection."""


def shared_seeds(plan: study.StudyPlan, rule: str) -> list[int]:
    """The seeds (each once) at which every backend of the plan has measured ``rule``."""
    backends = list(dict.fromkeys(plan.backends))
    return [s for s in dict.fromkeys(plan.seeds) if all(study._done(plan, study.Task(rule, s, b)) is not None for b in backends)]


def _runs(plan: study.StudyPlan, rule: str, seeds: list[int]) -> dict[str, dict[int, Results]]:
    return {b: {s: load(study.task_folder(plan, study.Task(rule, s, b)) / "run") for s in seeds} for b in dict.fromkeys(plan.backends)}


def compare_rule(plan: study.StudyPlan, rule: str, runs: dict[str, dict[int, Results]]) -> Comparison:
    """The judged comparison of one rule's runs (the first backend is the reference), its report written to
    ``OUT/compare/RULE``."""
    reference = next(iter(runs))
    first = next(iter(runs[reference].values()))
    cmp = judge(first.model, runs, plan.out / "compare" / rule)
    write_report(cmp)
    return cmp


def mcnemar(right_a: np.ndarray, right_b: np.ndarray) -> tuple[int, float]:
    """McNemar's exact test of two sets of answers to the same questions: the number of questions only one got right,
    and the two-sided p of a binomial test of who got them (1 where there are none)."""
    only_a = int(np.sum(right_a & ~right_b))
    only_b = int(np.sum(~right_a & right_b))
    if only_a + only_b == 0:
        return 0, 1.0
    return only_a + only_b, float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def compare_backends(plan: study.StudyPlan, alpha: float = 0.05) -> pd.DataFrame:
    """One row per spiking rule and non-reference backend with two or more shared seeds.

    Gives compare's verdict (and whether the seeds are too few for its permutation tests to fail, so that a pass rests
    on its exact mode), the final accuracies (mean over seeds), their largest difference, the images only one backend
    answered right (summed over seeds), the smallest McNemar p and the accuracy verdict (``fail`` where a seed's p is
    below ``alpha`` / seeds), the overall verdict (``fail`` when either fails, ``pass`` when both pass, else
    ``inconclusive``), the report's path, and the angle between the two backends' final weight changes (mean over
    seeds) per plastic projection.

    A rule judged on two or more seeds whose run directories are here is judged again and its rows kept in
    ``OUT/compare/RULE/rows.json`` with the digests of the tasks they judged; where fewer run directories are here
    (a study carried to another machine with its measures only), the kept rows stand in while those digests are the
    plan's."""
    rows: list[dict[str, object]] = []
    names = list(dict.fromkeys(plan.backends))
    for rule in dict.fromkeys(plan.rules) if len(names) > 1 else ():
        if rule == study.REFERENCE:
            continue
        seeds = [s for s in shared_seeds(plan, rule) if all(_has_run(plan, study.Task(rule, s, b)) for b in names)]
        if len(seeds) >= 2:
            judged = _judge_rule(plan, rule, seeds, alpha)
            kept = {"digests": _digests(plan, rule, seeds), "rows": judged}
            with atomic_file(plan.out / "compare" / rule / KEPT) as fh:
                fh.write(json.dumps(kept, indent=1).encode())
            rows.extend(judged)
        else:
            rows.extend(kept_rows(plan, rule))
    return pd.DataFrame(rows, columns=None if rows else list(COLUMNS))


def _has_run(plan: study.StudyPlan, task: study.Task) -> bool:
    folder = study.task_folder(plan, task)
    return (folder / "run" / "meta.json").is_file() and (folder / "protocol.npz").is_file()


def _digests(plan: study.StudyPlan, rule: str, seeds: list[int]) -> dict[str, dict[str, str]]:
    return {b: {str(s): plan.digest(study.Task(rule, s, b)) for s in seeds} for b in dict.fromkeys(plan.backends)}


def kept_rows(plan: study.StudyPlan, rule: str) -> list[dict[str, object]]:
    """The rows kept in ``OUT/compare/RULE/rows.json`` when a judgement of ``rule`` was last written, if the tasks they
    judged are still the plan's (the same digests, every backend of the plan); else none."""
    path = plan.out / "compare" / rule / KEPT
    try:
        kept = json.loads(path.read_text())
        digests: dict[str, dict[str, str]] = kept["digests"]
        judged: list[dict[str, object]] = kept["rows"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    backends = list(dict.fromkeys(plan.backends))
    if list(digests) != backends:
        return []
    seeds = [int(s) for s in digests[backends[0]]]
    return judged if digests == _digests(plan, rule, seeds) else []


def _judge_rule(plan: study.StudyPlan, rule: str, seeds: list[int], alpha: float) -> list[dict[str, object]]:
    names = list(dict.fromkeys(plan.backends))
    runs = _runs(plan, rule, seeds)
    cmp = compare_rule(plan, rule, runs)
    right = {}
    for b in names:
        for s in seeds:
            prot = Protocol.read(study.task_folder(plan, study.Task(rule, s, b)) / "protocol.npz")
            right[(b, s)] = correct_answers(runs[b][s], prot, plan.config)
    reference = names[0]
    rows: list[dict[str, object]] = []
    for other in names[1:]:
        tests = [mcnemar(right[(reference, s)], right[(other, s)]) for s in seeds]
        p = min(t[1] for t in tests)
        accuracy_verdict = "fail" if p < alpha / len(seeds) else "pass"
        verdicts = {cmp.verdict, accuracy_verdict}
        acc = {b: np.array([right[(b, s)].mean() for s in seeds]) for b in (reference, other)}
        row: dict[str, object] = {
            "rule": rule,
            "reference": reference,
            "other": other,
            "seeds": len(seeds),
            "too_few_seeds": bool(cmp.too_few_seeds),
            "compare_verdict": cmp.verdict,
            "accuracy_reference": float(acc[reference].mean()),
            "accuracy_other": float(acc[other].mean()),
            "accuracy_max_abs_diff": float(np.abs(acc[reference] - acc[other]).max()),
            "discordant": sum(t[0] for t in tests),
            "accuracy_min_p": p,
            "accuracy_verdict": accuracy_verdict,
            "verdict": "fail" if "fail" in verdicts else "pass" if verdicts == {"pass"} else "inconclusive",
            "report": f"compare/{rule}/report.md",
        }
        if not cmp.angles.empty:
            angles = cmp.angles[cmp.angles["other"] == other]
            for projection, by_projection in angles.groupby("projection"):
                last = by_projection[by_projection["t_ms"] == by_projection["t_ms"].max()]
                row[f"angle_{projection}_deg"] = float(last["angle_deg"].mean())
        rows.append(row)
    return rows
