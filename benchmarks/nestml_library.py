"""NESTML's own neuron library as the test suite of the Brian2 translation (issue 14).

For every neuron NESTML ships (``<venv>/models/neurons/*.nestml``): NEST runs the C++ NESTML generates for it
(:func:`spikebridge.backends.nest.nestml.build`), Brian2 runs :func:`spikebridge.backends.brian2.nestml_neuron.neuron_group`
(``cpp_standalone`` by default, i.e. brian2:cpp; ``--device runtime`` for Cython), both under the same drawn input:
per cell, 200 excitatory and 50 inhibitory Poisson trains (5 Hz each, on the 0.1 ms grid, drawn in numpy from a fixed
seed), a delay of 1 ms, for 1 s. The excitatory weight is chosen per model on NEST (the ladder's weight whose mean
rate is nearest 15 Hz, among those firing 2-60 Hz); inhibitory weights have the same magnitude. A Brian2 spike time
is its step's start plus dt (NEST's stamp is the step's end).

Each model runs in its own process with a wall-time limit (``--timeout``): a model that does not finish in time is a
row of the table ("did not finish in N s"), not the end of the run. The NEST modules (6 neurons each, cached) are
built first, one at a time.

    python benchmarks/nestml_library.py [--models a,b] [--out DIR] [--cells 5] [--device cpp_standalone|runtime]
                                        [--timeout 600]

Writes ``DIR/nestml_library.md`` and ``.csv`` (default ``benchmarks/results``); progress on stderr. The synapse
table (``benchmarks/nestml_synapses.py``) is appended to the same Markdown file when its results exist.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _child_rows import locked, run_child

from spikebridge.backends.brian2.nestml_cells import SUBSTEPS  # RK4 steps per dt of spikebridge's NESTML cell types

os.environ.setdefault("PYNEST_QUIET", "1")

DT = 0.1
DURATION = 1000.0
DELAY = 1.0
N_EXC, N_INH, RATE = 200, 50, 5.0
SEED = 20240614
CHUNK = 6
"""Neurons per NEST module, in sorted order over the whole library (so that a rerun hits the cache)."""
LADDER = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0)
TARGET_HZ = 15.0
CALIBRATION_S = 20.0
"""Wall time (s) of one NEST calibration run beyond which it is abandoned and the ladder stops climbing."""
REFINED = 100
"""RK4 steps per dt of the second Brian2 run of a model that does not agree at SUBSTEPS: the convergence check."""
CHUNK_MS = 10.0
"""Simulated time between two checks of a calibration run's wall time."""
COLUMNS = ("model", "translates", "weight", "NEST spikes", "Brian2 spikes", "matched", "max abs dt (ms)", "verdict",
           "finer Brian2 steps", "translate s", "Brian2 s", "total s")
TIMEOUT = 600.0
"""Default wall-time limit of one model (s): translation, NEST calibration and run, Brian2 code generation, compile, run."""


@dataclass
class Row:
    """One model's line of the table."""

    model: str
    translates: str = "yes"
    weight: float = float("nan")
    nest_spikes: int = 0
    brian2_spikes: int = 0
    matched: float = float("nan")
    max_dt: float = float("nan")
    verdict: str = ""
    translate_seconds: float = float("nan")
    brian2_seconds: float = float("nan")
    total_seconds: float = float("nan")
    notes: list[str] = field(default_factory=list)
    refined: str = ""
    """Where RK4 x SUBSTEPS does not agree: the verdict of the rerun with RK4 x REFINED."""
    resumed: bool = False
    """Read from an earlier run's ``rows/NAME.json`` (``--resume``), not run now."""

    def cells(self) -> list[str]:
        def num(x: float, fmt: str) -> str:
            return "" if x != x else format(x, fmt)

        return [self.model, self.translates, num(self.weight, "g"), str(self.nest_spikes), str(self.brian2_spikes),
                num(self.matched, ".3f"), num(self.max_dt, ".2f"), self.verdict, self.refined, num(self.translate_seconds, ".1f"),
                num(self.brian2_seconds, ".1f"), num(self.total_seconds, ".1f")]


