"""What --overwrite may replace, the writer's lock, dead writers' leftovers, and checksums verified on load."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import spikebridge
from spikebridge.cli import main
from spikebridge.errors import RunDirectoryError
from spikebridge.models import load_model
from spikebridge.models.io import find_model_file
from spikebridge.rundir import guard, swap
from spikebridge.rundir.checksums import sha256_file
from spikebridge.rundir.guard import claim
from spikebridge.rundir.outputs import register
from spikebridge.workflows.run import default_out

from .conftest import CLI, ENV, OLD_SEED, cli_run, copy_run, snapshot

# so long that a refusal after simulating would take many minutes
FOREVER = ["--set", "simulation.duration=1000000"]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("spikebridge:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI in this process; it must exit 2, quickly (before simulating), with one line on stderr."""
    capsys.readouterr()
    started = time.perf_counter()
    assert main(list(argv)) == 2
    assert time.perf_counter() - started < 30
    out, err = capsys.readouterr()
    assert out == ""
    return _error_line(err)


def test_overwrite_leaves_a_users_folder_and_file_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "thesis.txt").write_text("five years of work\n")
    (thesis / "figures").mkdir()
    (thesis / "figures" / "fig1.png").write_bytes(b"\x89PNG...")
    before = snapshot(thesis)
    started = time.perf_counter()
    proc = subprocess.run([*cli_run(thesis, "--overwrite"), *FOREVER], capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 2 and time.perf_counter() - started < 60, proc.stderr
    line = _error_line(proc.stderr)
    assert str(thesis) in line and "thesis.txt" in line and "not a spikebridge run directory" in line
    assert proc.stdout == "" and snapshot(thesis) == before

    regular = tmp_path / "notes.txt"
    regular.write_text("not a run\n")
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", str(regular), "--overwrite", "--quiet")
    assert "regular file" in line and str(regular) in line
    assert regular.read_text() == "not a run\n"


def test_overwrite_refuses_a_run_directory_holding_a_users_file(
    tmp_path: Path, old_run: spikebridge.Results, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_run(old_run.path, tmp_path / "run")
    (run / "thesis.txt").write_text("kept here by mistake\n")
    before = snapshot(run)
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", str(run), "--overwrite", "--quiet")
    assert "thesis.txt" in line and "not part of a spikebridge run directory" in line
    assert snapshot(run) == before


def test_overwrite_refuses_the_model_folder_and_the_working_directory(
    tmp_path: Path, old_run: spikebridge.Results, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    model_file = models / "mine.toml"
    shutil.copy(find_model_file("ei_weight_matrix"), model_file)
    before = snapshot(tmp_path)
    line = _refused(capsys, "run", str(model_file), *FOREVER, "--out", str(models), "--overwrite", "--quiet")
    assert "model file's folder" in line and str(models) in line
    # the working directory is refused even where it is a run directory: the shell would be left in a deleted folder
    here = copy_run(old_run.path, tmp_path / "here")
    before = snapshot(tmp_path)
    monkeypatch.chdir(here)
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", ".", "--overwrite", "--quiet")
    assert "is the current working directory" in line
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", "..", "--overwrite", "--quiet")
    assert "contains the current working directory" in line
    assert snapshot(tmp_path) == before


def test_existing_run_is_kept_without_overwrite_and_unwritable_places_are_refused(
    tmp_path: Path, old_run: spikebridge.Results, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_run(old_run.path, tmp_path / "run")
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", str(run), "--quiet")
    assert "already exists" in line
    (tmp_path / "file").write_text("x")
    line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", str(tmp_path / "file" / "run"), "--quiet")
    assert "is not a folder" in line
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "readonly"
        locked.mkdir(mode=0o500)
        line = _refused(capsys, "run", "ei_weight_matrix", *FOREVER, "--out", str(locked / "run"), "--quiet")
        assert "cannot write in" in line


def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    target = tmp_path / "X"
    with claim(target, overwrite=False):
        assert (tmp_path / ".X.lock").read_text().strip() == str(os.getpid())
        with pytest.raises(RunDirectoryError, match=f"another spikebridge run is writing to {target}"):
            with claim(target, overwrite=False):
                pass
        other = subprocess.run(
            [sys.executable, "-c", f"from spikebridge.rundir.guard import claim\nwith claim({str(target)!r}, overwrite=True): pass"],
            capture_output=True,
            text=True,
        )
        assert (
            other.returncode != 0
            and f"RunDirectoryError: another spikebridge run is writing to {target} (process {os.getpid()})" in other.stderr
        )
    assert not (tmp_path / ".X.lock").exists()
    with claim(target, overwrite=False):
        pass


def test_stale_partials_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path, old_run: spikebridge.Results) -> None:
    dead = _dead_pid()
    stale = copy_run(old_run.path, tmp_path / f".X.partial-{dead}-0badcafe")
    live = tmp_path / f".X.partial-{os.getpid()}-0badcafe"
    live.mkdir()
    (live / "model.toml").write_text("being written")
    foreign = tmp_path / f".Y.partial-{dead}-0badcafe"  # another target's
    foreign.mkdir()
    with claim(tmp_path / "X", overwrite=False):
        assert not stale.exists()
    assert live.exists() and (live / "model.toml").read_text() == "being written" and foreign.exists()


def test_replacement_without_rename_exchange_and_its_recovery(
    tmp_path: Path, old_run: spikebridge.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where renameat2 cannot exchange, the old run is moved aside for an instant; a crash then is undone later."""
    target = copy_run(old_run.path, tmp_path / "X")
    code = f"""
import os, signal
from pathlib import Path
from spikebridge.rundir import swap
def unsupported(a, b):
    raise swap.Unsupported(22, "no RENAME_EXCHANGE here")
swap.exchange = unsupported
real = os.rename
def dying(src, dst):
    if Path(src).name.startswith(".X.partial-"):
        os.kill(os.getpid(), signal.SIGKILL)  # the old run is aside, the new one not yet in place
    real(src, dst)
os.rename = dying
import spikebridge
from spikebridge.models import load_model
model = load_model("ei_weight_matrix", ["simulation.duration=50"])
spikebridge.run(model, "nest", {str(target)!r}, overwrite=True, progress=False, figure=False)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=ENV)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert not target.exists()
    with pytest.raises(RunDirectoryError, match="replacing it was interrupted; the previous run is in .X.old-"):
        spikebridge.load(target)
    with claim(target, overwrite=True):
        assert spikebridge.load(target).meta["created"] == old_run.meta["created"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X"]

    def unsupported(a: Path, b: Path) -> None:
        raise swap.Unsupported(22, "no RENAME_EXCHANGE here")

    monkeypatch.setattr(swap, "exchange", unsupported)
    new = spikebridge.run(
        load_model("ei_weight_matrix", ["simulation.duration=50", "simulation.seed=2"]),
        "nest",
        target,
        overwrite=True,
        progress=False,
        figure=False,
    )
    assert new.meta["seed"] == 2 and spikebridge.load(target).meta["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X"]


def test_meta_records_the_sha256_of_every_file(old_run: spikebridge.Results) -> None:
    files = {p.relative_to(old_run.path).as_posix() for p in old_run.path.rglob("*") if p.is_file()}
    digests = old_run.meta["sha256"]
    assert set(digests) == files - {"meta.json"} and {"figures/summary.png", ".spikebridge-run", "model.toml"} <= set(digests)
    assert all(digests[name] == sha256_file(old_run.path / name) for name in digests)


def test_each_truncated_file_is_refused_naming_it(tmp_path: Path, old_run: spikebridge.Results, capsys: pytest.CaptureFixture[str]) -> None:
    names = [*sorted(old_run.meta["sha256"]), "meta.json"]
    for name in names:
        bad = copy_run(old_run.path, tmp_path / name.replace("/", "_"))
        os.truncate(bad / name, (bad / name).stat().st_size // 2)
        with pytest.raises(RunDirectoryError, match="corrupt") as err:
            spikebridge.load(bad)
        assert name in str(err.value) and "\n" not in str(err.value)
        line = _refused(capsys, "info", str(bad))
        assert "corrupt" in line and name in line and str(bad) in line
    line = _refused(capsys, "plot", "weights", str(tmp_path / "network.npz"))
    assert "corrupt" in line
    line = _refused(
        capsys, "run", "ei_weight_matrix", "--out", str(tmp_path / "restored"), "--restore",
        str(tmp_path / "connections.npz"), "--quiet", "--no-figure",
    )
    assert "corrupt" in line and not (tmp_path / "restored").exists()
    info = subprocess.run([*CLI, "info", str(tmp_path / "network.npz")], capture_output=True, text=True, env=ENV)
    assert info.returncode == 2 and "corrupt" in _error_line(info.stderr) and info.stdout == ""


def test_unreadable_or_invalid_meta_and_model_are_refused(tmp_path: Path, old_run: spikebridge.Results) -> None:
    bad = copy_run(old_run.path, tmp_path / "binary-meta")
    (bad / "meta.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(RunDirectoryError, match=r"corrupt: meta.json cannot be read"):
        spikebridge.load(bad)
    bad = copy_run(old_run.path, tmp_path / "list-meta")
    (bad / "meta.json").write_text("[1, 2]")
    with pytest.raises(RunDirectoryError, match=r"corrupt: meta.json does not hold a JSON object"):
        spikebridge.load(bad)
    # a model.toml that is consistent with its checksum but not a model
    bad = copy_run(old_run.path, tmp_path / "bad-model")
    (bad / "model.toml").write_text("name = [unclosed\n")
    meta = json.loads((bad / "meta.json").read_text())
    meta["sha256"]["model.toml"] = sha256_file(bad / "model.toml")
    (bad / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RunDirectoryError, match=r"corrupt: model.toml cannot be read as a model"):
        spikebridge.load(bad)
    old = copy_run(old_run.path, tmp_path / "no-checksums")
    meta = json.loads((old / "meta.json").read_text())
    del meta["sha256"]
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RunDirectoryError, match="no SHA-256 checksums"):
        spikebridge.load(old)


def test_files_added_later_do_not_make_a_run_corrupt(tmp_path: Path, old_run: spikebridge.Results) -> None:
    run = copy_run(old_run.path, tmp_path / "run")
    (run / "figures" / "weights_matrix.png").write_bytes(b"drawn later by spikebridge plot weights")
    (run / "inference").mkdir()
    (run / "inference" / "scores.csv").write_text("written later by spikebridge infer\n")
    register(run, [run / "figures" / "weights_matrix.png", run / "inference" / "scores.csv"])  # as plot and infer do
    assert spikebridge.load(run).meta["seed"] == OLD_SEED
    guard.check_target(run, overwrite=True)  # still replaceable
    (tmp_path / "empty").mkdir()
    guard.check_target(tmp_path / "empty", overwrite=True)  # an empty folder loses nothing


def test_default_out_stays_under_runs() -> None:
    model = load_model("ei_weight_matrix")
    out = default_out(model, "brian2:cpp")
    assert out.parts[:2] == ("runs", "ei_weight_matrix") and out.parts[2].startswith("brian2-cpp_seed") and len(out.parts) == 3
    for name in ("../escape", "/tmp/escape", "..", ".", "a/b", ""):
        with pytest.raises(RunDirectoryError, match="cannot name a folder under runs/"):
            default_out(model.model_copy(update={"name": name}), "nest")
    assert ".." not in default_out(model, "../../x").parts


def test_load_during_a_swap_reads_the_new_run(tmp_path: Path, old_run: spikebridge.Results, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that got meta.json of the old run and the files of the new one reads again, not "corrupt"."""
    from spikebridge.rundir import results

    target = copy_run(old_run.path, tmp_path / "X")
    new = spikebridge.run(
        load_model("ei_weight_matrix", ["simulation.duration=50", "simulation.seed=2"]),
        "nest",
        tmp_path / "new",
        progress=False,
        figure=False,
    )
    real = results.verify
    swapped = []

    def swap_first(root: Path, recorded: dict[str, str]) -> None:
        if not swapped:
            swap.exchange(new.path, target)  # what a writer does, between this reader's meta.json and its files
            swapped.append(True)
        real(root, recorded)

    monkeypatch.setattr(results, "verify", swap_first)
    assert spikebridge.load(target).meta["seed"] == 2 and swapped

