"""The model description: a pydantic schema, the same whether read from TOML/YAML or built in Python.

Units are PyNN's throughout: time in ms, voltage in mV, current in nA, conductance in uS,
capacitance in nF, rates in Hz. A quantity may also be written as a string with its unit
(``"20 ms"``, ``"4 nS"``); :func:`spikebridge.models.check.resolve` converts it to PyNN's unit
for that field and refuses a unit of the wrong dimension.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, PrivateAttr, model_validator

CELL_TYPES = (
    "IF_cond_exp",
    "IF_curr_exp",
    "IF_cond_alpha",
    "IF_curr_alpha",
    "EIF_cond_exp_isfa_ista",
    "Izhikevich",
    "SpikeSourcePoisson",
    "SpikeSourceArray",
)
SOURCE_TYPES = ("SpikeSourcePoisson", "SpikeSourceArray")

CellType = Literal[
    "IF_cond_exp",
    "IF_curr_exp",
    "IF_cond_alpha",
    "IF_curr_alpha",
    "EIF_cond_exp_isfa_ista",
    "Izhikevich",
    "SpikeSourcePoisson",
    "SpikeSourceArray",
]


def _quantity(value: Any) -> float | str:
    """A number, or a string holding a number and a unit (checked against the field later)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return _finite(value)
    if isinstance(value, str):
        parts = value.strip().split(maxsplit=1)
        try:
            number = float(parts[0])
        except (ValueError, IndexError):
            raise ValueError(f"expected a number or a quantity such as '20 ms', got {short(value)}") from None
        _finite(number)
        return value.strip() if len(parts) == 2 else number
    raise ValueError(f"expected a number, got {short(value)}")


def _finite(value: float) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {short(value)}")
    return number


def short(value: Any, limit: int = 40) -> str:
    """``repr`` of a value from a model file, cut to ``limit`` characters (a message quotes, never dumps, input).

    Parameters
    ----------
    value : object
        Any value; a table or a list is named, not shown.
    limit : int, optional
        Longest result, in characters.

    Returns
    -------
    str
        The ``repr``, or ``"a table"``/``"a list"``.

    Examples
    --------
    >>> short("4 nS"), short({"a": 1}), short("x" * 100, limit=10)
    ("'4 nS'", 'a table', "'xxxxxx...")
    """
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float(value: float | str | None) -> float:
    """The number of a field that :func:`~spikebridge.models.check.resolve` has checked and converted.

    In a resolved model every quantity is a float in PyNN's unit for its field, and every field its rule or
    distribution needs is set; this says so to the type checker.

    Parameters
    ----------
    value
        A resolved quantity (or a plain optional number, such as a connector's ``p``).

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    TypeError
        If the field is not set (``None``), as ``float(None)`` would.
    """
    if value is None:
        raise TypeError("expected a number, got None (a field of an unresolved model?)")
    return float(value)


Quantity = Annotated[float | str, PlainValidator(_quantity), PlainSerializer(lambda v: v)]


