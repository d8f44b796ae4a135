"""Weight figures of a run directory, as ``spikebridge plot weights`` draws them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..analysis.weights import projection_infos, snapshot_times, weight_evolution, weight_matrices
from ..errors import SpikebridgeError
from ..models.check import CONDUCTANCE_BASED
from ..rundir import Results
from .figures import save_figure
from .weights import HistStyle, draw_weight_panels, hist_weights, plot_weight_evolution, plot_weight_matrices, weight_panels


def guess_exc_inh(results: Results) -> tuple[str, str]:
    """The excitatory and inhibitory populations: those whose outgoing projections are all of one receptor.

    Parameters
    ----------
    results
        A run directory.

    Returns
    -------
    tuple[str, str]
        The excitatory and the inhibitory population.

    Raises
    ------
    SpikebridgeError
        Unless exactly one population of each kind sends projections.
    """
    outgoing: dict[str, set[str]] = {}
    for prj in results.model.projections.values():
        if results.model.populations[prj.pre].cell_type not in ("SpikeSourcePoisson", "SpikeSourceArray"):
            outgoing.setdefault(prj.pre, set()).add(prj.receptor)
    exc = [p for p, r in outgoing.items() if r == {"excitatory"}]
    inh = [p for p, r in outgoing.items() if r == {"inhibitory"}]
    if len(exc) != 1 or len(inh) != 1:
        raise SpikebridgeError(
            f"cannot tell the excitatory and inhibitory populations apart (candidates: exc {exc}, inh {inh}); "
            "name them with --exc and --inh"
        )
    return exc[0], inh[0]


def _units(results: Results, population: str) -> str:
    return "uS" if CONDUCTANCE_BASED.get(results.model.populations[population].cell_type, False) else "nA"


def plastic_projections(results: Results) -> list[str]:
    """The projections whose weights a histogram draws: the plastic ones, or every one where none is plastic.

    Parameters
    ----------
    results
        A run directory.

    Returns
    -------
    list[str]
        Projection names.
    """
    plastic = [n for n, p in results.model.projections.items() if p.synapse.type != "static"]
    return plastic or list(results.model.projections)


def check_arguments(results: Results, kind: str, exc: str | None, inh: str | None, bins: int) -> None:
    """Refuse, naming what exists, a kind, population or bin count that :func:`plot_run_weights` cannot draw.

    Parameters
    ----------
    results, kind, exc, inh, bins
        As :func:`plot_run_weights` takes them.

    Raises
    ------
    SpikebridgeError
        For an unknown kind or population, ``exc == inh``, ``bins < 1``, or a run without projections.
    """
    if kind not in ("matrix", "hist", "evolution"):
        raise SpikebridgeError(f"unknown kind {kind!r}; expected matrix, hist or evolution")
    populations = list(results.model.populations)
    for flag, name in (("--exc", exc), ("--inh", inh)):
        if name is not None and name not in populations:
            raise SpikebridgeError(f"{flag} {name!r}: no population {name!r} in {results.path} (populations: {', '.join(populations)})")
    if exc is not None and exc == inh:
        raise SpikebridgeError(f"--exc and --inh name the same population {exc!r}; name two different ones")
    if bins < 1:
        raise SpikebridgeError(f"--bins must be >= 1, got {bins}")
    if kind != "matrix" and not results.model.projections:
        raise SpikebridgeError(f"{results.path} has no projections: no weights to draw")


def plot_run_weights(results: Results, kind: str, exc: str | None = None, inh: str | None = None, bins: int = 80) -> list[Path]:
    """Draw one kind of weight figure into ``RUN_DIR/figures/weights_<kind>.png/.pdf``.

    ``matrix``: the four E/I weight matrices (:func:`~spikebridge.plotting.weights.plot_weight_matrices`) at the
    last snapshot; ``hist``: the weight histograms of the plastic projections (every projection if none is
    plastic) by post population and label (:func:`~spikebridge.plotting.weights.hist_weights`) at the last
    snapshot, the first one outlined when there are several; ``evolution``: their mean and percentiles over time
    (:func:`~spikebridge.plotting.weights.plot_weight_evolution`). Weights in uS (conductance-based cells) or nA.

    Parameters
    ----------
    results
        A run directory with recorded weights.
    kind
        ``"matrix"``, ``"hist"`` or ``"evolution"``.
    exc, inh
        The excitatory and inhibitory populations of ``matrix`` (default: :func:`guess_exc_inh`).
    bins
        Bins per histogram panel.

    Returns
    -------
    list[Path]
        The PNG and the PDF written.

    Raises
    ------
    SpikebridgeError
        See :func:`check_arguments` and :func:`guess_exc_inh`.
    """
    check_arguments(results, kind, exc, inh, bins)

    title = f"{results.meta['model']} on {results.meta['backend']}"
    out = results.path / "figures" / f"weights_{kind}"
    if kind == "matrix":
        if exc is None or inh is None:
            guessed = guess_exc_inh(results)
            exc, inh = exc or guessed[0], inh or guessed[1]
            if exc == inh:
                raise SpikebridgeError(f"--exc and --inh would both be {exc!r} (one given, the other guessed); name both")
        mats = weight_matrices(results, exc, inh)
        fig = plot_weight_matrices(mats, title=f"Weight matrices: {title}", units=_units(results, exc), pops=(exc, inh))
        return save_figure(fig, out)
    infos = projection_infos(results)
    names = plastic_projections(results)
    table = results.weights(projection=names)
    units = _units(results, results.model.projections[names[0]].post)
    if kind == "hist":
        labels = list(dict.fromkeys(infos[n].label or n for n in names))
        times = sorted(set(table.columns.get_level_values("t").astype(float)))
        before = table if len(times) > 1 else None
        axes = hist_weights(
            table,
            labels,
            {n: infos[n] for n in names},
            bins=bins,
            before=before,
            before_t=times[0] if before is not None else None,
            units=units,
            title=f"Weights at t = {times[-1]:g} ms: {title}",
            style=HistStyle(sharex=False),  # projection classes have their own bounds (FF vs lateral vs feedback)
        )
        return save_figure(axes.flat[0].figure, out)
    if kind == "evolution":
        fig = plot_weight_evolution(
            weight_evolution(table), infos={n: infos[n] for n in names}, units=units, title=f"Weight evolution: {title}"
        )
        return save_figure(fig, out)
    raise SpikebridgeError(f"unknown kind {kind!r}; expected matrix, hist or evolution")


def plot_pooled_hist(
    after: Sequence[Results],
    before: Sequence[Results],
    out: Path,
    *,
    normalise: bool = False,
    bins: int = 80,
    row_ylim: Sequence[float | None] | None = None,
) -> list[Path]:
    """The weight histograms of several runs of one model pooled, as trials (seeds) are pooled in the seed's figure.

    Rows are the post populations of the plastic projections, columns their labels (FF, E2E, FB, ...). The
    ``after`` runs' last snapshots are filled, the ``before`` runs' first snapshots outlined (with one run and
    no ``before``, its first snapshot when it has several), and each panel says whether its weights turned
    bimodal against its own pre-training value (:func:`~spikebridge.plotting.weights.bimodal`).

    Parameters
    ----------
    after
        Runs after training, one per trial; they share a model's projections.
    before
        Runs whose first snapshot holds the weights before training (e.g. the untrained network's), or empty.
    out
        The figure's path without suffix; PNG and PDF are written.
    normalise
        Weights as fractions of their projection's ``w_max`` (densities then in 1/w_max).
    bins
        Bins per panel.
    row_ylim
        Upper y limit per row (``None`` entries leave a row's).

    Returns
    -------
    list[Path]
        The PNG and the PDF written.

    Raises
    ------
    SpikebridgeError
        For runs without projections, runs of different projections, ``bins < 1``, or ``normalise`` where a
        plastic projection has no upper bound.
    """
    if not after:
        raise SpikebridgeError("no run to draw")
    first = after[0]
    check_arguments(first, "hist", None, None, bins)
    names = plastic_projections(first)
    for res in [*after[1:], *before]:
        missing = [n for n in names if n not in res.model.projections]
        if missing:
            raise SpikebridgeError(f"{res.path} has no projection {', '.join(missing)} of {first.path}: pool runs of one model")
    every = projection_infos(first)
    infos = {n: every[n] for n in names}
    if normalise:
        unbounded = [n for n, i in infos.items() if not i.w_max]
        if unbounded:
            raise SpikebridgeError(f"--normalise: projection {', '.join(unbounded)} has no upper weight bound (w_max) to divide by")
    tables = [r.weights(projection=names) for r in after]
    befores = [r.weights(projection=names) for r in before]
    if not befores and len(after) == 1 and len(snapshot_times(tables[0])) > 1:
        befores = tables
    labels = list(dict.fromkeys(infos[n].label or n for n in names))
    units = "w / w_max" if normalise else _units(first, first.model.projections[names[0]].post)
    grid = weight_panels(tables, labels, infos, before=befores or None, bins=bins, normalise=normalise)
    backends = sorted({str(r.meta["backend"]) for r in after})
    trials = f"{len(after)} trial{'s' if len(after) > 1 else ''} pooled"
    title = f"Weights after training: {first.meta['model']} on {', '.join(backends)} ({trials})"
    # separate "before" runs are untrained networks (a workflow's), not an earlier snapshot of the trained run
    legend = ("trained", "untrained") if before else None
    axes = draw_weight_panels(grid, units=units, title=title, style=HistStyle(sharex=normalise, row_ylim=row_ylim), legend=legend)
    return save_figure(axes.flat[0].figure, out)
