"""Do the weights of cells that fired split towards the bounds, and the silent ones dilute them?

Reads a selectivity workflow directory (``spikebridge selectivity ... --out DIR``), sums each cell's spikes over all
its training runs, and prints, for every plastic projection of the last checkpoint: the share of synapses whose
post-synaptic cell (and pre-synaptic cell, where its spikes are recorded; the input layer's are not) fired at least
``--min-spikes`` spikes during training, and the fraction of weights within 10 % of a bound and Sarle's b, for
those synapses and for the rest (:func:`spikebridge.analysis.weights.bimodality_by_activity`).

    python examples/binding_active_pairs.py runs/binding/seed_20
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from spikebridge.analysis.weights import bimodality_by_activity, population_sizes, projection_infos
from spikebridge.plotting.run_weights import plastic_projections
from spikebridge.rundir import load
from spikebridge.workflows.selectivity.compare import last_training_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", type=Path, help="a selectivity workflow directory (train/epoch_*)")
    parser.add_argument("--min-spikes", type=int, default=5, help="fewest spikes over the training for a cell to count as active")
    args = parser.parse_args()
    last = last_training_run(args.workflow)
    done = [p for p in sorted((args.workflow / "train").glob("epoch_*")) if p <= last.path]
    runs = [last if p == last.path else load(p) for p in done]
    sizes = population_sizes(last)
    counts: dict[str, np.ndarray] = {}
    for run in runs:
        for pop, size in sizes.items():
            if len(run.recorded_cells(pop)) == size:  # every cell recorded (spike sources are not)
                counts[pop] = counts.get(pop, 0) + run.counts(pop)
    infos = projection_infos(last)
    rows = []
    for name in plastic_projections(last):
        info, conn = infos[name], last.connections(name)
        split = bimodality_by_activity(
            conn.weight, conn.pre, conn.post, counts[info.post], counts.get(info.pre), args.min_spikes, info.w_min or 0.0, info.w_max
        )
        rows.append(
            {
                "projection": name,
                "active synapses": split["active_fraction"],
                "near a bound, active": split["active"]["frac_bounds"],
                "near a bound, silent": split["silent"]["frac_bounds"],
                "b, active": split["active"]["coef"],
                "b, silent": split["silent"]["coef"],
            }
        )
    print(f"{args.workflow}: {len(runs)} training runs, cells active with >= {args.min_spikes} spikes")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