@dataclass(frozen=True)
class Wiring:
    """Where the excitatory and inhibitory trains go: (Brian2 port, NEST receptor type, NEST sign) each."""

    exc: tuple[str, int, float]
    inh: tuple[str, int, float]


def library() -> dict[str, Path]:
    """NESTML's shipped neurons: name -> file."""
    root = Path(sys.prefix) / "models" / "neurons"
    return {p.stem: p for p in sorted(root.glob("*.nestml"))}


def chunk_of(name: str, names: list[str]) -> list[str]:
    """The NEST module's neurons that ``name`` is built with (fixed chunks of the sorted library)."""
    k = names.index(name) // CHUNK
    return names[k * CHUNK:(k + 1) * CHUNK]


def draw(cells: int, seed: int = SEED) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per cell: excitatory and inhibitory Poisson trains as sorted unique step indices (spike at step * DT)."""
    rng = np.random.default_rng(seed)
    steps = int(round(DURATION / DT))
    p = RATE * DT / 1000.0

    def train() -> np.ndarray:
        return np.flatnonzero(rng.random(steps) < p) + 1  # no spike at 0: NEST's generators start after it

    return [([train() for _ in range(N_EXC)], [train() for _ in range(N_INH)]) for _ in range(cells)]


def merged(trains: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One NEST spike_generator's times and multiplicities for a set of trains."""
    steps, counts = np.unique(np.concatenate(trains), return_counts=True)
    return np.round(steps * DT, 10), counts.astype(int)


def wiring(ports: dict[str, str], receptor_types: dict[str, int]) -> Wiring:
    """Excitatory trains to the excitatory port, inhibitory ones to the inhibitory port (NEST: a negative weight on
    receptor 0), or to a GABA receptor of a multi-receptor model, or as negative weights to a single port."""
    names = list(ports)
    inhibitory = [p for p, kind in ports.items() if kind == "inhibitory"]
    if inhibitory:
        exc = next(p for p, kind in ports.items() if kind != "inhibitory")
        return Wiring((exc, 0, 1.0), (inhibitory[0], 0, -1.0))
    if len(names) == 1:
        return Wiring((names[0], 0, 1.0), (names[0], 0, -1.0))
    receptors = {k.lower(): v for k, v in receptor_types.items()}
    inh = next((p for p in names if "gaba" in p.lower() or "inh" in p.lower()), names[-1])
    return Wiring((names[0], receptors[names[0].lower()], 1.0), (inh, receptors[inh.lower()], 1.0))


def nest_run(
    module: Any, name: str, trains: list[Any], weights: list[float], brian_ports: dict[str, str],
    text: str, budget: float | None = None,
) -> tuple[list[np.ndarray] | None, Wiring]:
    """NEST's spike times (ms) of ``len(weights) * len(trains)`` cells, cell ``k * len(trains) + c`` at weight k; a
    state variable NEST's generated model starts elsewhere than ``text`` declares starts where it declares, as on
    spikebridge's NEST backend (:func:`spikebridge.backends.nest.nestml_cells.misinitialised`). None (no spikes) where
    the simulation takes more than ``budget`` s of wall time (checked every CHUNK_MS of simulated time)."""
    import nest

    from spikebridge.backends.nest import nestml as nest_nestml
    from spikebridge.backends.nest.nestml_cells import misinitialised

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": DT, "print_time": False})
    nest_nestml.install(module)
    model = module.node_models[name]
    receptor_types = dict(nest.GetDefaults(model).get("receptor_types", {}) or {})
    wired = wiring(brian_ports, receptor_types)
    cells = nest.Create(model, len(weights) * len(trains))
    wrong = misinitialised(model, text, name)
    if wrong:
        cells.set({k: declared for k, (_, declared) in wrong.items()})
    recorder = nest.Create("spike_recorder")
    nest.Connect(cells, recorder)
    for k, weight in enumerate(weights):
        for c, (exc, inh) in enumerate(trains):
            cell = cells[k * len(trains) + c]
            for group, (_, receptor, sign) in ((exc, wired.exc), (inh, wired.inh)):
                times, counts = merged(group)
                gen = nest.Create("spike_generator", params={"spike_times": times, "spike_multiplicities": counts})
                nest.Connect(gen, cell, syn_spec={"weight": sign * weight, "delay": DELAY, "receptor_type": receptor})
    if budget is None:
        nest.Simulate(DURATION)
    else:
        t0 = time.perf_counter()
        with nest.RunManager():
            for _ in range(int(round(DURATION / CHUNK_MS))):
                nest.Run(CHUNK_MS)
                if time.perf_counter() - t0 > budget:
                    return None, wired
    events = recorder.get("events")
    senders, times = np.asarray(events["senders"]), np.asarray(events["times"])
    first = cells[0].global_id
    return [np.sort(times[senders == first + j]) for j in range(len(cells))], wired


