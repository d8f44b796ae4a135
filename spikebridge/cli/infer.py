"""``spikebridge infer``: infer a projection's weights from a run's recorded activity (Akrout, RDD, STDWI)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .args import add_out, add_seed, comma_list, split_list

percentages = comma_list(float, "comma-separated percentages such as 0,5,10,20")
"""An argparse ``type``: spike-noise levels in percent (``0,5,10,20``)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``infer`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("infer", help="infer a projection's weights from recorded activity (Akrout, RDD, STDWI)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--methods", default="akrout,rdd,stdwi")
    p.add_argument("--noise", type=percentages, default=[0.0], help="spike-noise levels in percent, e.g. 0,5,10,20")
    p.add_argument("--pre", default="inputs")
    p.add_argument("--post", default="outputs")
    p.add_argument("--projection", default="inputs_outputs")
    add_seed(p, help="seed of the spike noise", default=0)
    p.add_argument("--check-every", type=float, default=1000.0, help="ms between scored estimates")
    p.add_argument("--param", action="append", metavar="METHOD.NAME=VALUE", help="e.g. stdwi.tau_slow=100")
    p.add_argument("--phase")
    add_out(p, help="default RUN_DIR/inference")
    p.set_defaults(func=cmd_infer)


def cmd_infer(args: argparse.Namespace) -> int:
    """Run each method at each noise level, print the final scores and write the tables and figures; return 0."""
    from ..errors import SpikebridgeError
    from ..rundir.outputs import register as register_outputs
    from ..workflows.inference import format_final, parse_parameters, run_inference

    methods = split_list(args.methods, str)
    if not methods:
        raise SpikebridgeError(f"--methods {args.methods!r}: expected comma-separated methods, e.g. akrout,rdd,stdwi")
    outcome, written = run_inference(
        args.run_dir,
        methods,
        noise_percent=args.noise,
        pre=args.pre,
        post=args.post,
        projection=args.projection,
        seed=args.seed,
        check_every=args.check_every,
        params=parse_parameters(args.param or []),
        phase=args.phase,
        out_dir=args.out,
    )
    print(format_final(outcome))
    register_outputs(args.run_dir, written)
    print(f"wrote {len(written)} files to {written[0].parent}")
    return 0
