"""Synapse by synapse: how alike are two backends' trained weights at equal seeds?

Reads two selectivity workflow directories made with ``--seeds`` from the same model, protocol and seeds on two
backends (``spikebridge selectivity ... --seeds 20,21 --out DIR``). For each seed and plastic projection it prints
the Pearson r of the two backends' final weights, the r of their changes from the drawn weights (the network both
started from), and each backend's r.m.s. change. ``spikebridge selectivity ... --compare-with`` judges the same
networks by distributions and spike counts; this reads the weights one synapse at a time.

    python examples/binding_weights_across_backends.py runs/binding_cpp runs/binding_nest --seeds 20,21
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from spikebridge.plotting.run_weights import plastic_projections
from spikebridge.rundir import load
from spikebridge.rundir.checkpoint import drawn_network_sha256
from spikebridge.workflows.selectivity.compare import last_training_run


def compare_seed(a: Path, b: Path) -> pd.DataFrame:
    """One row per plastic projection: the two workflows' (one seed's folders) final weights and weight changes."""
    first = load(min((a / "train").glob("epoch_*")))
    last_a, last_b = last_training_run(a), last_training_run(b)
    drawn = {drawn_network_sha256(r.meta, r.path) for r in (first, last_a, last_b)}
    if len(drawn) != 1:
        raise SystemExit(f"{a} and {b} did not train the same drawn network")
    rows = []
    for name in plastic_projections(last_a):
        w0 = first.network[f"prj/{name}/weight"]
        wa, wb = last_a.connections(name).weight, last_b.connections(name).weight
        da, db = wa - w0, wb - w0
        rows.append(
            {
                "projection": name,
                "synapses": len(w0),
                "r_weight": np.corrcoef(wa, wb)[0, 1],
                "r_change": np.corrcoef(da, db)[0, 1],
                f"rms_change_{last_a.meta['backend']}": np.sqrt(np.mean(da**2)),
                f"rms_change_{last_b.meta['backend']}": np.sqrt(np.mean(db**2)),
            }
        )
    return pd.DataFrame(rows).set_index("projection")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="a workflow directory made with --seeds (DIR/seed_N)")
    parser.add_argument("other", type=Path, help="the same workflow on another backend")
    parser.add_argument("--seeds", required=True, help="comma-separated seeds, e.g. 20,21")
    args = parser.parse_args()
    with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 200, "display.max_columns", None):
        for seed in (int(s) for s in args.seeds.split(",")):
            print(f"seed {seed}")
            print(compare_seed(args.reference / f"seed_{seed}", args.other / f"seed_{seed}"))


if __name__ == "__main__":
    main()