def calibrate(module: Any, name: str, trains: list[Any], ports: dict[str, str], text: str) -> float:
    """The ladder's weight whose NEST rate (2 cells) is nearest TARGET_HZ among those firing 2-60 Hz, climbing the
    ladder only until a rate reaches TARGET_HZ (a higher weight fires faster still), or falls again after passing
    2 Hz (depolarisation block of a Hodgkin-Huxley cell), or a step takes more than CALIBRATION_S (that step is
    abandoned): stiff models integrate very slowly under huge weights (hh_psc_alpha_neuron spent over 20 minutes in
    GSL at 3000 pA; traub_psc_alpha_neuron, 3 Hz at 1000 pA, did not finish 100 ms at 3000 pA in 200 s)."""
    rates: list[float] = []
    for weight in LADDER:
        spikes, _ = nest_run(module, name, trains[:2], [weight], ports, text, budget=CALIBRATION_S)
        if spikes is None:
            break
        rates.append(float(np.mean([len(s) for s in spikes])) / (DURATION / 1000.0))
        if rates[-1] >= TARGET_HZ or (max(rates) >= 2.0 and rates[-1] < max(rates)):
            break
    if not rates:  # the first step was abandoned
        return LADDER[0]
    good = [k for k, r in enumerate(rates) if 2.0 <= r <= 60.0]
    k = min(good or range(len(rates)), key=lambda j: abs(np.log((rates[j] + 0.1) / TARGET_HZ)))
    return LADDER[k]


def brian2_run(
    text: str, name: str, trains: list[Any], weight: float, wired: Wiring, standalone: Path | None, substeps: int = SUBSTEPS
) -> tuple[list[np.ndarray], float]:
    """Brian2's spike times (NEST's stamps: step start + dt) of one cell per train set, and the wall time; non-linear
    ODEs integrated with RK4 in ``substeps`` steps per dt."""
    import brian2

    from spikebridge.backends.brian2.nestml_neuron import neuron_group

    t0 = time.perf_counter()
    if standalone is not None:
        # a fresh device (a second project in this process: the refined run); one project folder for all models, so
        # that make recompiles only what changed (Brian2 rewrites only files whose text changed)
        brian2.device.reinit()
        brian2.set_device("cpp_standalone", directory=str(standalone), build_on_run=False)
        brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    brian2.start_scope()
    brian2.defaultclock.dt = DT * brian2.ms
    group = neuron_group(text, name, len(trains), DT, name="cells", substeps=substeps)
    indices, times, targets, ports, signs = [], [], [], [], []
    source = 0
    shared = wired.exc[0] == wired.inh[0]  # one port for both: NEST keeps the sign
    for c, (exc, inh) in enumerate(trains):
        for group_trains, (port, _, sign) in ((exc, wired.exc), (inh, wired.inh)):
            for train in group_trains:
                indices.append(np.full(len(train), source))
                times.append(train * DT)
                targets.append(c)
                ports.append(port)
                signs.append(sign if shared else 1.0)
                source += 1
    generator = brian2.SpikeGeneratorGroup(source, np.concatenate(indices), np.concatenate(times) * brian2.ms, dt=DT * brian2.ms)
    objects: list[Any] = [group, generator]
    sources = np.arange(source)
    for port in sorted(set(ports)):
        mine = np.asarray([p == port for p in ports])
        syn = brian2.Synapses(generator, group, "w : 1", on_pre=group.nestml.on_pre(port, "w"), delay=(DELAY - DT) * brian2.ms,
                              dt=DT * brian2.ms)
        syn.connect(i=sources[mine], j=np.asarray(targets)[mine])
        syn.w = weight * np.asarray(signs)[mine]
        objects.append(syn)
    monitor = brian2.SpikeMonitor(group)
    net = brian2.Network(*objects, monitor)
    net.run(DURATION * brian2.ms)
    if standalone is not None:
        brian2.device.build(directory=str(standalone), compile=True, run=True)
    i, t = np.asarray(monitor.i), np.asarray(monitor.t / brian2.ms) + DT
    return [np.sort(t[i == c]) for c in range(len(trains))], time.perf_counter() - t0


