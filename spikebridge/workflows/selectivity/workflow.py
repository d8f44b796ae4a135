"""Train a layered network on images (plasticity on, a checkpoint every ``epochs_per_run`` epochs), then test it
with weights frozen: every image x repetitions, optionally with pixel noise, from the untrained and the trained
state.

Layout of the workflow directory ``OUT``::

    OUT/stimuli/                        rate schedules (.npz) of every run
    OUT/train/epoch_00, epoch_01, ...   run directories; each is the checkpoint after that epoch (with several
                                        epochs per run, only the runs' last epochs have one)
    OUT/test/STATE/noise_A/rep_00, ...  run directories of the test repetitions (STATE: untrained, trained)
    OUT/test/STATE_noise_A.records.npz  the spike records of a test (see :mod:`.records`)

Every run is an ordinary run directory; a complete one is reused when the workflow runs again. Train epoch
``e`` shows the images in the order of the stream ``train_order/{e}`` (a run of several epochs shows them one
after the other, schedule file ``train_epochs{first}-{last}``) and test repetition ``r`` from
``test_rep{r}`` (pixel noise: ``noise_{A}/rep{r}``), all of the model's seed, so the untrained and trained
networks see the same input spikes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ...models.io import load_model, validate
from ...models.random import stream
from ...models.schema import Model
from ...rundir import Results, load
from ...stimuli import Encoder, GaborEncoder, ImageSet, boundary_contour_shapes
from .config import Layers, Protocol, WorkflowError
from .records import SpikeRecord, empty_record, load_records, records_array, save_records
from .schedule import image_rates, input_images, write_schedule

STATES = ("untrained", "trained")


@dataclass(frozen=True)
class RunTask:
    """One simulation: picklable, so that it can run in another process."""

    model: Model
    backend: str | None
    options: dict[str, Any]
    out: Path
    restore: Path | None


def _reusable(task: RunTask) -> bool:
    """Whether ``task.out`` holds this very run (:func:`spikebridge.rundir.reusable`: same model, backend, options,
    input files and restored weights); a damaged one is run again."""
    from ...errors import CorruptRunError
    from ...rundir import reusable

    try:
        return reusable(task.out, task.model, task.backend, task.options, restore=task.restore) is not None
    except CorruptRunError:
        return False


def run_task(task: RunTask) -> str:
    """Run one task unless its run directory already holds this very run; returns the run directory."""
    from ..run import run

    if not _reusable(task):
        run(task.model, task.backend, task.out, options=task.options, overwrite=True, progress=False, figure=False, restore=task.restore)
    return str(task.out)


def noise_label(noise: float) -> str:
    """The name a pixel-noise amplitude gives to its files and random streams.

    Parameters
    ----------
    noise
        Standard deviation of the Gaussian pixel noise, in grey levels.

    Returns
    -------
    str
        ``noise_`` and the amplitude in ``%g`` form.

    Examples
    --------
    >>> noise_label(0.0), noise_label(60), noise_label(12.5)
    ('noise_0', 'noise_60', 'noise_12.5')
    """
    return f"noise_{noise:g}"


@dataclass(frozen=True)
class Workflow:
    """The feature-selectivity workflow of one model on one backend, in the directory ``out``.

    ``model``: a model file or bundled model name (default ``feature_selectivity``) with ``overrides``
    (``--set`` strings); ``dataset``: the images and annotations (default: 4 shapes x 2 variants of
    :func:`~spikebridge.stimuli.boundary_contour_shapes`); ``workers > 1`` runs test repetitions in parallel
    on a local Dask cluster (the sweep engine's), else one after the other in this process.
    """

    out: Path
    model: str = "feature_selectivity"
    overrides: tuple[str, ...] = ()
    dataset: ImageSet = field(default_factory=lambda: boundary_contour_shapes(4, 2))
    encoder: Encoder = GaborEncoder()
    protocol: Protocol = Protocol()
    backend: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        shape = self.base_model.populations[self.layers.input].shape
        expected = [self.encoder.n_channels, self.protocol.image_size, self.protocol.image_size]
        if shape != expected:
            raise WorkflowError(
                f"populations.{self.layers.input}.shape is {shape}; the encoder and protocol make {expected} (channels, rows, cols)"
            )

    @property
    def base_model(self) -> Model:
        """The model with its ``overrides``, as loaded and resolved (its stimuli and phases not yet replaced)."""
        return load_model(self.model, self.overrides)

    @property
    def layers(self) -> Layers:
        """The model's population names by layer (:meth:`spikebridge.workflows.selectivity.config.Layers.of`)."""
        return Layers.of(self.base_model)

    @property
    def seed(self) -> int:
        """The model's seed; it also draws the training orders and the test images' pixel noise."""
        return self.base_model.simulation.seed

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The input layer's grid, ``(channels, rows, cols)``: the encoder's channels and the protocol's image size."""
        return (self.encoder.n_channels, self.protocol.image_size, self.protocol.image_size)

    def _model(self, stimulus: str, file: Path, n_presentations: int, plasticity: bool) -> Model:
        raw = self.base_model.model_dump(exclude_none=True)
        raw["stimuli"] = {stimulus: {"kind": "rate_schedule", "target": self.layers.input, "file": str(file.resolve())}}
        phase = "train" if plasticity else "test"
        raw["simulation"]["phases"] = [{"name": phase, "duration": n_presentations * self.protocol.slot_ms, "plasticity": plasticity}]
        return validate(raw, f"{self.model} ({stimulus})", folder=self.base_model.source_folder)

    def _run_all(self, tasks: Sequence[RunTask], desc: str) -> list[Path]:
        if self.workers > 1 and len(tasks) > 1:
            from ..sweeps.engine import dask_client

            with dask_client(None, workers=self.workers, threads=1) as client:
                futures = client.map(run_task, list(tasks), pure=False)
                done = []
                for fut in tqdm(futures, desc=desc, disable=not self.progress):
                    done.append(Path(fut.result()))
                return done
        return [Path(run_task(t)) for t in tqdm(tasks, desc=desc, disable=not self.progress)]

    # training ---------------------------------------------------------------------------------------------

    def epoch_dir(self, epoch: int) -> Path:
        """The run directory of training epoch ``epoch`` (counted from 0): ``OUT/train/epoch_NN``."""
        return self.out / "train" / f"epoch_{epoch:02d}"

    def train(self) -> list[Path]:
        """Train for ``protocol.epochs`` epochs; returns the checkpoint (run directory) of every training run.

        Each epoch shows every image once, in an order drawn from the model's seed for that epoch. A run
        simulates ``protocol.epochs_per_run`` epochs (:attr:`Protocol.runs`), restored from the previous run's
        final weights; its directory is named after its last epoch.
        """
        rates = image_rates(self.dataset, self.encoder, self.protocol.image_size)
        checkpoints: list[Path] = []
        for epochs in tqdm(self.protocol.runs, desc="train", disable=not self.progress):
            order = np.concatenate(
                [stream(self.seed, "selectivity", "train_order", str(epoch)).permutation(len(self.dataset)) for epoch in epochs]
            )
            name = f"train_epoch{epochs[0]}" if len(epochs) == 1 else f"train_epochs{epochs[0]}-{epochs[-1]}"
            file = self.out / "stimuli" / f"{name}.npz"
            write_schedule(file, rates, order, self.protocol.present_ms, self.protocol.gap_ms)
            task = RunTask(
                self._model(name, file, len(order), True),
                self.backend,
                dict(self.options),
                self.epoch_dir(epochs[-1]),
                checkpoints[-1] if checkpoints else None,
            )
            checkpoints.append(Path(run_task(task)))
        return checkpoints

    def checkpoint(self, epoch: int = -1) -> Path:
        """The run directory after training epoch ``epoch`` (``-1``: the last); an epoch that does not end a training
        run (:attr:`Protocol.runs`) has none."""
        e = epoch % self.protocol.epochs
        ends = [r[-1] for r in self.protocol.runs]
        if e not in ends:
            raise WorkflowError(f"epoch {e} ends no training run: checkpoints end epochs {', '.join(map(str, ends))}")
        path = self.epoch_dir(e)
        if not (path / "meta.json").is_file():
            raise WorkflowError(f"no checkpoint for epoch {e} at {path}; run train() first")
        return path

    # testing ----------------------------------------------------------------------------------------------

    def input_images(self, noise: float = 0.0, rep: int = 0) -> np.ndarray:
        """The images as test repetition ``rep`` shows them at ``noise``: ``[n_images, size, size]`` grey levels."""
        rng = stream(self.seed, "selectivity", noise_label(noise), f"rep{rep}")
        return input_images(self.dataset, self.protocol.image_size, noise, rng)

    def records_path(self, state: str, noise: float) -> Path:
        """Where :meth:`test` saves its spike records: ``OUT/test/STATE_noise_N.records.npz``.

        Parameters
        ----------
        state
            ``"untrained"`` or ``"trained"``.
        noise
            The pixel-noise amplitude, in grey levels (:func:`noise_label`).

        Returns
        -------
        Path
            The records file (it may not exist yet).
        """
        return self.out / "test" / f"{state}_{noise_label(noise)}.records.npz"

    def test(self, state: str = "trained", noise: float = 0.0) -> xr.DataArray:
        """Show every image ``protocol.reps`` times with weights frozen, from the ``untrained`` (drawn) or
        ``trained`` (last checkpoint) weights, with Gaussian pixel noise of ``noise`` grey levels.

        Returns spike records (dims ``img, rep, layer, nrn_cls``), also saved to :meth:`records_path`.
        """
        if state not in STATES:
            raise WorkflowError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        restore = self.checkpoint() if state == "trained" else None
        n = len(self.dataset)
        tasks, onsets = [], []
        for rep in range(self.protocol.reps):
            rates = np.stack([self.encoder.rates(im) for im in self.input_images(noise, rep)])
            name = f"test_rep{rep}"
            file = self.out / "stimuli" / f"{name}_{noise_label(noise)}.npz"
            onsets.append(write_schedule(file, rates, range(n), self.protocol.present_ms, self.protocol.gap_ms))
            out = self.out / "test" / state / noise_label(noise) / f"rep_{rep:02d}"
            tasks.append(RunTask(self._model(name, file, n, False), self.backend, dict(self.options), out, restore))
        runs = [load(p) for p in self._run_all(tasks, f"test {state} {noise_label(noise)}")]
        records = self._records(runs, onsets, state, noise, restore)
        save_records(records, self.records_path(state, noise))
        return records

    def load_test(self, state: str = "trained", noise: float = 0.0) -> xr.DataArray:
        """The spike records that :meth:`test` saved, without running anything.

        Parameters
        ----------
        state
            ``"untrained"`` or ``"trained"``.
        noise
            The pixel-noise amplitude (grey levels) they were tested at.

        Returns
        -------
        xarray.DataArray
            Spike records with dims ``img, rep, layer, nrn_cls`` (spike times in ms from each image's onset).

        Raises
        ------
        WorkflowError
            That test has not been run.
        """
        path = self.records_path(state, noise)
        if not path.is_file():
            raise WorkflowError(f"no test records at {path}; run test({state!r}, noise={noise:g}) first")
        return load_records(path)

    def test_run(self, state: str = "trained", noise: float = 0.0, rep: int = 0) -> Results:
        """One test repetition's run directory (its final weights are the state's weights).

        Parameters
        ----------
        state
            ``"untrained"`` or ``"trained"``.
        noise
            The pixel-noise amplitude (grey levels).
        rep
            The repetition, counted from 0.

        Returns
        -------
        Results
            The verified run directory (:func:`spikebridge.rundir.load`).
        """
        return load(self.out / "test" / state / noise_label(noise) / f"rep_{rep:02d}")

    def _records(self, runs: list[Results], onsets: list[np.ndarray], state: str, noise: float, restore: Path | None) -> xr.DataArray:
        layers = self.layers
        present = self.protocol.present_ms
        n_img = len(self.dataset)
        out = np.empty((n_img, len(runs), len(layers.indices), 2), dtype=object)
        for r, (res, onset) in enumerate(zip(runs, onsets, strict=True)):
            for li, layer in enumerate(layers.indices):
                for ci, cls in enumerate(("EXC", "INH")):
                    pop = layers.population(layer, cls)
                    if pop is None:
                        out[:, r, li, ci] = [empty_record(present) for _ in range(n_img)]
                        continue
                    cells, times = _spikes(res, pop)
                    shape = tuple(res.model.populations[pop].shape or [len(res.recorded_cells(pop))])
                    for img in range(n_img):
                        keep = (times >= onset[img]) & (times < onset[img] + present)
                        out[img, r, li, ci] = SpikeRecord(cells[keep], times[keep] - onset[img], shape, present)
        attrs = {
            "state": state,
            "noise": noise,
            "checkpoint": str(restore) if restore is not None else "",
            "backend": runs[0].meta.get("backend", ""),
            "duration": present,
            "populations": {str(k): [layers.population(k, "EXC") or "", layers.population(k, "INH") or ""] for k in layers.indices},
            "input_shape": list(self.input_shape),
            "seed": self.seed,
        }
        img_ids = [int(v) for v in self.dataset.annotations["image_id"]]
        return records_array(out, img_ids, list(range(len(runs))), layers.indices, attrs)


def _spikes(res: Results, population: str) -> tuple[np.ndarray, np.ndarray]:
    """(cell, time ms) of a recorded population, or of a spike source from the drawn input trains."""
    if res.model.populations[population].cell_type in ("SpikeSourceArray", "SpikeSourcePoisson"):
        counts = res.network[f"pop/{population}/spikes/counts"]
        times = res.network[f"pop/{population}/spikes/times"]
        return np.repeat(np.arange(len(counts)), counts), times
    return res.spikes(population, res.phases[0])
