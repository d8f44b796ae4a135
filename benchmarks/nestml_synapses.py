"""NESTML's shipped synapses as the test suite of the Brian2 translation (issue 14): NEST vs brian2:cpp.

For every synapse NESTML ships (``<venv>/models/synapses/*.nestml``), one network per backend runs a deterministic
pairing protocol: per pair, ``PAIRINGS`` pairings at ``RATES`` with the post spike ``Δt`` after (``+``) or before
(``-``) the pre spike as the rule sees it (Δt = t_post + d - t_pre, dendritic delay d = 1 ms), for each of
``DELTAS``; a flushing pre spike 1 s after the protocol makes NEST apply the last post spikes' updates. The post cells
are ``IF_curr_exp`` (NEST: NESTML's ``iaf_psc_exp_neuron`` generated together with the synapse, as spikebridge's NEST
backend pairs every NESTML synapse) driven to fire exactly where the protocol puts them (a 500 nA input 2 steps
before), so both simulators see the same spike times. NEST runs NESTML's C++; brian2:cpp (``cpp_standalone``) runs
spikebridge's translation (:func:`spikebridge.backends.brian2.nestml.rule`) of the same text. The table compares
the final weights: the largest relative difference ``|w_nest - w_cpp| / |w_nest|`` over the pairs (target 1e-6),
and the same on the weight changes (``|Δw_nest - Δw_cpp| / max |Δw_nest|``).

    python benchmarks/nestml_synapses.py [--synapses a,b] [--out DIR] [--timeout 600]

Writes ``DIR/nestml_synapses.md`` and ``.csv`` (default ``benchmarks/results``); each synapse runs in its own process
under a wall-time limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _child_rows import locked, run_child

os.environ.setdefault("PYNEST_QUIET", "1")

DT = 0.1
DELAY = 1.0
START = 100.0
DELTAS = (-20.0, -10.0, -5.0, -2.0, 2.0, 5.0, 10.0, 20.0)
RATES = (10.0, 40.0)
PAIRINGS = 20
W0 = 0.01
"""Initial weight (nA onto the current-based post cells: the rule's ``w`` = 10, in its own unit)."""
DRIVE = 500.0
"""nA, 2 steps before each post spike: the cell crosses threshold in the step the protocol asks for."""
POST_CELL = {"tau_refrac": 5.0, "tau_syn_E": 0.5}
FLUSH = 1000.0
TOLERANCE = 1e-6
BACKENDS = ("nest", "brian2:cpp")
COLUMNS = ("synapse", "translates", "pairs", "post spikes exact", "max abs Δw (NEST)", "max rel. diff. w", "max rel. diff. Δw",
           "verdict", "seconds")


@dataclass
class Row:
    """One synapse's line of the table."""

    synapse: str
    translates: str = "yes"
    pairs: int = 0
    exact: str = ""
    max_dw: float = float("nan")
    rel_w: float = float("nan")
    rel_dw: float = float("nan")
    verdict: str = ""
    seconds: float = float("nan")

    def cells(self) -> list[str]:
        def num(x: float) -> str:
            return "" if x != x else f"{x:.2g}"

        seconds = "" if self.seconds != self.seconds else f"{self.seconds:.0f}"
        return [self.synapse, self.translates, str(self.pairs or ""), self.exact, num(self.max_dw), num(self.rel_w), num(self.rel_dw),
                self.verdict, seconds]


def library() -> dict[str, Path]:
    """NESTML's shipped synapses: name -> file."""
    root = Path(sys.prefix) / "models" / "synapses"
    return {p.stem: p for p in sorted(root.glob("*.nestml"))}


def _grid(t: np.ndarray) -> np.ndarray:
    return np.round(np.rint(np.asarray(t, dtype=np.float64) / DT) * DT, 10)


def protocol() -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Pre and post (as the rule sees them) spike times of each pair, and its label."""
    pre, post, labels = [], [], []
    for rate in RATES:
        for delta in DELTAS:
            t_pre = START + 1000.0 / rate * np.arange(PAIRINGS)
            pre.append(_grid(t_pre))
            post.append(_grid(t_pre + delta - DELAY))
            labels.append(f"{rate:g} Hz, Δt = {delta:+g} ms")
    return pre, post, labels


def network(name: str, text: str, pre: list[np.ndarray], post: list[np.ndarray]) -> tuple[dict[str, Any], float]:
    """The raw model: pre cells at ``pre`` (plus the flushing spike), post cells driven to ``post``; and the flush time."""
    n = len(pre)
    end = max(max(float(t[-1]) for t in pre), max(float(t[-1]) for t in post))
    flush = float(_grid(np.array([end + FLUSH]))[0])
    model = {
        "name": f"nestml_synapse_{name}",
        "models": {name: {"text": text}},
        "populations": {
            "pre": {"cell_type": "SpikeSourceArray", "size": n, "spike_times": [[*map(float, t), flush] for t in pre]},
            "drive": {"cell_type": "SpikeSourceArray", "size": n, "spike_times": [list(map(float, _grid(t - 2 * DT))) for t in post]},
            "post": {"cell_type": "IF_curr_exp", "size": n, "parameters": POST_CELL},
        },
        "projections": {
            "syn": {"pre": "pre", "post": "post", "connector": {"rule": "one_to_one"}, "weight": W0, "delay": DELAY,
                    "synapse": {"type": name}},
            "drive": {"pre": "drive", "post": "post", "connector": {"rule": "one_to_one"}, "weight": DRIVE, "delay": DT},
        },
        "recording": {"post": {"variables": ["spikes"]}},
        "simulation": {"dt": DT, "duration": flush + 10 * DT, "seed": 1},
    }  # fmt: skip
    return model, flush


def run_backend(backend: str, model: dict[str, Any], n: int, flush: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Final weights (nA) of the pairs in order, and each post cell's spikes before the flush."""
    from spikebridge.workflows.rules import simulated, spike_trains

    with simulated(backend, model) as sim:
        spikes = [t[t < flush] for t in spike_trains(sim.recordings().segments[0], "post", n)]
        conns = sim.connections("syn")
        order = np.argsort(conns.pre, kind="stable")
        if not np.array_equal(np.asarray(conns.pre)[order], np.arange(n)):
            raise AssertionError(f"{backend}: the connections are not one per pair")
        return np.asarray(conns.weight)[order], spikes


def reason(name: str, text: str, error: str) -> str:
    """Why a synapse does not translate, in one line: what the model is, then the translation's own message."""
    what = []
    if "post_spikes" not in text and "onReceive(post" not in text:
        what.append("no post-synaptic port")
    if "random_normal" in text or "random_uniform" in text:
        what.append("draws random numbers per spike")
    continuous = re.findall(r"^\s*(\w+)\s+[\w/*]*\s*<-\s*continuous", text, flags=re.M)
    if continuous:
        what.append(f"reads a continuous input from the post neuron ({', '.join(continuous)}: a third factor that neither the "
                    "translation nor iaf_psc_exp_neuron provides) and the time t")
    if "mod_spikes" in text or "volume_transmitter" in text:
        what.append("needs a neuromodulatory (dopamine) spike port, NEST's volume transmitter")
    if name == "static_synapse":
        what.append("static (the weight never changes)")
    if name == "tsodyks_synapse":
        what.append("short-term plasticity: w never changes, the efficacy u, x does")
    head = "; ".join(what)
    return f"{head}: {error}" if head else error


def measure(name: str, path: Path) -> Row:
    from spikebridge.errors import ModelError
    from spikebridge.models.nestml import read

    row = Row(name)
    text = path.read_text()
    try:
        read(text, str(path))
    except ModelError as err:
        row.translates = "no: " + reason(name, text, str(err).split(": ", 2)[-1])
        row.verdict = "not translated"
        return row
    pre, post, _ = protocol()
    model, flush = network(name, text, pre, post)
    weights, exact = {}, []
    for backend in BACKENDS:
        w, spikes = run_backend(backend, model, len(pre), flush)
        weights[backend] = w
        exact.append(all(len(a) == len(b) and bool(np.all(np.abs(a - b) < 1e-6)) for a, b in zip(spikes, post, strict=True)))
    nest, cpp = weights["nest"], weights["brian2:cpp"]
    dw_nest, dw_cpp = nest - W0, cpp - W0
    row.pairs = len(pre)
    row.exact = " / ".join(f"{b}: {'yes' if e else 'no'}" for b, e in zip(BACKENDS, exact, strict=True))
    row.max_dw = float(np.max(np.abs(dw_nest))) * 1000.0  # in the rule's unit (pA)
    row.rel_w = float(np.max(np.abs(nest - cpp) / np.abs(nest)))
    scale = float(np.max(np.abs(dw_nest)))
    row.rel_dw = float(np.max(np.abs(dw_nest - dw_cpp)) / scale) if scale > 0 else float("nan")
    if row.max_dw == 0.0:
        row.verdict = "weights unchanged on NEST"
    elif row.rel_w <= TOLERANCE:
        row.verdict = "identical (<= 1e-6)"
    else:
        row.verdict = "differs"
    return row


def child(name: str, json_path: Path) -> int:
    import brian2

    brian2.BrianLogger.log_level_error()
    t0 = time.perf_counter()
    row = measure(name, library()[name])
    row.seconds = time.perf_counter() - t0
    json_path.write_text(json.dumps(asdict(row)))
    return 0


def in_subprocess(name: str, timeout: float, work: Path, lock: Path | None, resume: bool = False) -> Row:
    json_path = work / f"{name}.json"
    if resume and json_path.exists():
        return Row(**json.loads(json_path.read_text()))
    cmd = [sys.executable, __file__, "--child", name, "--json", str(json_path)]
    with locked(lock):  # the wall-time limit starts once the lock is held
        done = run_child(cmd, json_path, timeout)
    if done.timed_out:
        return Row(name, translates="?", verdict=f"did not finish in {timeout:g} s", seconds=done.seconds)
    if done.row is not None:
        return Row(**done.row)
    return Row(name, translates=f"run failed (exit {done.returncode}): {done.tail}", verdict="not run", seconds=done.seconds)


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synapses", help="comma-separated synapse names (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--timeout", type=float, default=600.0, help="wall-time limit per synapse (s)")
    parser.add_argument("--lock", type=Path, help="run each synapse under flock(1) on this file (to share the machine)")
    parser.add_argument("--resume", action="store_true", help="keep the rows of synapses already run into --out (synapse_rows/*.json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.json)
    lib = library()
    chosen = args.synapses.split(",") if args.synapses else list(lib)
    unknown = [m for m in chosen if m not in lib]
    if unknown:
        parser.error(f"unknown synapses: {', '.join(unknown)}")
    work = args.out / "synapse_rows"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows: list[Row] = []
    for k, name in enumerate(chosen):
        rows.append(in_subprocess(name, args.timeout, work, args.lock, args.resume))
        print(f"[{k + 1}/{len(chosen)}] " + " | ".join(rows[-1].cells()), file=sys.stderr, flush=True)
    total = sum(r.seconds for r in rows if r.seconds == r.seconds) or time.perf_counter() - start
    plastic = [r for r in rows if r.translates == "yes"]
    same = sum(r.verdict.startswith("identical") for r in rows)
    summary = (f"**{same} of {len(plastic)} translated synapses have the same final weights on NEST and brian2:cpp to "
               f"{TOLERANCE:g} relative**; {len(plastic)} of {len(rows)} translate.")
    protocol_text = (f"Protocol: {PAIRINGS} pairings at {', '.join(f'{r:g}' for r in RATES)} Hz for Δt = "
                     f"{', '.join(f'{d:+g}' for d in DELTAS)} ms ({len(RATES) * len(DELTAS)} pairs, one synapse each), "
                     f"w0 = {W0 * 1000:g} in the rule's unit, post cells IF_curr_exp; rule defaults otherwise.")
    command = f"`.venv/bin/python benchmarks/nestml_synapses.py --timeout {args.timeout:g}`"
    body = (f"## NESTML's synapse library: NEST vs brian2:cpp\n\n{summary}\n\n{protocol_text}\n\n{command}; wall time "
            f"{total / 60:.1f} min over the synapses, on 2 cores shared with other jobs' compilations (per synapse: NEST "
            "module build or cache, brian2:cpp compile, both runs).\n\n"
            f"{table(rows)}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nestml_synapses.md").write_text(body)
    with open(args.out / "nestml_synapses.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(r.cells() for r in rows)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
