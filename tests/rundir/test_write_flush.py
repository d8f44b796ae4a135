"""The run directory's files reach the disk before meta.json is written, and that flush is timed as writing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import spikebridge
from spikebridge.models import load_model
from spikebridge.rundir import write
from spikebridge.rundir.layout import META, NETWORK

PAUSE = 0.3


def test_data_is_flushed_before_meta_and_the_flush_counts_as_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[set[str]] = []
    sync = write._sync_tree

    def slow_sync(root: Path) -> None:
        flushed.append({p.name for p in root.iterdir()})
        time.sleep(PAUSE)  # a disk that takes its time
        sync(root)

    monkeypatch.setattr(write, "_sync_tree", slow_sync)
    model = load_model("ei_weight_matrix", ["simulation.duration=20"])
    run = spikebridge.run(model, "nest", tmp_path / "run", progress=False, figure=False)
    assert len(flushed) == 1 and NETWORK in flushed[0] and META not in flushed[0]
    assert run.meta["timings"]["write_s"] >= PAUSE
    assert spikebridge.load(run.path).meta["complete"] is True
