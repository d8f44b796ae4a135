"""``spikebridge check``: validate a model, draw its network and check its backend options, without simulating."""

from __future__ import annotations

import argparse
import sys

from .args import add_model, add_overrides, add_seed, model_overrides


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("check", help="validate a model (and draw its network) without simulating")
    add_model(p, help=None)
    add_overrides(p, help=None)
    add_seed(p, help=None)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the model and instantiate its network; print its size; return 0.

    A backend that is not installed here leaves its options unchecked, with a note on stderr: the model is still
    valid, it just cannot run on this machine.
    """
    from .. import backends
    from ..errors import BackendError, BackendNotInstalledError
    from ..models import instantiate
    from ..models.io import load_model

    model = load_model(args.model, model_overrides(args))
    network = instantiate(model, model.source_folder)
    sim = model.simulation
    field = "simulation.backend"
    try:  # errors name the file and the field, as the schema's do
        backends.backend_class(sim.backend)
        field = "simulation.backend_options"
        backends.check(sim.backend, sim.backend_options)  # threads=abc
    except BackendNotInstalledError as err:
        print(f"spikebridge: note: backend options not checked: {err}", file=sys.stderr)
    except BackendError as err:
        raise BackendError(f"{args.model}: {field}: {err}") from None
    print(
        f"{args.model}: valid: {len(model.populations)} populations ({network.n_cells} cells), "
        f"{len(model.projections)} projections ({network.n_synapses} synapses), {network.duration:g} ms, seed {network.seed}"
    )
    return 0
