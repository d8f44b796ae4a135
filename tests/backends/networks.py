"""Small networks shared by the backend tests (their Brian2 standalone builds are cached by structure)."""

from __future__ import annotations

import copy
from typing import Any

from ..models.test_schema_errors import BASE

STDP_RAW: dict[str, Any] = {
    "name": "stdp_small",
    "populations": {
        "inputs": {"cell_type": "SpikeSourcePoisson", "size": 50, "parameters": {"rate": 30.0}},
        "post": {"cell_type": "IF_cond_exp", "size": 2, "parameters": {"tau_refrac": 2.0}},
    },
    "projections": {
        "ff": {
            "pre": "inputs",
            "post": "post",
            "connector": {"rule": "all_to_all"},
            "weight": {"distribution": "uniform", "low": 0.002, "high": 0.006},
            "delay": {"distribution": "uniform", "low": 0.5, "high": 3.0},
            "synapse": {
                "type": "stdp",
                "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.05},
                "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.01},
            },
        }
    },
    "recording": {"post": {"variables": ["spikes"]}},
    "simulation": {
        "dt": 0.1,
        "phases": [{"name": "train", "duration": 500.0}, {"name": "test", "duration": 500.0, "plasticity": False}],
        "seed": 3,
    },
}
"""Poisson inputs onto two cells through additive STDP: a plastic phase, then a frozen one."""


def stdp_three_phases() -> dict[str, Any]:
    """:data:`STDP_RAW` with a third, plastic phase."""
    raw = copy.deepcopy(STDP_RAW)
    raw["simulation"]["phases"] = [
        {"name": "train", "duration": 500.0},
        {"name": "test", "duration": 500.0, "plasticity": False},
        {"name": "more", "duration": 500.0},
    ]
    return raw


def stdp_with_snapshots() -> dict[str, Any]:
    """:data:`STDP_RAW` with weights recorded every 100 ms (as ``tests/test_weights_run.py`` runs it)."""
    raw = copy.deepcopy(STDP_RAW)
    raw["record_weights"] = {"projections": ["ff"], "interval": 100.0}
    return raw


def mixed_projections() -> dict[str, Any]:
    """``BASE`` with random delays, an inhibitory projection and negative weights onto current-based cells."""
    raw = copy.deepcopy(BASE)
    raw["projections"]["exc_exc"]["delay"] = {"distribution": "uniform", "low": 0.1, "high": 4.0}
    raw["projections"]["src_exc"]["delay"] = {"distribution": "uniform", "low": 0.1, "high": 2.0}
    raw["projections"]["inh"] = {
        "pre": "exc",
        "post": "exc",
        "receptor": "inhibitory",
        "connector": {"rule": "fixed_indegree", "n": 3},
        "weight": 0.05,
    }
    raw["projections"]["grid"] = {
        "pre": "src",
        "post": "grid",
        "receptor": "inhibitory",
        "connector": {"rule": "all_to_all"},
        "weight": -0.1,
        "delay": 0.5,
    }
    return raw


def step_current() -> dict[str, Any]:
    """``BASE`` without projections; a step current drives cells 0 and 1 of ``exc`` from 20 to 60 ms."""
    raw = copy.deepcopy(BASE)
    raw["projections"] = {}
    raw["stimuli"] = {"step": {"kind": "step", "target": "exc", "cells": [0, 1], "times": [20.0, 60.0], "amplitudes": [2.0, 0.0]}}
    return raw


SMALL_COBA = [
    "simulation.duration=300",
    "populations.exc.size=800",
    "populations.inh.size=200",
    "projections.exc_exc.connector.p=0.08",
    "projections.exc_inh.connector.p=0.08",
    "projections.inh_exc.connector.p=0.08",
    "projections.inh_inh.connector.p=0.08",
]
"""Overrides of ``vogels_abbott_coba``: 1,000 cells for 300 ms."""
