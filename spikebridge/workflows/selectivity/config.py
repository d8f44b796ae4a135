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
    """

    present_ms: float = 200.0
    gap_ms: float = 50.0
    epochs: int = 3
    reps: int = 3
    image_size: int = 16

    def __post_init__(self) -> None:
        if self.present_ms <= 0 or self.gap_ms < 0:
            raise WorkflowError(f"present_ms must be > 0 and gap_ms >= 0, got {self.present_ms} and {self.gap_ms}")
        if self.epochs < 1 or self.reps < 1 or self.image_size < 1:
            raise WorkflowError(f"epochs, reps and image_size must be >= 1, got {self.epochs}, {self.reps}, {self.image_size}")

    @property
    def slot_ms(self) -> float:
        return self.present_ms + self.gap_ms


@dataclass(frozen=True)
class Layers:
    """Population names by layer: ``input`` is layer 0 (a spike source with a ``[channels, rows, cols]`` grid),
    ``exc[k]``/``inh[k]`` are layer k >= 1 (``inh`` may lack a layer)."""

    input: str
    exc: dict[int, str]
    inh: dict[int, str]

    @property
    def indices(self) -> list[int]:
        return [0, *sorted(self.exc)]

    @property
    def last(self) -> int:
        return max(self.exc)

    def population(self, layer: int, nrn_cls: str) -> str | None:
        if layer == 0:
            return self.input if nrn_cls == "EXC" else None
        return (self.exc if nrn_cls == "EXC" else self.inh).get(layer)

    @classmethod
    def of(cls, model: Model) -> Layers:
        """Layers named ``L0`` (input), ``L1_exc``, ``L1_inh``, ``L2_exc``, ... in ``model``."""
        exc: dict[int, str] = {}
        inh: dict[int, str] = {}
        for name in model.populations:
            m = LAYER_NAME.match(name)
            if m:
                (exc if m["cls"] == "exc" else inh)[int(m["k"])] = name
        if "L0" not in model.populations or model.populations["L0"].cell_type not in SOURCE_TYPES:
            raise WorkflowError(f"model {model.name!r}: the workflow needs a spike-source input population named 'L0'")
        if not exc or sorted(exc) != list(range(1, len(exc) + 1)):
            raise WorkflowError(f"model {model.name!r}: expected excitatory populations L1_exc, L2_exc, ... (found {sorted(exc.values()) or 'none'})")
        shape = model.populations["L0"].shape
        if shape is None or len(shape) != 3:
            raise WorkflowError(f"model {model.name!r}: populations.L0 needs shape = [channels, rows, cols], got {shape}")
        return cls("L0", exc, inh)
