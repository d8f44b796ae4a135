"""``spikebridge run`` draws its summary figure in a second process started with the command, and falls back to
drawing it itself when that process cannot."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import spikebridge
from spikebridge.workflows.figure_process import FigureProcess

from .conftest import TINY_RUN


def _ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(ignored & (1 << (signal.SIGINT - 1)))


def test_the_process_draws_a_run_directorys_summary_and_survives_a_failed_request(tiny_run: Path, tmp_path: Path) -> None:
    results = spikebridge.load(tiny_run)
    folder = tmp_path / "being-written"
    folder.mkdir()
    with FigureProcess() as side:
        assert side._proc is not None and _ignores_sigint(side._proc.pid)  # Ctrl-C is the parent's to handle
        assert side.start(folder, results.meta)  # no model.toml there yet: the process reports, the caller draws
        assert side.wait() is None
        for name in ("model.toml", "recordings.nwb"):
            (folder / name).write_bytes((tiny_run / name).read_bytes())
        assert side.start(folder, results.meta)
        seconds = side.wait()
        assert seconds is not None and seconds > 0
        proc = side._proc
    assert proc.returncode == 0  # ended by the end of its input
    assert (folder / "figures" / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "figures" / "summary.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_dead_process_leaves_the_figure_to_the_caller(tiny_run: Path) -> None:
    side = FigureProcess()
    assert side._proc is not None
    side._proc.kill()
    side._proc.wait()
    assert not side.start(tiny_run, spikebridge.load(tiny_run).meta)
    assert side.wait() is None
    side.close()


CHILD = """
import json, shutil, sys
from spikebridge.cli.app import script
if sys.argv[2] == "broken":
    sys.executable = shutil.which("false")  # the side process starts and ends at once
sys.argv = ["spikebridge", *json.loads(sys.argv[1])]
code = script()
print(json.dumps({"code": code, "drew": "spikebridge.plotting.summary" in sys.modules}))
"""


@pytest.mark.parametrize("broken", [False, True], ids=["side-process", "fallback"])
def test_the_program_draws_its_figure_in_the_side_process_or_itself(tmp_path: Path, broken: bool) -> None:
    out = tmp_path / "run"
    argv = [a for a in TINY_RUN if a != "--no-figure"] + ["--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(argv), "broken" if broken else "working"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["drew"] is broken  # drawn by the side process: this one never imported the summary plot
    assert {p.name for p in (out / "figures").iterdir()} == {"summary.png", "summary.pdf"}
    assert spikebridge.load(out).meta["timings"]["figure_s"] >= 0