def compare(nest: list[np.ndarray], brian: list[np.ndarray]) -> tuple[float, float]:
    """The fraction of spikes paired within one step (of the larger count, summed over cells) and the largest |dt|
    of a pair (ms); pairs are made in order of time."""
    matched, total, worst = 0, 0, 0.0
    for a, b in zip(nest, brian):
        i = j = 0
        while i < len(a) and j < len(b):
            d = b[j] - a[i]
            if abs(d) <= DT + 1e-9:
                matched += 1
                worst = max(worst, abs(d))
                i += 1
                j += 1
            elif d < 0:
                j += 1
            else:
                i += 1
        total += max(len(a), len(b))
    return (matched / total if total else 1.0), worst


def verdict(row: Row, stochastic: bool) -> str:
    if stochastic:
        return "stochastic (different random numbers)"
    if row.nest_spikes == 0 and row.brian2_spikes == 0:
        return "silent on both"
    if row.matched == 1.0:
        return "identical"
    if row.matched >= 0.9:
        return "close"
    return "differs"


def run_model(name: str, path: Path, names: list[str], trains: list[Any], standalone: Path | None, log: Any) -> Row:
    from spikebridge.backends.brian2.nestml_neuron import describe
    from spikebridge.backends.nest import nestml as nest_nestml
    from spikebridge.backends.nest.nestml_cells import misinitialised
    from spikebridge.errors import ModelError

    row = Row(name)
    text = path.read_text()
    t0 = time.perf_counter()
    try:
        described = describe(text, name, DT)  # the source as brian2_run gives it: one pynestml analysis (cached)
    except ModelError as err:
        row.translates = str(err).split(": ", 2)[-1]
        row.verdict = "not translated"
        return row
    row.translate_seconds = time.perf_counter() - t0
    chunk = chunk_of(name, names)
    t0 = time.perf_counter()
    module = nest_nestml.build({n: library()[n].read_text() for n in chunk}, progress=False)
    if not module.cached:
        log(f"built NEST module for {', '.join(chunk)} in {time.perf_counter() - t0:.0f} s")
    row.weight = calibrate(module, name, trains, described.ports, text)
    nest_spikes, wired = nest_run(module, name, trains, [row.weight], described.ports, text)
    assert nest_spikes is not None, "no wall-time budget"
    wrong = misinitialised(module.node_models[name], text, name)
    if wrong:
        starts = ", ".join(f"{k} at {a:.4g} (declared {b:.4g})" for k, (a, b) in wrong.items())
        row.notes.append(f"{name}: NEST's generated model starts {starts}"
                         + ": NESTML's C++ evaluates the state initialisers with internals computed before V_m is set; NEST's"
                         " cells here start at the declared values")
    try:
        brian_spikes, row.brian2_seconds = brian2_run(text, name, trains, row.weight, wired, standalone)
    except Exception as err:  # a Brian2 failure is a result of the table, not the end of the run
        cause = getattr(err, "original_error", None) or err  # Brian2 wraps the error in where the object was made
        row.translates = f"Brian2 failed: {type(cause).__name__}: {' '.join(str(cause).split())[:200]}"
        row.verdict = "not run"
        return row
    row.nest_spikes, row.brian2_spikes = sum(map(len, nest_spikes)), sum(map(len, brian_spikes))
    row.matched, row.max_dt = compare(nest_spikes, brian_spikes)
    row.verdict = verdict(row, described.stochastic)
    if row.verdict in ("close", "differs") and described.integrator != "analytic":
        # does the difference shrink with Brian2's step (integration error) or stay (a translation error)?
        refined, _ = brian2_run(text, name, trains, row.weight, wired, standalone, substeps=REFINED)
        matched, worst = compare(nest_spikes, refined)
        again = Row(name, nest_spikes=row.nest_spikes, brian2_spikes=sum(map(len, refined)), matched=matched)
        row.refined = f"{verdict(again, False)} with rk4 x {REFINED} ({again.brian2_spikes} spikes, {matched:.3f} matched)"
    if described.stochastic:
        row.notes.append(f"{name}: draws random numbers in its update (NEST's and Brian2's generators differ), so only the"
                         " statistics can agree")
    if described.integrator != "analytic":
        row.notes.append(f"Brian2 integrates the non-linear ODEs with {described.integrator} (NEST: GSL RKF45)")
    return row


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def child(name: str, json_path: Path, cells: int, device: str, out: Path) -> int:
    """One model in this process: its row as JSON."""
    import brian2

    t0 = time.perf_counter()
    brian2.prefs.codegen.target = "cython"
    brian2.BrianLogger.log_level_error()
    lib = library()
    standalone = out / "standalone" if device == "cpp_standalone" else None  # shared by the models (see brian2_run)
    row = run_model(name, lib[name], list(lib), draw(cells), standalone, lambda m: print(m, file=sys.stderr))
    row.total_seconds = time.perf_counter() - t0
    json_path.write_text(json.dumps(asdict(row)))
    return 0


