"""The cortical microcircuit of Potjans & Diesmann (2014), as published: the one table every script here reads.

The parameters are the paper's (Tables 4 and 5; Cereb. Cortex 24:785) as NEST's reference implementation
(``pynest/examples/Potjans_2014``) lists them. The bundled model ``microcircuit`` is written from them by this file:

    python benchmarks/_microcircuit.py > spikebridge/models/library/microcircuit.toml
    python benchmarks/_microcircuit.py dc > spikebridge/models/library/microcircuit_dc.toml

and the native NEST and Brian2 scripts build the same network from them directly, without spikebridge.

Synapse counts per pair are the paper's Eq. 1, K = log(1 - C) / log(1 - 1 / (N_pre N_post)), at full scale; a
scaled network keeps every in-degree (``scale`` multiplies population sizes and these counts alike), so its rates
are those of the full network and no DC compensation is needed. Background input is Poisson, as in the reference
implementations (K_ext inputs at 8 Hz per cell, drawn by the simulator); ``microcircuit_dc`` gives each cell the
mean current of those inputs as ``i_offset`` instead (the reference's ``poisson_input = False``). The models run
1 s of warm-up, then the 1 s that ``compare`` measures (their last phase).
"""

from __future__ import annotations

import json
import math
import resource
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

POPULATIONS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
CONN_PROBS = np.array(  # target (row) x source (column)
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
BG_RATE = 8.0  # Hz, per external input
FULL_MEAN_RATES = np.array([0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523])
"""Full-scale mean rates (Hz) that PyNN's and NEST's Potjans2014 examples list; realisations differ."""

PSP_E = 0.15  # mV, mean excitatory PSP amplitude
PSP_REL_SD = 0.1
G = -4.0  # inhibitory / excitatory weight
DELAY_E, DELAY_I, DELAY_REL_SD = 1.5, 0.75, 0.5  # ms
NEURON = {"C_m": 250.0, "tau_m": 10.0, "tau_syn": 0.5, "t_ref": 2.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0}
V0_MEAN, V0_SD = -58.0, 10.0  # mV: initial membrane potentials, normal
DT = 0.1  # ms


def psc_per_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """Peak PSC (pA) that gives a 1 mV peak PSP in a current-based LIF with exponential synaptic current."""
    ratio = tau_m / tau_syn
    t_peak = tau_m * tau_syn / (tau_m - tau_syn) * math.log(ratio)
    psp_per_pa = tau_m * tau_syn / (C_m * (tau_m - tau_syn)) * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_syn))
    return 1.0 / psp_per_pa


W_E = PSP_E * psc_per_psp(NEURON["C_m"], NEURON["tau_m"], NEURON["tau_syn"])
"""Mean excitatory weight (pA): 87.8 pA for a 0.15 mV PSP."""


def weight_means() -> np.ndarray:
    """Mean weight (pA) per target x source: W_E from excitatory, G * W_E from inhibitory, L4E -> L2/3E doubled."""
    w = np.tile(np.array([W_E, G * W_E] * 4), (8, 1))
    w[0, 2] *= 2.0
    return w


def synapse_numbers(n: np.ndarray = N_FULL) -> np.ndarray:
    """Total synapses per target x source (Eq. 1 of the paper), at the sizes ``n``."""
    pairs = np.outer(n, n).astype(float)
    with np.errstate(divide="ignore"):
        k = np.log(1.0 - CONN_PROBS) / np.log(1.0 - 1.0 / pairs)
    return np.round(k).astype(np.int64)


