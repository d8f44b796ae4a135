"""SIGKILL at random instants of `spikebridge run --overwrite`, and two writers racing for one --out.

Whatever instant the writer dies at, --out must hold either the old complete run or the new complete one:
load() accepts it (so every file matches the SHA-256 in its meta.json) and meta's seed says which.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import spikebridge
from spikebridge.analysis.activity import firing_stats

from .conftest import ENV, OLD_SEED, cli_run, copy_run

NEW_SEED = 2
KILLS = 20


def _own_partial(target: Path, pid: int) -> bool:
    return any(p.name.startswith(f".{target.name}.partial-{pid}-") for p in target.parent.iterdir())


def _which(target: Path, old: spikebridge.Results) -> str:
    """``old`` or ``new``: the complete run at ``target``; fails on anything else (absent, partial, a mix)."""
    res = spikebridge.load(target)
    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert files == set(res.meta["sha256"]) | {"meta.json"}, files
    if res.meta["seed"] == OLD_SEED:
        assert res.meta == old.meta
        return "old"
    assert res.meta["seed"] == NEW_SEED and res.meta["created"] != old.meta["created"]
    return "new"


@dataclass
class Victim:
    """One writer to be killed: after ``delay`` seconds, counted from its start or from its partial's appearance."""

    target: Path
    proc: subprocess.Popen[bytes]
    delay: float
    after_partial: bool
    started: float
    deadline: float | None = None


def _start(target: Path, old: spikebridge.Results, delay: float, after_partial: bool) -> Victim:
    copy_run(old.path, target)
    proc = subprocess.Popen(cli_run(target, "--overwrite", seed=NEW_SEED), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    now = time.monotonic()
    return Victim(target, proc, delay, after_partial, now, None if after_partial else now + delay)


def _kill_all(victims: list[Victim]) -> list[int]:
    while any(v.proc.poll() is None for v in victims):
        now = time.monotonic()
        for v in victims:
            if v.proc.poll() is not None:
                continue
            if v.deadline is None and _own_partial(v.target, v.proc.pid):
                v.deadline = now + v.delay
            if v.deadline is not None and now >= v.deadline:
                v.proc.kill()
        time.sleep(0.002)
    return [v.proc.wait() for v in victims]


@pytest.mark.slow
def test_sigkill_at_random_instants_leaves_the_old_or_the_new_run(tmp_path: Path, old_run: spikebridge.Results) -> None:
    slots = [tmp_path / f"slot{i}" / "X" for i in range(2)]
    for slot in slots:
        slot.parent.mkdir()
    # Once, undisturbed: how long the writer lives, and when its partial directory appears (the write phase).
    copy_run(old_run.path, slots[0])
    started = time.monotonic()
    proc = subprocess.Popen(cli_run(slots[0], "--overwrite", seed=NEW_SEED), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    partial_at = partial_gone = None
    while proc.poll() is None:
        present = _own_partial(slots[0], proc.pid)
        if partial_at is None and present:
            partial_at = time.monotonic() - started
        if partial_at is not None and partial_gone is None and not present:
            partial_gone = time.monotonic() - started
        time.sleep(0.002)
    lifetime = time.monotonic() - started
    assert proc.returncode == 0 and partial_at is not None and partial_gone is not None and _which(slots[0], old_run) == "new"

    rng = random.Random(20261202)
    outcomes: dict[str, int] = {"old": 0, "new": 0}
    kills = 0
    for _ in range(KILLS):
        if kills >= KILLS:
            break
        # slot 0: anywhere in the whole lifetime; slot 1: while its partial directory exists (write, swap, clean-up)
        victims = [
            _start(slots[0], old_run, rng.uniform(0, lifetime), after_partial=False),
            _start(slots[1], old_run, rng.uniform(0, 1.5 * (partial_gone - partial_at)), after_partial=True),
        ]
        codes = _kill_all(victims)
        kills += sum(code == -9 for code in codes)
        for v in victims:
            outcomes[_which(v.target, old_run)] += 1
    assert kills >= KILLS, (kills, outcomes)
    assert outcomes["old"] > 0

    # The next writer of each slot cleans up every partial the killed ones left, and leaves no lock file.
    procs = [
        subprocess.Popen(cli_run(slot, "--overwrite", seed=NEW_SEED), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        for slot in slots
    ]
    for slot, p in zip(slots, procs):
        _, err = p.communicate()
        assert p.returncode == 0, err.decode()[-2000:]
        assert _which(slot, old_run) == "new"
        assert sorted(q.name for q in slot.parent.iterdir()) == ["X"]
    print(f"lifetime {lifetime:.2f} s, partial from {partial_at:.2f} s to {partial_gone:.2f} s, {kills} kills, outcomes {outcomes}")


@pytest.mark.slow  # the first writer simulates 30 s of network time
def test_two_concurrent_writers_exactly_one_succeeds(tmp_path: Path, old_run: spikebridge.Results) -> None:
    out = copy_run(old_run.path, tmp_path / "X")
    seeds = (3, 4)
    lock = out.with_name(f".{out.name}.lock")

    def start(seed: int, duration: float) -> subprocess.Popen[str]:
        return subprocess.Popen(
            cli_run(out, "--overwrite", seed=seed, duration=duration), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
        )

    # The first simulates 30 s of network time (several seconds here) while holding the lock; the second starts once
    # the lock is taken, so the two meet there however slowly either imports on a busy machine.
    first = start(seeds[0], 30000)
    deadline = time.monotonic() + 120
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock.exists(), "the first writer never took the lock"
    second = start(seeds[1], 50)
    second_result = second.communicate()
    assert first.poll() is None, "the first writer finished before the second reached the lock: the test proves nothing"
    first_out, first_err = first.communicate()
    done = [(first.returncode, first_out, first_err), (second.returncode, *second_result)]
    assert [code for code, _, _ in done] == [0, 2], done
    winner = next(i for i, (code, _, _) in enumerate(done) if code == 0)
    _, loser_out, loser_err = done[1 - winner]
    errors = [line for line in loser_err.splitlines() if line.startswith("spikebridge:")]
    assert len(errors) == 1 and f"another spikebridge run is writing to {out}" in errors[0] and "Traceback" not in loser_err
    assert loser_out == ""
    res = spikebridge.load(out)
    assert res.meta["seed"] == seeds[winner]
    # what the winner printed is the run that is there
    assert firing_stats(res, res.phases[-1]).round(3).to_string() in done[winner][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X"]
