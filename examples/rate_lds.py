"""LDS in the rule study's rate reference: which learning rates, and does a silent cell's error matter?

The rate network of :mod:`spikebridge.analysis.backprop` (the spiking network's shape, Dale's law), trained as the
spiking LDS network learns: the squared error to the one-hot target (the nudge), no rectifier derivative
(``derivative=False``: every cell gets its error, silent or not), the current output weights as feedback, and the
study's schedule (the gate's ``0.7 ** pass``), on the same images in the same order, 5 passes over 1000 images.
Prints the final test accuracy per seed for each pair of learning rates (output, hidden), with and without the
derivative (EIANN's ``relu_gate``).

    python examples/rate_lds.py                  # the table of docs/learning_rules.md, about 20 s
    python examples/rate_lds.py --seeds 1,2 --rates 0.003:0.003,0.1:0.003
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from spikebridge.analysis import backprop
from spikebridge.models import random as model_random
from spikebridge.stimuli import digits


def final_accuracy(seed: int, output_rate: float, hidden_rate: float, derivative: bool, passes: int, decay: float) -> float:
    data = digits.load(1000, 100, seed)
    net = backprop.dale_network(digits.N_PIXELS, 64, 16, digits.N_CLASSES, 4, seed)
    rng = model_random.stream(seed, "rule_study", "order")
    order = np.concatenate([rng.permutation(1000) for _ in range(passes)])
    scale = np.repeat(decay ** np.arange(passes), 1000)
    history = backprop.train(
        net, data.train_x, data.train_y, data.test_x, data.test_y, order, output_rate, len(order),
        hidden_learning_rate=hidden_rate, derivative=derivative, step_scale=scale,
    )  # fmt: skip
    return history.accuracy[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    rates = "0.003:0.003,0.01:0.003,0.03:0.003,0.1:0.003,0.1:0.01,0.03:0.03"
    parser.add_argument("--rates", default=rates, help="learning rates OUTPUT:HIDDEN,...")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--decay", type=float, default=0.7)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for pair in args.rates.split(","):
        output_rate, hidden_rate = (float(x) for x in pair.split(":"))
        for derivative in (False, True):
            acc = [final_accuracy(s, output_rate, hidden_rate, derivative, args.passes, args.decay) for s in seeds]
            per_seed = {f"seed {s}": a for s, a in zip(seeds, acc)}
            rows.append({"output": output_rate, "hidden": hidden_rate, "derivative": derivative, **per_seed, "mean": np.mean(acc)})
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