def scaled(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Population sizes and synapse counts at ``scale`` with the in-degrees kept (as ``Model.scale`` does)."""
    n = np.maximum(1, np.round(N_FULL * scale)).astype(np.int64)
    k = np.round(synapse_numbers() * (n / N_FULL)[:, None]).astype(np.int64)
    return n, k


def dc_background() -> np.ndarray:
    """Mean background current (nA) per population: K_ext inputs at BG_RATE through W_E, times tau_syn."""
    return BG_RATE * K_EXT * W_E * NEURON["tau_syn"] * 1e-3 * 1e-3


def model_toml(background: str = "poisson") -> str:
    """The bundled model file: ``microcircuit`` (Poisson background) or ``microcircuit_dc`` (``background="dc"``)."""
    nr = NEURON
    params = (
        f"{{ cm = {nr['C_m'] / 1000:g}, tau_m = {nr['tau_m']:g}, tau_syn_E = {nr['tau_syn']:g}, "
        f"tau_syn_I = {nr['tau_syn']:g}, tau_refrac = {nr['t_ref']:g}, v_rest = {nr['E_L']:g}, "
        f"v_thresh = {nr['V_th']:g}, v_reset = {nr['V_reset']:g}, i_offset = {{}} }}"
    )
    bg = (
        "DC background equal to the mean of K_ext Poisson inputs at 8 Hz (i_offset; the same input on every backend)"
        if background == "dc"
        else "Poisson background of K_ext inputs at 8 Hz per cell (poisson_input: drawn by the simulator, seeded)"
    )
    out = [
        f'name = "microcircuit{"_dc" if background == "dc" else ""}"',
        'description = """Potjans & Diesmann (2014) cortical microcircuit: 77,169 IF_curr_exp cells in 8 populations '
        "of 4 layers, 0.3 billion synapses (fixed total number per pair, Eq. 1), normal weights (0.15 mV PSPs, "
        f"g = -4, L4E->L2/3E doubled) and delays (1.5 / 0.75 ms, 50 % s.d.), {bg}. 1 s warm-up, then the measured "
        '1 s. `--set scale=0.1` keeps every in-degree. Generated by benchmarks/_microcircuit.py."""',
        "",
    ]
    for pop, n, dc in zip(POPULATIONS, N_FULL, dc_background()):
        out += [
            f"[populations.{pop}]",
            'cell_type = "IF_curr_exp"',
            f"size = {n}",
            f"parameters = {params.replace('{}', f'{dc:.6g}' if background == 'dc' else '0.0')}",
            f'initial = {{ v = {{ distribution = "normal", mean = {V0_MEAN:g}, sd = {V0_SD:g} }} }}',
            "",
        ]
    k, w = synapse_numbers(), weight_means() / 1000.0
    for t, target in enumerate(POPULATIONS):
        for s, source in enumerate(POPULATIONS):
            if k[t, s] == 0:
                continue
            inh = s % 2 == 1
            mean, d = w[t, s], DELAY_I if inh else DELAY_E
            bounds = "[-1000.0, 0.0]" if inh else "[0.0, 1000.0]"
            out += [
                f"[projections.{source}_{target}]",
                f'pre = "{source}"',
                f'post = "{target}"',
                *(['receptor = "inhibitory"'] if inh else []),
                f'connector = {{ rule = "fixed_total_number", n = {k[t, s]}, allow_multapses = true }}',
                f'weight = {{ distribution = "normal", mean = {mean:.6g}, sd = {abs(mean) * PSP_REL_SD:.6g}, bounds = {bounds} }}',
                # no upper bound in the paper; 10 x the mean is 18 s.d. away, and keeps the delay buffers short
                f'delay = {{ distribution = "normal", mean = {d:g}, sd = {d * DELAY_REL_SD:g}, bounds = [{DT:g}, {10 * d:g}] }}',
                "",
            ]
    if background != "dc":
        for pop, k_ext in zip(POPULATIONS, K_EXT):
            out += [
                f"[stimuli.background_{pop}]",
                'kind = "poisson_input"',
                f'target = "{pop}"',
                f"n = {k_ext}",
                f"rate = {BG_RATE:g}",
                f"weight = {W_E / 1000.0:.6g}",
                "",
            ]
    for pop in POPULATIONS:
        out += [f"[recording.{pop}]", 'variables = ["spikes"]', ""]
    out += [
        "[simulation]",
        f"dt = {DT:g}",
        'phases = [{ name = "warmup", duration = 1000.0 }, { name = "run", duration = 1000.0 }]',
        "seed = 20140101",
        'backend = "nest"',
        "",
    ]
    return "\n".join(out)


def report(
    recorded: Iterable[tuple[str, int, np.ndarray, np.ndarray]], warmup: float, duration: float, out: str | None,
    synapses: int, stamps: dict[str, float],
) -> None:
    """The native scripts' common tail: per population (name, size, senders, times in ms) the measured rate after the
    warm-up; the spikes saved to ``out`` (npz); one JSON line of phase times (``stamps``: perf_counter values
    ``start``, ``imported``, ``built``, ``ran``), cells, synapses, peak memory and rates on stdout."""
    spikes: dict[str, Any] = {}
    rates, cells = {}, 0
    for name, size, senders, times in recorded:
        spikes[f"{name}_senders"], spikes[f"{name}_times"] = senders, times
        rates[name] = float((times > warmup).sum() / size / (duration / 1000.0))
        cells += size
    collected = time.perf_counter()
    if out:
        np.savez(out, **spikes)
    written = time.perf_counter()
    print(json.dumps({
        "cells": cells, "synapses": synapses,
        "import_s": stamps["imported"] - stamps["start"], "build_s": stamps["built"] - stamps["imported"],
        "run_s": stamps["ran"] - stamps["built"], "collect_s": collected - stamps["ran"], "write_s": written - collected,
        "total_s": written - stamps["start"], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rates": rates,
    }))  # fmt: skip


if __name__ == "__main__":
    import sys

    print(model_toml(*sys.argv[1:2]), end="")
