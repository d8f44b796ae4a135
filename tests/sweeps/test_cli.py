"""``spikebridge sweep``: user errors as one line with exit code 2, a local-cluster sweep, the parser hook."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spikebridge.cli.sweep import add_parser, cmd_sweep, main
from spikebridge.workflows.sweeps import Experiment

from .conftest import EI_SETS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["ei_weight_matrix", "--grid", "simulation.seed"],
            "--grid 'simulation.seed': expected PATH=V1,V2,... (e.g. simulation.seed=1,2,3)",
        ),
        (
            ["ei_weight_matrix", "--grid", "simulation.seed=1", "--scheduler", "tcp://127.0.0.1:1", "--workers", "3"],
            "--workers applies to the local cluster only",
        ),
        (["no_such_model", "--grid", "simulation.seed=1"], "no_such_model: neither a model file nor a bundled model"),
        (
            ["ei_weight_matrix", "--grid", "simulation.seed=1", "--set", "simulation.seed=3"],
            "simulation.seed given both in --set and in --grid",
        ),
        (["ei_weight_matrix", "--grid", "simulation.seed=1", "--backend", "nrn"], "unknown backend 'nrn'; known backends:"),
        (["ei_weight_matrix", "--grid", "simulation.seed=1", "--threads", "0"], "--threads must be >= 1, got 0"),
        (["ei_weight_matrix", "--grid", "backend=nest", "--backend", "nest"], "--backend and --grid backend=... both given"),
        (
            ["ei_weight_matrix", "--grid", "simulation.seed=1", "--scheduler", "tcp://127.0.0.1:9"],
            "cannot reach the Dask scheduler at tcp://127.0.0.1:9",
        ),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dask
    import distributed  # noqa: F401 - loads its configuration defaults

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert main([*argv, "--out", str(tmp_path / "exp"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spikebridge: error: ") and message in err and "\n" not in err, err


def test_sweep_on_a_local_cluster_and_its_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "ei_weight_matrix", "--set", EI_SETS[0], "--grid", "simulation.seed=1,2", "--workers", "1", "--threads", "2",
        "--out", str(tmp_path / "exp"), "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"experiment: {tmp_path / 'exp'}" in out and "2 trials: 2 complete (0 from before), 0 failed" in out
    exp = Experiment(tmp_path / "exp")
    assert exp[0].results.meta["backend_info"]["options"]["threads"] == 2
    assert main(argv) == 0
    assert "2 trials: 2 complete (2 from before), 0 failed" in capsys.readouterr().out


def test_add_parser_hooks_sweep_into_a_cli() -> None:
    parser = argparse.ArgumentParser(prog="spikebridge")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["sweep", "m", "--grid", "a.b=1,2", "--grid", "simulation.seed=1", "--scheduler", "tcp://127.0.0.1:8786"])
    assert args.func is cmd_sweep and args.grid == ["a.b=1,2", "simulation.seed=1"] and args.scheduler == "tcp://127.0.0.1:8786"
    assert args.workers is None and args.out is None and not args.isolate
