"""``spikebridge run`` draws its summary figure in a second process started with the command, and falls back to
drawing it itself when that process cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikebridge
from spikebridge.rundir import write
from spikebridge.workflows import figure_process
from spikebridge.workflows.figure_process import FigureProcess

from .conftest import TINY_RUN


def test_the_process_draws_a_run_directorys_summary_and_a_failed_request_ends_it(tiny_run: Path, tmp_path: Path) -> None:
    results = spikebridge.load(tiny_run)
    folder = tmp_path / "being-written"
    folder.mkdir()
    with FigureProcess() as side:
        proc = side._proc
        assert proc is not None and os.getpgid(proc.pid) != os.getpgid(0)  # Ctrl-C at the terminal is ours to handle
        assert side.start(tmp_path / "gone", results.meta)  # a folder removed meanwhile: reported, not made again
        assert side.wait() is None
        assert proc.returncode is not None and not side.start(folder, results.meta)
    assert not (tmp_path / "gone").exists()
    for name in ("model.toml", "recordings.nwb"):
        (folder / name).write_bytes((tiny_run / name).read_bytes())
    with FigureProcess() as side:
        proc = side._proc
        assert proc is not None and side.start(folder, results.meta)
        seconds = side.wait()
        assert seconds is not None and seconds > 0
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


def _impostor(side: FigureProcess, code: str) -> subprocess.Popen[str]:
    """Put a process running ``code`` in place of the side process."""
    side.stop()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    side._proc = proc
    return proc


@pytest.mark.parametrize(
    "code",
    [
        "import sys, time; sys.stdin.readline(); time.sleep(60)",  # hangs
        "import sys, time; sys.stdin.readline(); print(1, flush=True); time.sleep(60)",  # answers nonsense
        "import sys, time; sys.stdin.readline(); print('{' + chr(34) + 'figure_s', flush=True); time.sleep(60)",  # half an answer
    ],
    ids=["hung", "nonsense", "garbled"],
)
def test_no_answer_in_time_or_a_wrong_one_ends_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setattr(figure_process, "PATIENCE", 1.0)
    side = FigureProcess()
    proc = _impostor(side, code)
    assert side.start(tmp_path, {})
    assert side.wait() is None
    assert proc.returncode is not None  # ended before the caller draws the same files
    assert not side.start(tmp_path, {})  # and it is not asked again
    side.close()


def test_a_failed_write_stops_the_drawing_before_removing_its_folder(
    tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = spikebridge.load(tiny_run)
    seen: list[bool] = []

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    def early(tmp: Path) -> object:
        return lambda: seen.append(tmp.is_dir())

    monkeypatch.setattr(write, "write_connections", broken)
    target = tmp_path / "run"
    arrays = {"prj/a/pre": np.zeros(3, dtype=np.int64)}
    with pytest.raises(OSError, match="disk full"):
        write.write_run(target, results.model, results.block, arrays, {}, dict(results.meta), early=early)  # type: ignore[arg-type]
    assert seen == [True]  # stopped while its folder was still there
    assert list(tmp_path.iterdir()) == []