class Strict(BaseModel):
    """Base of every schema table: unknown fields, NaN and infinities are refused, and so are bad assignments."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Distribution(Strict):
    """A constant or a random distribution, drawn once per element in numpy.

    ``uniform(low, high)``, ``normal(mean, sd)``, ``lognormal(mu, sigma)`` (of the underlying normal, as
    numpy and PyNN define it). ``bounds = [low, high]`` keeps draws inside an interval, by redrawing
    (default) or clipping. A bare number or quantity (``0.004``, ``"4 nS"``) is a constant.

    Parameters
    ----------
    distribution : {"constant", "uniform", "normal", "lognormal"}
        The kind of draw.
    value : float or str, optional
        The constant, in the field's unit or with one (``"20 ms"``).
    low, high : float or str, optional
        Ends of a uniform distribution.
    mean, sd : float or str, optional
        Mean and standard deviation of a normal distribution.
    mu, sigma : float, optional
        Mean and standard deviation of the normal under a lognormal (dimensionless).
    bounds : tuple, optional
        ``(low, high)`` that every drawn value must lie in (field's unit).
    out_of_bounds : {"redraw", "clip"}
        What happens to a draw outside ``bounds``.

    Examples
    --------
    >>> Distribution.model_validate("4 nS").value, Distribution(distribution="uniform", low=5.0, high=20.0).high
    ('4 nS', 20.0)
    """

    distribution: Literal["constant", "uniform", "normal", "lognormal"] = "constant"
    value: Quantity | None = None
    low: Quantity | None = None
    high: Quantity | None = None
    mean: Quantity | None = None
    sd: Quantity | None = None
    mu: float | None = None
    sigma: float | None = None
    bounds: tuple[Quantity, Quantity] | None = None
    out_of_bounds: Literal["redraw", "clip"] = "redraw"

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, data: Any) -> Any:
        if isinstance(data, dict) or isinstance(data, Distribution):
            return data
        return {"distribution": "constant", "value": _quantity(data)}


Value = Distribution


class Population(Strict):
    """A group of cells of one PyNN standard type, or of a NESTML neuron of the model's ``[models]`` table.

    Give ``size`` or a grid ``shape`` (e.g. ``[64, 64]`` or ``[8, 128, 128]``: channels, rows, columns;
    the last two axes are spatial). ``spike_times`` (ms, one list per cell) is for ``SpikeSourceArray``.
    A NESTML neuron takes its ``parameters`` and ``initial`` values by their NESTML names, as numbers in NEST's
    units (ms, mV, pA, nS, pF); ``nestml`` is filled in when the model is resolved: the NESTML text that runs.

    Parameters
    ----------
    cell_type : str
        A PyNN standard cell type (``IF_cond_exp``, ``IF_curr_alpha``, ``SpikeSourcePoisson``, ...), or the name of
        a ``[models]`` entry that defines a NESTML neuron.
    size : int, optional
        Cells (give this or ``shape``).
    shape : list of int, optional
        A grid of 1 to 3 dimensions.
    parameters : dict of str to Distribution
        Cell parameters by PyNN name (``tau_m`` ms, ``v_thresh`` mV, ``cm`` nF, ``i_offset`` nA, ...); the
        others keep PyNN's defaults.
    initial : dict of str to Distribution
        Initial values of state variables (``v`` in mV).
    spike_times : list of list, optional
        Spike times (ms), one list per cell, for ``SpikeSourceArray``.
    """

    cell_type: Annotated[str, Field(min_length=1, max_length=128)]
    size: int | None = Field(default=None, gt=0)
    shape: list[Annotated[int, Field(gt=0)]] | None = None
    parameters: dict[str, Value] = {}
    initial: dict[str, Value] = {}
    spike_times: list[list[Quantity]] | None = None
    nestml: str | None = None


class Connector(Strict):
    """How pre and post cells are paired. Probabilities are per pair; ``radius`` is in post-grid units.

    Parameters
    ----------
    rule : str
        ``all_to_all``, ``one_to_one``, ``fixed_probability`` (``p``), ``fixed_indegree``/``fixed_outdegree``
        (``n``), ``fixed_total_number`` (``n`` connections in all, pre and post drawn uniformly, as NEST's rule
        of that name), ``distance_patch`` (``radius``, ``p``), ``from_list`` (``connections``) or ``from_file``
        (``file``).
    p : float, optional
        Probability of each pair (0-1).
    n : int, optional
        In- or out-degree, or the total number of connections.
    radius : float, optional
        Largest pre-post distance, in post-grid cells.
    allow_self_connections : bool
        Within one population, whether a cell may connect to itself.
    allow_multapses : bool
        Whether a pair may be connected more than once (fixed degrees and total number).
    connections : list of list of float, optional
        Rows of ``[pre, post]``, ``[pre, post, weight]`` or ``[pre, post, weight, delay]`` (uS or nA, ms).
    file : str, optional
        The same rows in a ``.csv``, ``.npy`` or ``.npz`` file, relative to the model file's folder.
    """

    rule: Literal[
        "all_to_all",
        "one_to_one",
        "fixed_probability",
        "fixed_indegree",
        "fixed_outdegree",
        "fixed_total_number",
        "distance_patch",
        "from_list",
        "from_file",
    ]
    p: float | None = Field(default=None, ge=0.0, le=1.0)
    n: int | None = Field(default=None, ge=0)
    radius: float | None = Field(default=None, gt=0.0)
    allow_self_connections: bool = True
    allow_multapses: bool = False
    connections: list[list[float]] | None = None
    file: str | None = None


class TimingRule(Strict):
    """Pair-based STDP: Δw+ = A_plus·exp(-Δt/tau_plus), Δw- = A_minus·exp(Δt/tau_minus) (scaled by the dependence)."""

    rule: Literal["spike_pair"] = "spike_pair"
    tau_plus: Quantity = 20.0
    tau_minus: Quantity = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01


class WeightDependence(Strict):
    """How the update scales with the current weight; ``w_min``/``w_max`` in the projection's weight unit."""

    rule: Literal["additive", "multiplicative", "additive_potentiation_multiplicative_depression", "gutig"] = (
        "additive"
    )
    w_min: Quantity = 0.0
    w_max: Quantity = 1.0
    mu_plus: float | None = None
    mu_minus: float | None = None


class Synapse(Strict):
    """Static, STDP with a timing rule and a weight dependence, or a plastic synapse written in NESTML.

    ``type`` is ``static``, ``stdp``, a bundled NESTML rule (``triplet_stdp``, ``saturating_stdp``: see
    ``spikebridge models``) or the name of an entry of the model's ``[models]`` table. A NESTML synapse takes its
    ``parameters`` by their NESTML names, as numbers in NEST's units (ms, mV, pA, nS). ``delay_semantics``:
    ``dendritic`` (NEST's convention: the whole delay sits on the dendrite, so the rule sees the pre spike when it
    arrives) or ``axonal``. ``nestml`` is filled in when the model is resolved: the NESTML text that runs.
    """

    type: Annotated[str, Field(min_length=1, max_length=128)] = "static"
    timing: TimingRule | None = None
    weight_dependence: WeightDependence | None = None
    delay_semantics: Literal["dendritic", "axonal"] = "dendritic"
    parameters: dict[str, float] = {}
    nestml: str | None = None


class NestmlModel(Strict):
    """A NESTML model for ``synapse.type`` or a population's ``cell_type``: a ``file`` (``.nestml``, relative to the
    model file's folder) or its ``text``."""

    file: str | None = None
    text: str | None = None


class WeightTie(Strict):
    """A static projection whose weights follow another projection's, transposed (EIANN's ``clone_weight`` with
    ``transpose``: symmetric feedback, B = scale * W^T).

    The tied projection's connection from cell a to cell b carries ``scale`` times the weight of the ``source``
    projection's connection from b to a, copied at t = 0 and every ``interval`` ms: its own ``weight`` is not
    used. Its pre population is the source's post population and its post population the source's pre; each of
    its connections has exactly one source connection the other way.

    Parameters
    ----------
    source : str
        The projection whose weights are followed.
    scale : float
        The factor (> 0).
    interval : float or str
        How often the weights are copied (ms, a whole number of time steps).
    """

    source: Annotated[str, Field(min_length=1, max_length=128)]
    scale: float = Field(default=1.0, gt=0.0)
    interval: Quantity


class Projection(Strict):
    """Connections from ``pre`` to ``post``; weight in uS (conductance cells) or nA (current cells), delay in ms.

    PyNN's sign convention holds: conductances are positive; inhibitory weights onto current-based cells are
    negative. ``receptor = "signed"`` lets one projection carry weights of both signs onto current-based cells
    whose ``tau_syn_E`` equals ``tau_syn_I`` (so a negative weight means the same on every simulator).
    ``label`` groups projections in figures (e.g. "FF", "E2E", "FB").

    ``delay`` (default: dt) must be >= dt; off-grid delays are rounded to the nearest step (halves up) with a
    warning: see :mod:`spikebridge.models.delays`.

    Parameters
    ----------
    pre, post : str
        Population names.
    label : str, optional
        A group name for figures.
    receptor : {"excitatory", "inhibitory", "signed"}
        The synapse type the weights act on.
    connector : Connector
        How cells are paired.
    weight : Distribution
        Weights (uS or nA).
    delay : Distribution, optional
        Delays (ms).
    synapse : Synapse
        Static, or STDP.
    tie : WeightTie, optional
        The weights follow another projection's, transposed (a static projection; ``weight`` is then not used).
    port : str, optional
        Onto a NESTML neuron: the spike input port the weights go to (default: the port declared, or named, for
        ``receptor``; the only port of a one-port neuron). The weights are numbers in NEST's unit of the port.
    """

    pre: str
    post: str
    label: str | None = None
    receptor: Literal["excitatory", "inhibitory", "signed"] = "excitatory"
    port: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    connector: Connector
    weight: Value
    delay: Value | None = None
    synapse: Synapse = Synapse()
    tie: WeightTie | None = None


class Window(Strict):
    """One window of a ``poisson`` stimulus: cells fire at ``rate`` (Hz) from ``start`` to ``stop`` (ms)."""

    start: Quantity
    stop: Quantity
    rate: Quantity


class Stimulus(Strict):
    """Input to a population.

    ``poisson``: spike trains drawn in numpy (rate in Hz, or ``windows`` of [start, stop, rate]) added to a
    spike-source population; with ``resample_every`` (ms) and ``active_fraction``, each such stretch has its
    own random subset of that fraction of the cells firing at ``rate`` while the others are silent;
    ``spike_array``: explicit times (ms) for a spike-source population; ``dc``: a
    constant current (nA) from ``start`` to ``stop``; ``step``: a piecewise-constant current with ``times``
    (ms) and ``amplitudes`` (nA); ``rate_schedule``: Poisson trains whose rate changes per window, read from
    ``file`` (``.npz`` relative to the model file's folder: ``times`` [n_windows + 1] ms and ``rates``
    [n_windows, n_cells] Hz); ``poisson_input``: background noise onto every cell of a neuron population, ``n``
    independent Poisson inputs at ``rate`` each through an excitatory ``weight`` (NEST's ``poisson_generator``,
    Brian2's ``PoissonInput``). It is the one input the simulator draws, seeded from the model's seed, because the
    trains (tens of kHz per cell) are too many to draw in numpy: two backends then see statistically equal, not
    identical, input.

    Parameters
    ----------
    kind : {"poisson", "spike_array", "dc", "step", "rate_schedule", "poisson_input"}
        The kind of input.
    target : str
        The population driven.
    cells : list of int, optional
        The driven cells (default: all).
    rate : float or str, optional
        Poisson rate (Hz).
    start, stop : float or str, optional
        When the input is on (ms).
    windows : list of Window, optional
        Poisson rates per window.
    resample_every : float or str, optional
        Length of each stretch with its own active subset (ms).
    active_fraction : float, optional
        Fraction of cells active in a stretch (0-1].
    spike_times : list of list, optional
        Spike times (ms), one list per cell.
    amplitude : float or str, optional
        A ``dc`` current (nA).
    times, amplitudes : list, optional
        A ``step`` current: change times (ms) and amplitudes (nA).
    file : str, optional
        A rate schedule (``.npz``).
    n : int, optional
        Inputs per cell of a ``poisson_input``.
    weight : float or str, optional
        Weight of each ``poisson_input`` spike (nA onto current-based cells, uS onto conductance-based ones).
    """

    kind: Literal["poisson", "spike_array", "dc", "step", "rate_schedule", "poisson_input"]
    target: str
    cells: list[int] | None = None
    rate: Quantity | None = None
    start: Quantity | None = None
    stop: Quantity | None = None
    windows: list[Window] | None = None
    resample_every: Quantity | None = None
    active_fraction: float | None = Field(default=None, gt=0.0, le=1.0)
    spike_times: list[list[Quantity]] | None = None
    amplitude: Quantity | None = None
    times: list[Quantity] | None = None
    amplitudes: list[Quantity] | None = None
    file: str | None = None
    n: int | None = Field(default=None, gt=0)
    weight: Quantity | None = None


class Record(Strict):
    """What to record from one population: variables, which cells (``all``, the first N, or indices).

    Parameters
    ----------
    variables : list of str
        ``spikes`` and any state variables of the cell type (``v`` in mV, ``gsyn_exc`` in uS, ...).
    cells : "all", int or list of int
        Which cells.
    sampling_interval : float or str, optional
        Interval of analog samples (ms; default: dt).
    """

    variables: list[str] = ["spikes"]
    cells: Literal["all"] | int | list[int] = "all"
    sampling_interval: Quantity | None = None


class WeightRecording(Strict):
    """Weight snapshots of plastic (or any) projections: every ``interval`` ms from t = 0, or only at the ``end``.

    Final weights and delays of every projection are always kept in the run directory, whatever this says.

    Parameters
    ----------
    projections : "all" or list of str
        Which projections.
    interval : float, str or "end"
        Time between snapshots (ms).
    """

    projections: Literal["all"] | list[str] = "all"
    interval: Quantity | Literal["end"] = "end"


class Phase(Strict):
    """A named stretch of simulated time; recordings of each phase land in their own Neo segment.

    Parameters
    ----------
    name : str
        The phase's (and its segment's) name.
    duration : float or str
        Its length (ms).
    plasticity : bool
        Whether STDP synapses learn during it.
    """

    name: str
    duration: Quantity
    plasticity: bool = True


class Simulation(Strict):
    """How the network is simulated: the step ``dt`` (ms), how long, the seed, and the backend to run it on.

    Give ``duration`` (ms: one phase called ``run``) or ``phases``, not both; a resolved model always has ``phases``.
    ``seed`` (0 to 2**32 - 1) determines every random array (:mod:`spikebridge.models.random`).
    ``backend`` and ``backend_options`` are the default for ``spikebridge run`` (the command line may choose
    another backend).

    Parameters
    ----------
    dt : float or str
        The time step (ms).
    duration : float or str, optional
        The run's length (ms), as one phase.
    phases : list of Phase, optional
        The run's phases, in order.
    seed : int
        The seed of every random draw.
    backend : str
        The default backend (``nest``, ``brian2``, ``brian2:cpp``, ...).
    backend_options : dict
        Options of that backend.
    """

    dt: Quantity = 0.1
    duration: Quantity | None = None
    phases: list[Phase] | None = None
    seed: int = Field(default=12345, ge=0, lt=2**32)
    backend: str = "nest"
    backend_options: dict[str, Any] = {}


NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
"""A model's name is a folder under ``runs/``: one safe path component, not hidden, not ``..``."""


def _safe_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(f"expected a name of letters, digits, '_', '.' and '-' (at most 128, not starting with '.'), got {short(value)}")
    return value


class Model(Strict):
    """A spiking network, described once for every backend.

    ``name`` becomes a folder name (``runs/NAME/...``): letters, digits, ``_ . -``, not starting with ``.``.

    Parameters
    ----------
    name : str
        The model's name.
    description : str
        One line about it.
    populations : dict of str to Population
        By name.
    projections : dict of str to Projection
        By name.
    stimuli : dict of str to Stimulus
        By name.
    recording : dict of str to Record
        What to record, by population name.
    record_weights : WeightRecording, optional
        Weight snapshots during the run.
    simulation : Simulation
        Step, duration or phases, seed and default backend.
    scale : float
        Network size relative to the file's (``--set scale=0.1``): sizes of cell populations (not of grids or
        spike sources) are multiplied by it and connections thinned so that every cell keeps its expected
        in-degree (:func:`spikebridge.models.check.rescale`). A resolved model has scale 1 and the scaled sizes.
    models : dict of str to NestmlModel
        NESTML models by name, for ``synapse.type`` or a population's ``cell_type`` (a resolved model carries their
        text in each synapse and population).
    """

    name: Annotated[str, AfterValidator(_safe_name)]
    _source: str | None = PrivateAttr(default=None)
    """The file the model was read from (not part of the model: it names the file in errors found later)."""
    _folder: Path | None = PrivateAttr(default=None)
    """The absolute folder that the model's relative data files are read from (see :attr:`source_folder`)."""

    def __eq__(self, other: object) -> bool:
        """Equal fields, wherever each model was read from (``_source`` and ``_folder`` are not part of the model)."""
        if not isinstance(other, Model):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    @property
    def source_folder(self) -> Path | None:
        """The folder of the file the model was loaded from, as an absolute path; ``None`` for a model built in Python.

        Relative data files (``from_file`` connectors, ``rate_schedule`` stimuli) are read from here. A model read
        back from a run directory has the folder of the model file the run was made from. Set it on a model built
        in Python whose files are relative to some folder.
        """
        return self._folder

    @source_folder.setter
    def source_folder(self, folder: str | os.PathLike[str] | None) -> None:
        self._folder = None if folder is None else Path(os.path.abspath(folder))
    description: str = ""
    populations: dict[str, Population]
    projections: dict[str, Projection] = {}
    stimuli: dict[str, Stimulus] = {}
    recording: dict[str, Record] = {}
    record_weights: WeightRecording | None = None
    simulation: Simulation = Simulation()
    scale: float = Field(default=1.0, gt=0.0, le=1.0e3)
    models: dict[str, NestmlModel] = {}
