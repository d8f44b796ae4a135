"""What the workflow presents and how: presentation timing, epochs, repetitions, image size; and which
populations form the layers of a model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import SpikebridgeError
from ...models.schema import SOURCE_TYPES, Model

LAYER_NAME = re.compile(r"^L(?P<k>\d+)_(?P<cls>exc|inh)$")


class WorkflowError(SpikebridgeError):
    """A selectivity workflow cannot run as asked (model layout, missing checkpoint, bad settings)."""


@dataclass(frozen=True)
class Protocol:
    """Presentation protocol. Times in ms.

    Each image is shown for ``present_ms`` then followed by ``gap_ms`` of silent input; training shows every
    image once per epoch (in a seeded random order) with plasticity on; testing shows every image ``reps``
    times with weights frozen. Images are resized to ``image_size`` (the input grid) before noise and encoding.

    Parameters
    ----------
    present_ms : float, optional
        How long each image is shown (ms, > 0).
    gap_ms : float, optional
        Silent input after each image (ms, >= 0).
    epochs : int, optional
        Training epochs.
    reps : int, optional
        Presentations of each image when testing.
    image_size : int, optional
        Side of the input grid (pixels).
    epochs_per_run : int, optional
        Training epochs simulated in one run (one checkpoint): fewer, longer runs build the network fewer times.
        The seed's training runs 6 iterations of 10 epochs.

    Raises
    ------
    WorkflowError
        If a duration or count is out of range.

    Examples
    --------
    >>> Protocol(present_ms=100.0, gap_ms=20.0).slot_ms
    120.0
    """

    present_ms: float = 200.0
    gap_ms: float = 50.0
    epochs: int = 3
    reps: int = 3
    image_size: int = 16
    epochs_per_run: int = 1

    def __post_init__(self) -> None:
        if self.present_ms <= 0 or self.gap_ms < 0:
            raise WorkflowError(f"present_ms must be > 0 and gap_ms >= 0, got {self.present_ms} and {self.gap_ms}")
        if self.epochs < 1 or self.reps < 1 or self.image_size < 1 or self.epochs_per_run < 1:
            got = f"{self.epochs}, {self.reps}, {self.image_size}, {self.epochs_per_run}"
            raise WorkflowError(f"epochs, reps, image_size and epochs_per_run must be >= 1, got {got}")

    @property
    def runs(self) -> list[range]:
        """The training epochs of each training run, in order: ``epochs_per_run`` at a time, the last run the rest.

        Examples
        --------
        >>> Protocol(epochs=5, epochs_per_run=2).runs
        [range(0, 2), range(2, 4), range(4, 5)]
        """
        k = self.epochs_per_run
        return [range(start, min(start + k, self.epochs)) for start in range(0, self.epochs, k)]

    @property
    def slot_ms(self) -> float:
        """Time from one image's onset to the next (ms): ``present_ms + gap_ms``."""
        return self.present_ms + self.gap_ms


@dataclass(frozen=True)
class Layers:
    """Population names by layer: ``input`` is layer 0 (a spike source with a ``[channels, rows, cols]`` grid),
    ``exc[k]``/``inh[k]`` are layer k >= 1 (``inh`` may lack a layer).

    Parameters
    ----------
    input : str
        The input population (layer 0).
    exc, inh : dict of int to str
        Excitatory and inhibitory populations by layer.

    Examples
    --------
    >>> from spikebridge.models import load_model
    >>> layers = Layers.of(load_model("feature_selectivity"))
    >>> layers.indices, layers.last, layers.population(1, "INH"), layers.population(0, "INH")
    ([0, 1, 2], 2, 'L1_inh', None)
    """

    input: str
    exc: dict[int, str]
    inh: dict[int, str]

    @property
    def indices(self) -> list[int]:
        """Every layer, input (0) included, in order."""
        return [0, *sorted(self.exc)]

    @property
    def last(self) -> int:
        """The highest layer."""
        return max(self.exc)

    def population(self, layer: int, nrn_cls: str) -> str | None:
        """The population of one class of cells in one layer.

        Parameters
        ----------
        layer : int
            0 (input) to :attr:`last`.
        nrn_cls : str
            ``"EXC"`` or ``"INH"``.

        Returns
        -------
        str or None
            Its name; None where the layer has no such cells (layer 0 has no inhibitory ones).
        """
        if layer == 0:
            return self.input if nrn_cls == "EXC" else None
        return (self.exc if nrn_cls == "EXC" else self.inh).get(layer)

    @classmethod
    def of(cls, model: Model) -> Layers:
        """Layers named ``L0`` (input), ``L1_exc``, ``L1_inh``, ``L2_exc``, ... in ``model``.

        Parameters
        ----------
        model : Model
            A model with that layout.

        Returns
        -------
        Layers
            The populations by layer.

        Raises
        ------
        WorkflowError
            If ``L0`` is missing, not a spike source or not a 3-D grid, or the excitatory layers are not
            numbered 1, 2, ... without gaps.
        """
        exc: dict[int, str] = {}
        inh: dict[int, str] = {}
        for name in model.populations:
            m = LAYER_NAME.match(name)
            if m:
                (exc if m["cls"] == "exc" else inh)[int(m["k"])] = name
        if "L0" not in model.populations or model.populations["L0"].cell_type not in SOURCE_TYPES:
            raise WorkflowError(f"model {model.name!r}: the workflow needs a spike-source input population named 'L0'")
        if not exc or sorted(exc) != list(range(1, len(exc) + 1)):
            raise WorkflowError(
                f"model {model.name!r}: expected excitatory populations L1_exc, L2_exc, ... (found {sorted(exc.values()) or 'none'})"
            )
        shape = model.populations["L0"].shape
        if shape is None or len(shape) != 3:
            raise WorkflowError(f"model {model.name!r}: populations.L0 needs shape = [channels, rows, cols], got {shape}")
        return cls("L0", exc, inh)


def input_size(model: str, overrides: tuple[str, ...] = ()) -> int:
    """The side of a layered model's input grid: the last axis of ``L0``'s ``[channels, rows, cols]`` shape.

    Parameters
    ----------
    model
        A model file or bundled model name.
    overrides
        ``--set`` strings applied first.

    Returns
    -------
    int
        ``cols`` of ``populations.L0.shape``; images are resized to it.

    Raises
    ------
    WorkflowError
        If the model does not have the layout of :meth:`Layers.of`, or its input grid is not square.

    Examples
    --------
    >>> input_size("feature_selectivity")
    16
    """
    from ...models.io import load_model

    m = load_model(model, overrides)
    shape = m.populations[Layers.of(m).input].shape
    assert shape is not None  # Layers.of checked it is [channels, rows, cols]
    if shape[-1] != shape[-2]:
        raise WorkflowError(f"model {m.name!r}: populations.L0.shape {shape} is not square; images are resized to a square grid")
    return int(shape[-1])