def build_modules(chosen: list[str], names: list[str], log: Any) -> None:
    """The NEST modules of the chosen models' chunks, one at a time (cached ones cost nothing)."""
    from spikebridge.backends.nest import nestml as nest_nestml

    lib = library()
    for chunk in dict.fromkeys(tuple(chunk_of(n, names)) for n in chosen):
        t0 = time.perf_counter()
        module = nest_nestml.build({n: lib[n].read_text() for n in chunk}, progress=False)
        if not module.cached:
            log(f"built NEST module for {', '.join(chunk)} in {time.perf_counter() - t0:.0f} s")


def in_subprocess(name: str, args: argparse.Namespace, work: Path) -> Row:
    """Run one model in a child process under the wall-time limit; a timeout or crash is the row's verdict."""
    json_path = work / f"{name}.json"
    if (args.resume or args.collect) and json_path.exists():
        return Row(**{**json.loads(json_path.read_text()), "resumed": True})
    if args.collect:
        return Row(name, translates="?", verdict="not run (the table's run was stopped)")
    cmd = [sys.executable, __file__, "--child", name, "--json", str(json_path), "--cells", str(args.cells),
           "--device", args.device, "--out", str(args.out)]
    with locked(args.lock):  # the wall-time limit starts once the lock is held
        done = run_child(cmd, json_path, args.timeout, lambda: shutil.rmtree(args.out / "standalone", ignore_errors=True))
    if done.timed_out:  # the project's half-written objects went with it
        row = Row(name, translates="?", verdict=f"did not finish in {args.timeout:g} s", total_seconds=done.seconds)
        json_path.write_text(json.dumps(asdict(row)))  # a row of the table too (--collect)
        return row
    if done.row is not None:
        return Row(**done.row)
    return Row(name, translates=f"crashed (exit {done.returncode}): {done.tail[-160:]}", verdict="not run", total_seconds=done.seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="comma-separated neuron names (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--cells", type=int, default=5)
    parser.add_argument("--device", choices=("cpp_standalone", "runtime"), default="cpp_standalone",
                        help="Brian2's device: cpp_standalone (brian2:cpp, default) or runtime (Cython)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="wall-time limit per model (s)")
    parser.add_argument("--lock", type=Path, help="run each model under flock(1) on this file (to share the machine)")
    parser.add_argument("--resume", action="store_true", help="keep the rows of models already run into --out (rows/*.json)")
    parser.add_argument("--collect", action="store_true", help="only write the table of the rows already in --out")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.json, args.cells, args.device, args.out)
    lib = library()
    names = list(lib)
    chosen = args.models.split(",") if args.models else names
    unknown = [m for m in chosen if m not in lib]
    if unknown:
        parser.error(f"unknown models: {', '.join(unknown)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    start = time.perf_counter()
    work = args.out / "rows"
    if not args.collect:
        build_modules([m for m in chosen if not (args.resume and (work / f"{m}.json").exists())], names, log)
    built = time.perf_counter() - start
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, name in enumerate(chosen):
        rows.append(in_subprocess(name, args, work))
        log(f"[{k + 1}/{len(chosen)}] " + " | ".join(rows[-1].cells()))
    write(rows, args, built, time.perf_counter() - start)
    return 0


def write(rows: list[Row], args: argparse.Namespace, built: float, total: float) -> None:
    text = table(rows)
    identical = sum(r.verdict == "identical" for r in rows)
    translated = sum(r.translates == "yes" for r in rows)
    notes = sorted({n for r in rows for n in r.notes})
    device = "cpp_standalone (brian2:cpp)" if args.device == "cpp_standalone" else "runtime (Cython)"
    converged = sum(r.refined.startswith("identical") for r in rows)
    summary = (f"**{identical} of {len(rows)} identical within one step** (dt = {DT} ms, {DURATION:g} ms of Poisson drive, "
               f"{args.cells} cells each; Brian2's RK4 in {SUBSTEPS} steps per dt); {translated} of {len(rows)} translate."
               f" Of the others, {converged} become identical with {REFINED} RK4 steps per dt: their difference is"
               " Brian2's integration error, not the translation.")
    command = f"`.venv/bin/python benchmarks/nestml_library.py --device {args.device} --cells {args.cells} --timeout {args.timeout:g}`"
    spent = sum(r.total_seconds for r in rows if r.total_seconds == r.total_seconds)
    timing = (f"Wall time: {spent / 60:.1f} min over the {len(rows)} models (each in its own process), on 2 cores shared with"
              f" other jobs' compilations; NEST modules {built:.0f} s here (cached; about 4-8 min per module of 6 neurons"
              " when built). Per model: pynestml's analysis (translate s), Brian2 code generation + compile + run"
              " (Brian2 s), all with NEST's calibration and run (total s).")
    rerun = [r.model for r in rows if not r.resumed]
    if len(rerun) < len(rows):
        timing += (f" This run ran {', '.join(rerun) or 'no model'}; the other rows are an earlier run's, kept in"
                   f" `{args.out.name}/rows/*.json` (`--resume`).")
    body = (f"# NESTML's neuron library: NEST vs Brian2 {device}\n\n{summary}\n\n{command}\n\n{timing}\n\n{text}\n\n"
            + "".join(f"- {n}\n" for n in notes))
    synapses = args.out / "nestml_synapses.md"
    if synapses.exists():
        body += "\n" + synapses.read_text()
    (args.out / "nestml_library.md").write_text(body)
    with open(args.out / "nestml_library.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(r.cells() for r in rows)
    print(text)
    print(summary)


if __name__ == "__main__":
    sys.exit(main())
