"""One exit-code table for every command (docs/exit_codes.md): 0 ok, 1 verdict failed or inconclusive, 2 bad input,
3 internal error or simulator failure, 130 interrupted; one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

from spikebridge.cli import app as cli
from spikebridge.errors import BackendError, SimulatorError

ROOT = Path(__file__).resolve().parents[1]


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``spikebridge ARGV`` in-process; argparse's ``SystemExit`` gives its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def one_error_line(err: str, prefix: str = "spikebridge: error: ") -> str:
    assert err.startswith(prefix) and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize("argv", [["info", "--json", "RUN"], ["models"], ["--help"]])
def test_output_into_a_closed_pipe_exits_0_without_a_traceback(argv: list[str], tiny_run: Path) -> None:
    argv = [str(tiny_run) if a == "RUN" else a for a in argv]
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: every write raises EPIPE (BrokenPipeError)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "spikebridge.cli", *argv], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


def test_info_json_piped_into_head(tiny_run: Path) -> None:
    command = f"set -o pipefail; {sys.executable} -m spikebridge.cli info --json {tiny_run} | head -1"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "{\n", "")


def test_unknown_inference_parameter_names_method_parameter_and_known_ones(tiny_run: Path) -> None:
    code, _, err = invoke(["infer", str(tiny_run), "--param", "stdwi.nope=1"])
    line = one_error_line(err)
    assert code == 2 and "stdwi has no parameter 'nope'" in line and "known: decay, eta, tau_fast, tau_slow" in line, line
    code, _, err = invoke(["infer", str(tiny_run), "--param", "akrout.batch=abc"])
    assert code == 2 and "akrout parameter 'batch' must be an integer >= 1, got 'abc'" in one_error_line(err)


def test_plot_weights_with_an_unknown_population(tiny_run: Path) -> None:
    code, _, err = invoke(["plot", "weights", str(tiny_run), "--exc", "nope"])
    line = one_error_line(err)
    assert code == 2 and "--exc 'nope': no population 'nope'" in line and "(populations: E, I)" in line, line
    code, _, err = invoke(["plot", "weights", str(tiny_run), "--kind", "hist", "--bins", "0"])
    assert code == 2 and "--bins must be >= 1, got 0" in one_error_line(err)


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "must be an integer >= 1, got 'abc'"), ("0", "must be >= 1, got 0"), ("2.5", "must be an integer >= 1, got 2.5")],
)
def test_bad_thread_option_is_bad_input(value: str, message: str, tmp_path: Path) -> None:
    argv = ["run", "ei_weight_matrix", "--set", "simulation.duration=10", "--set", f"simulation.backend_options.threads={value}"]
    code, _, err = invoke([*argv, "--backend", "nest", "--out", str(tmp_path / "run"), "--quiet", "--no-figure"])
    assert code == 2 and f"nest option 'threads' {message}" in one_error_line(err)
    assert not (tmp_path / "run").exists()


def test_check_validates_the_backend_options_too() -> None:
    code, _, err = invoke(["check", "ei_weight_matrix", "--set", "simulation.backend_options.threads=abc"])
    assert code == 2 and "nest option 'threads' must be an integer >= 1, got 'abc'" in one_error_line(err)


def test_unknown_backend_is_bad_input(tmp_path: Path) -> None:
    code, _, err = invoke(["run", "ei_weight_matrix", "--backend", "nope", "--out", str(tmp_path / "run")])
    assert code == 2 and "unknown backend 'nope'" in one_error_line(err)


def _boom(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("boom\nin two lines")


def test_internal_error_is_one_line_exit_3_with_a_traceback_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("spikebridge.cli.models.cmd_models", _boom)
    code, _, err = invoke(["models"])
    line = one_error_line(err, "spikebridge: internal error: RuntimeError: boom in two lines (details: ")
    log = Path(re.fullmatch(r".*\(details: (.+)\)", line).group(1))  # type: ignore[union-attr]
    assert code == 3 and log.parent == tmp_path / "spikebridge" / "errors"
    assert "Traceback" in log.read_text() and "_boom" in log.read_text()


@pytest.mark.parametrize(
    ("error", "code", "prefix"),
    [
        (SimulatorError("the Brian2 binary failed"), 3, "spikebridge: failed: "),
        (BackendError("backend 'x' is registered but cannot be imported"), 2, "spikebridge: error: "),
        (KeyboardInterrupt(), 130, "spikebridge: interrupted"),
    ],
)
def test_error_classes_map_to_the_table(error: BaseException, code: int, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(args: Any) -> int:
        raise error

    monkeypatch.setattr("spikebridge.cli.models.cmd_models", fail)
    got, _, err = invoke(["models"])
    assert got == code and err.startswith(prefix) and err.count("\n") == 1, err


def test_argparse_errors_exit_2_and_help_names_the_table() -> None:
    assert invoke(["run"])[0] == 2
    code, out, _ = invoke(["--help"])
    assert code == 0 and "docs/exit_codes.md" in out and "3 internal error" in out
    assert (ROOT / "docs" / "exit_codes.md").is_file()


def test_a_crash_during_compare_is_exit_3_not_a_failed_verdict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("spikebridge.workflows.compare.workflow.run", _boom)
    code, out, err = invoke(
        ["compare", "ei_weight_matrix", "--backends", "nest,brian2", "--seeds", "2", "--out", str(tmp_path / "cmp"), "--quiet"]
    )
    assert code == 3 and "verdict" not in out
    one_error_line(err, "spikebridge: internal error: RuntimeError: boom")


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("simulation.seed", "--grid 'simulation.seed': expected PATH=V1,V2"),
        ("simulation.seed=", "no values"),
        ("simulation.seed=1,,2", "empty value"),
        ("simulation.seed=[1", "cannot read the values"),
        ("simulation.nope=1,2", "--grid point simulation.nope=1: "),
        ("simulation.duration=10,-5", "--grid point simulation.duration=-5: "),
        ("backend=nest,nope", "unknown backend 'nope'"),
        (
            "simulation.backend_options.threads=1,abc",
            "--grid point simulation.backend_options.threads=\"abc\": nest option 'threads' must be an integer",
        ),
    ],
)
def test_sweep_with_a_bad_grid_exits_2_before_dask(grid: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("spikebridge.workflows.sweeps.engine.dask_client", _boom)  # reaching Dask would be exit 3
    code, out, err = invoke(["sweep", "ei_weight_matrix", "--grid", grid, "--out", str(tmp_path / "exp"), "--quiet"])
    line = one_error_line(err)
    assert code == 2 and message in line and "rerun" not in line + out, line
    assert not (tmp_path / "exp").exists()


def test_compare_refuses_a_corrupt_run_instead_of_reusing_or_replacing_it(tiny_run: Path, tmp_path: Path) -> None:
    """A damaged run directory in a comparison's runs/ is refused (exit 2, naming it): it can neither pass nor fail a
    verdict, and it is not silently replaced either."""
    import shutil

    import spikebridge
    from spikebridge.workflows.compare.workflow import _reusable

    model = spikebridge.load(tiny_run).model
    copy = tmp_path / "cmp" / "runs" / "nest_seed42"
    shutil.copytree(tiny_run, copy)
    assert _reusable(copy, model, "nest", None, None) is not None
    recordings = next(p for p in copy.iterdir() if p.name.startswith("recordings"))
    data = bytearray(recordings.read_bytes())
    data[len(data) // 2] ^= 0xFF
    recordings.write_bytes(bytes(data))
    damaged = recordings.read_bytes()
    code, out, err = invoke(
        ["compare", str(copy / "model.toml"), "--backends", "nest,brian2", "--seeds", "42,43", "--out", str(tmp_path / "cmp"), "--quiet"]
    )
    line = one_error_line(err)
    assert code == 2 and "corrupt" in line and str(copy) in line, (code, err)
    assert recordings.read_bytes() == damaged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--noise", "-5"], "--noise: expected finite amplitudes >= 0"),
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--k", "0"], "--k must be >= 1"),
    ],
)
def test_selectivity_checks_its_arguments_before_building_anything(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("spikebridge.workflows.selectivity.pipeline.run_pipeline", _boom)
    code, _, err = invoke(["selectivity", *args, "--out", str(tmp_path / "fs"), "--quiet"])
    assert code == 2 and message in one_error_line(err)


def test_compare_refuses_bad_backend_options_before_the_first_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("spikebridge.workflows.compare.workflow.run", _boom)  # a run would be exit 3
    argv = ["compare", "ei_weight_matrix", "--backends", "nest,brian2", "--set", "simulation.backend_options.threads=abc", "--seeds", "2"]
    code, _, err = invoke([*argv, "--out", str(tmp_path / "cmp"), "--quiet"])
    assert code == 2 and "nest option 'threads' must be an integer >= 1, got 'abc'" in one_error_line(err)


def test_check_of_a_model_whose_backend_is_not_installed_is_valid_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Brian2-only machine can still check the bundled (nest) models: only the backend options go unchecked."""
    from spikebridge import backends

    monkeypatch.setattr(backends, "_entry_points", lambda: {"nest": "spikebridge_no_such_module:create"})
    code, out, err = invoke(["check", "ei_weight_matrix"])
    assert code == 0 and "valid" in out
    assert err.splitlines() == [
        line for line in err.splitlines() if line.startswith("spikebridge: note: backend options not checked: backend 'nest'")
    ]
    assert len(err.splitlines()) == 1


def test_the_program_returns_the_commands_code_with_what_lives_to_exit_frozen() -> None:
    # what the command leaves alive (a cycle, held by a module) is frozen when it returns: gc.get_objects() lists
    # only what the collector still walks
    code = (
        "import gc, sys\n"
        "from spikebridge.cli import app\n"
        "def command(argv=None, own_process=False):\n"
        "    app.left = [None]; app.left[0] = app.left\n"
        "    print(any(o is app.left for o in gc.get_objects()))\n"
        "    return 2\n"
        "app.main = command\n"
        "code = app.script()\n"
        "print(code, any(o is app.left for o in gc.get_objects()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.split() == ["True", "2", "False"], done.stderr


def test_python_m_runs_the_program() -> None:
    done = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", "no-such-model"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and one_error_line(done.stderr)
