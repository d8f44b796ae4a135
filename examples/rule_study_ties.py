"""Why a rule study network answers at chance: do its output cells end alike, so that ties decide the answers?

Reads one task folder of ``spikebridge study rules`` (``OUT/runs/RULE/BACKEND/seedN``, run directory kept) and
prints, for the last test block: the output cells' mean rate for their own digit and for the others, the final
output weights (overall, and from the hidden cells their own digit drives most), how many test images end in a tie
at the top, and the accuracy with ties broken at random (the study counts a tie as wrong).

    python examples/rule_study_ties.py docs/validation/rule_study/study/runs/btsp_dendritic/nest/seed1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spikebridge.analysis import learning
from spikebridge.rundir import load
from spikebridge.stimuli import digits
from spikebridge.workflows.rule_study.measures import weight_snapshots
from spikebridge.workflows.rule_study.network import Protocol, TaskConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", type=Path, help="a task folder holding protocol.npz and run/")
    parser.add_argument("--top", type=int, default=8, help="hidden cells counted as a digit's most active")
    args = parser.parse_args()
    config = TaskConfig()
    prot = Protocol.read(args.task / "protocol.npz")
    res = load(args.task / "run")
    last = ~prot.is_train & (prot.chunk == prot.chunk.max())  # the task's passes, whatever the default
    onset, labels = prot.onset[last], prot.label[last]
    out, hid = ([np.asarray(st.magnitude) for st in res.spiketrains(pop)] for pop in ("output", "hidden"))
    counts = learning.spike_counts(out, onset, onset + config.t_test)
    hidden = learning.spike_counts(hid, onset, onset + config.t_test) * 1000.0 / config.t_test
    classes = range(digits.N_CLASSES)
    rate = np.array([counts[labels == c].mean(0) for c in classes]).T * 1000.0 / config.t_test  # [output, digit]
    drive = np.array([hidden[labels == c].mean(0) for c in classes])  # [digit, hidden]
    w = weight_snapshots(res, "ff_output", (digits.N_CLASSES, drive.shape[1]))[1][-1]
    own = ~np.eye(digits.N_CLASSES, dtype=bool)
    top = [np.argsort(drive[c])[-args.top :] for c in classes]
    best = counts.max(1)
    tied = (counts == best[:, None]).sum(1)
    right = counts[np.arange(len(labels)), labels] == best
    print(f"outputs' rate: own digit {rate.diagonal().mean():.1f} Hz, other digits {rate[own].mean():.1f} Hz")
    print(
        f"final output weights: mean {w.mean():.3f} (s.d. {w.std():.3f}); from the own digit's {args.top} most active hidden "
        f"cells {np.mean([w[c, top[c]].mean() for c in classes]):.3f}, from the others "
        f"{np.mean([np.delete(w[c], top[c]).mean() for c in classes]):.3f}"
    )
    print(f"test images with a tie at the top: {np.mean(tied > 1):.0%}; the right output among the top: {right.mean():.0%}")
    print(f"accuracy, ties wrong: {learning.accuracy(counts, labels):.3f}; ties broken at random: {np.mean(right / tied):.3f}")


if __name__ == "__main__":
    main()
