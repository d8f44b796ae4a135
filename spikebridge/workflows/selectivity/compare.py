"""Two backends' trained networks side by side: each seed's last training run of one selectivity workflow judged
against the same seed's run of another, by ``spikebridge compare``'s measures and tests
(:func:`spikebridge.workflows.compare.workflow.judge`).

Both workflows must be made with ``--seeds`` (``DIR/seed_N``) from the same model, protocol and seeds, so that at
each seed the two backends trained the same drawn network on the same input spikes. The last training run holds the
last checkpoint's spikes and the trained weights: the comparison covers the rates, irregularity and correlations
of every population over the last training epochs, the final weights of every plastic projection, and the angle
between the two backends' weight changes over that run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import CorruptRunError, RunDirectoryError
from ...rundir import Results, load
from ...rundir.checkpoint import drawn_network_sha256
from ..compare.report import write_report
from ..compare.workflow import Comparison, judge
from .config import WorkflowError


def last_training_run(folder: Path) -> Results:
    """The last complete checkpoint under ``folder/train`` (the run after the last training epoch), loaded; a
    checkpoint still being written is passed over.

    Raises
    ------
    WorkflowError
        ``folder`` has no complete training run.
    CorruptRunError
        The last complete checkpoint's files do not match their checksums.
    """
    for path in sorted((folder / "train").glob("epoch_*"), reverse=True):
        try:
            return load(path)
        except CorruptRunError:
            raise
        except RunDirectoryError:  # not (yet) a complete run directory
            continue
    raise WorkflowError(f"{folder}: no complete training run under {folder / 'train'} (run the workflow first)")


def trained_runs(workflows: Path, seeds: Sequence[int]) -> dict[str, dict[int, Results]]:
    """``{backend: {seed: Results}}`` of the last training run of ``workflows/seed_N`` for each seed.

    Raises
    ------
    WorkflowError
        A seed's folder is missing or not trained, or the seeds were run on different backends.
    """
    runs: dict[int, Results] = {}
    for seed in seeds:
        folder = workflows / f"seed_{seed}"
        if not folder.is_dir():
            raise WorkflowError(f"{folder}: not found (expected a workflow made with --seeds including {seed})")
        runs[seed] = last_training_run(folder)
    names = {str(r.meta.get("backend")) for r in runs.values()}
    if len(names) != 1:
        raise WorkflowError(f"{workflows}: its seeds ran on different backends ({', '.join(sorted(names))})")
    return {names.pop(): runs}


def compare_workflows(reference: Path, other: Path, seeds: Sequence[int], out: Path) -> Comparison:
    """Judge ``other``'s trained networks against ``reference``'s at each seed, and write the report to ``out``
    (``report.md``, ``report.html``, the tables and figures of ``spikebridge compare``).

    Raises
    ------
    WorkflowError
        Either workflow lacks a seed, both ran on the same backend, or their models differ.
    """
    ref, oth = trained_runs(reference, seeds), trained_runs(other, seeds)
    if set(ref) == set(oth):
        raise WorkflowError(f"{reference} and {other} both ran on {next(iter(ref))}: nothing to compare")
    first_ref, first_oth = next(iter(ref.values())), next(iter(oth.values()))
    for seed in seeds:
        a, b = (drawn_network_sha256(r[seed].meta, r[seed].path) for r in (first_ref, first_oth))
        if a is None or b is None:
            missing = reference if a is None else other
            raise WorkflowError(f"seed {seed}: {missing}: the checkpoints its last training run went on from are gone")
        if a != b:
            raise WorkflowError(
                f"seed {seed}: {reference} and {other} trained different drawn networks (drawn network digests {a} "
                f"against {b}); expected the same model, protocol and seed"
            )
    cmp = judge(next(iter(first_ref.values())).model, {**ref, **oth}, out)
    write_report(cmp)
    return cmp
