"""The ``spikebridge`` command. Every error ends with one line on stderr and an exit code from one table
(docs/exit_codes.md): 0 ok, 1 verdict failed or inconclusive, 2 bad input, 3 internal or simulator failure,
130 interrupted."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..errors import BackendNotInstalledError, ExecutionError, ModelWarning, SpikebridgeError, one_line

EXIT_OK, EXIT_VERDICT, EXIT_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = """exit codes: 0 ok (verdict passed), 1 verdict failed or inconclusive (compare), 2 bad input (one line naming it;
argparse errors too), 3 internal error or simulator failure (one line; the traceback goes to a log file it names),
130 interrupted. See docs/exit_codes.md."""


def _overrides(args: argparse.Namespace) -> list[str]:
    sets = list(args.set or [])
    if getattr(args, "seed", None) is not None:
        sets.append(f"simulation.seed={args.seed}")
    return sets


def cmd_run(args: argparse.Namespace) -> int:
    from ..models.io import find_model_file, load_model
    from ..workflows.run import run

    model = load_model(args.model, _overrides(args))
    options = {}
    if args.threads is not None:
        options["threads"] = args.threads
    results = run(
        model,
        backend=args.backend,
        out=args.out,
        options=options,
        overwrite=args.overwrite,
        progress=not args.quiet,
        figure=not args.no_figure,
        base=find_model_file(args.model).parent,
        restore=args.restore,
    )
    from ..analysis.activity import firing_stats

    t = results.meta["timings"]
    print(f"run directory: {results.path}")
    print(
        f"{results.meta['cells']} cells, {results.meta['synapses']} synapses on {results.meta['backend']}: "
        f"build {t['build_s']:.2f} s, run {t['run_s']:.2f} s, write {t['write_s']:.2f} s"
    )
    stats = firing_stats(results, results.phases[-1])
    if not stats.empty:
        print(stats.round(3).to_string())
    if not args.no_figure:
        print(f"figure: {results.path / 'figures' / 'summary.png'}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ..models.io import bundled_models, read_raw

    for name, path in bundled_models().items():
        first = str(read_raw(path).get("description", "")).strip().splitlines()
        print(f"{name:24s} {first[0] if first else ''}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .. import backends
    from ..models import instantiate
    from ..models.io import find_model_file, load_model

    model = load_model(args.model, _overrides(args))
    network = instantiate(model, find_model_file(args.model).parent)
    try:
        backends.create(model.simulation.backend, model.simulation.backend_options)  # its options (threads=abc), nothing built
    except BackendNotInstalledError as err:  # the model is still valid; it just cannot run on this machine
        print(f"spikebridge: note: backend options not checked: {err}", file=sys.stderr)
    print(f"{args.model}: valid: {len(model.populations)} populations ({network.n_cells} cells), {len(model.projections)} projections ({network.n_synapses} synapses), {network.duration:g} ms, seed {network.seed}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..rundir import load

    results = load(args.run_dir)
    if args.json:
        print(json.dumps(results.meta, indent=2))
        return 0
    m = results.meta
    print(f"{results.path}\n  model {m['model']} on {m['backend']}, seed {m['seed']}, {m['duration_ms']:g} ms in phases {[p['name'] for p in m['phases']]}")
    print(f"  {m['cells']} cells, {m['synapses']} synapses; created {m['created']} on {m['host']['hostname']}")
    print("  timings: " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings"].items()))
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v))
    for cell, method in m["backend_info"].get("integration", {}).items():
        print(f"  integration {cell}: {method}")
    return 0


def cmd_plot_weights(args: argparse.Namespace) -> int:
    from ..plotting.run_weights import plot_run_weights
    from ..rundir import load
    from ..rundir.outputs import register

    paths = plot_run_weights(load(args.run_dir), args.kind, exc=args.exc, inh=args.inh, bins=args.bins)
    register(args.run_dir, paths)
    for path in paths:
        print(path)
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    from ..workflows.inference import format_final, parse_parameters, run_inference

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
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
    from ..rundir.outputs import register

    register(args.run_dir, written)
    print(f"wrote {len(written)} files to {written[0].parent}")
    return 0


def _percentages(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated percentages such as 0,5,10,20, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="spikebridge",
        description="Describe a spiking network once; run it on NEST or Brian2.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a model and write a run directory")
    r.add_argument("model", help="a model file (.toml/.yaml) or the name of a bundled model")
    r.add_argument("--backend", help="backend name (default: the model's simulation.backend), e.g. nest")
    r.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a model field, e.g. simulation.duration=500")
    r.add_argument("--seed", type=int, help="override simulation.seed")
    r.add_argument("--out", type=Path, help="run directory to create (default: runs/MODEL/BACKEND_seedN_TIME)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing run directory (atomically)")
    r.add_argument("--threads", type=int, help="simulator threads")
    r.add_argument("--no-figure", action="store_true", help="skip the summary figure")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--restore", type=Path, metavar="RUN_DIR", help="start from the final weights and delays of a run (any backend)")
    r.set_defaults(func=cmd_run)

    m = sub.add_parser("models", help="list the bundled models")
    m.set_defaults(func=cmd_models)

    c = sub.add_parser("check", help="validate a model (and draw its network) without simulating")
    c.add_argument("model")
    c.add_argument("--set", action="append", metavar="PATH=VALUE")
    c.add_argument("--seed", type=int)
    c.set_defaults(func=cmd_check)

    i = sub.add_parser("info", help="describe a run directory")
    i.add_argument("run_dir", type=Path)
    i.add_argument("--json", action="store_true", help="print the whole meta.json")
    i.set_defaults(func=cmd_info)
    inf = sub.add_parser("infer", help="infer a projection's weights from recorded activity (Akrout, RDD, STDWI)")
    inf.add_argument("run_dir", type=Path)
    inf.add_argument("--methods", default="akrout,rdd,stdwi")
    inf.add_argument("--noise", type=_percentages, default=[0.0], help="spike-noise levels in percent, e.g. 0,5,10,20")
    inf.add_argument("--pre", default="inputs")
    inf.add_argument("--post", default="outputs")
    inf.add_argument("--projection", default="inputs_outputs")
    inf.add_argument("--seed", type=int, default=0, help="seed of the spike noise")
    inf.add_argument("--check-every", type=float, default=1000.0, help="ms between scored estimates")
    inf.add_argument("--param", action="append", metavar="METHOD.NAME=VALUE", help="e.g. stdwi.tau_slow=100")
    inf.add_argument("--phase")
    inf.add_argument("--out", type=Path, help="default RUN_DIR/inference")
    inf.set_defaults(func=cmd_infer)

    pl = sub.add_parser("plot", help="figures of a run directory (PNG and PDF in RUN_DIR/figures)")
    plot_sub = pl.add_subparsers(dest="what", required=True)
    pw = plot_sub.add_parser("weights", help="weight matrices, layered weight histograms, or weight evolution")
    pw.add_argument("run_dir", type=Path)
    pw.add_argument("--kind", choices=["matrix", "hist", "evolution"], default="matrix")
    pw.add_argument("--exc", help="excitatory population for --kind matrix (default: guessed from the names)")
    pw.add_argument("--inh", help="inhibitory population for --kind matrix")
    pw.add_argument("--bins", type=int, default=80, help="histogram bins for --kind hist")
    pw.set_defaults(func=cmd_plot_weights)

    from .compare import add_parser as add_compare_parser

    add_compare_parser(sub)
    from .sweep import add_parser as add_sweep_parser

    add_sweep_parser(sub)
    from .rules import add_parser as add_rules_parser

    add_rules_parser(sub)
    from .selectivity import add_parser as add_selectivity_parser

    add_selectivity_parser(sub)
    from .migrate import add_parser as add_migrate_parser

    add_migrate_parser(sub)
    return p


def silence_stdout() -> None:
    """Point stdout at /dev/null after a broken pipe, so the interpreter's final flush cannot fail again.

    As the CPython documentation of ``signal`` recommends for ``BrokenPipeError``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured by a test)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    finally:
        os.close(devnull)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def crash_log(err: BaseException) -> Path:
    """Write ``err``'s traceback to a new file under ~/.cache/spikebridge/errors (else the temp folder); return it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    text = f"spikebridge {' '.join(sys.argv[1:])}\n{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n\n" + "".join(traceback.format_exception(err))
    for folder in (cache / "spikebridge" / "errors", Path(tempfile.gettempdir()) / "spikebridge-errors"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), suffix=".log", dir=folder)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return Path(os.devnull)


def _dispatch(argv: Sequence[str] | None) -> int:
    """Parse and run one command, mapping every exception to its exit code and one line on stderr."""
    try:
        args = parser().parse_args(argv)
        return int(args.func(args))
    except BrokenPipeError:  # the reader went away (``spikebridge info --json | head -1``): not an error of ours
        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("spikebridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ExecutionError as err:
        print(f"spikebridge: failed: {one_line(err)}", file=sys.stderr)
        return EXIT_FAILURE
    except SpikebridgeError as err:
        print(f"spikebridge: error: {one_line(err)}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as err:
        path = crash_log(err)
        print(f"spikebridge: internal error: {type(err).__name__}: {one_line(err)} (details: {path})", file=sys.stderr)
        return EXIT_FAILURE


def _show_model_warnings(default: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints a :class:`ModelWarning` as one ``spikebridge: warning:`` line."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
        if issubclass(category, ModelWarning):
            print(f"spikebridge: warning: {filename}: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spikebridge ARGS``; return the exit code (argparse's own errors and --help raise ``SystemExit``)."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_model_warnings(warnings.showwarning)
            code = _dispatch(argv)
    except SystemExit:
        _flush_stdout()
        raise
    _flush_stdout()
    return code


if __name__ == "__main__":
    sys.exit(main())
