"""A process that draws run summaries, started before the run ends so that matplotlib is ready when it does.

``python -m spikebridge.plotting.summary_process`` imports matplotlib with its PNG and PDF backends, draws one small
figure (the fonts are loaded then), and answers requests on its standard input and output, one JSON object a line:

- request: ``{"folder": RUN_DIR_BEING_WRITTEN, "meta": {...}}``, once ``model.toml`` and the recordings are in it;
- answer: ``{"figure_s": SECONDS}`` once ``figures/summary.png`` and ``.pdf`` are saved there, or
  ``{"error": "..."}``, after which the caller draws the figure itself.

It ends at the end of its input or at an empty line. What libraries print goes to its standard error, never into
the answers. :class:`spikebridge.workflows.figure_process.FigureProcess` starts it, in a process group of its own.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import matplotlib.backends.backend_pdf  # noqa: F401  (fontTools' subsetter: 0.2 s of the first PDF)
from matplotlib.figure import Figure

from ..rundir import Results
from .figures import save_figure
from .summary import plot_summary


def prepare() -> None:
    """Draw a small figure with text into PNG and PDF, so that the first real one loads no font."""
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.subplots()
    ax.scatter([0.0, 1.0], [0.0, 1.0], marker="|", rasterized=True)
    ax.hist([0.0, 1.0, 1.0])
    ax.set(xlabel="time (ms)", ylabel="cell", title="rate (Hz)")
    fig.suptitle("spikebridge ▲")
    for fmt in ("png", "pdf"):
        fig.savefig(io.BytesIO(), format=fmt)


def draw(folder: Path, meta: dict[str, Any]) -> float:
    """Save the summary figure of the run directory being written at ``folder``; the seconds it took.

    ``folder`` must exist: a run directory that was given up and removed is not made again.
    """
    t0 = time.perf_counter()
    (folder / "figures").mkdir(exist_ok=True)
    save_figure(plot_summary(Results.partial(folder, meta)), folder / "figures" / "summary")
    return time.perf_counter() - t0


def serve(requests: IO[str], answers: IO[str]) -> None:
    """Answer each request line of ``requests`` on ``answers`` until the input ends or a line is empty."""
    for line in requests:
        if not line.strip():
            break
        try:
            request = json.loads(line)
            answer: dict[str, Any] = {"figure_s": draw(Path(request["folder"]), request["meta"])}
        except Exception as err:  # reported, not raised: the caller draws the figure itself and meets the error there
            answer = {"error": f"{type(err).__name__}: {err}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":  # no backend is selected: Figure.savefig draws PNG and PDF with their own canvases
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the answers' own channel
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what anything prints goes to standard error
    prepare()
    serve(sys.stdin, answers)
    answers.flush()
    os._exit(0)  # nothing is left to write; the interpreter's teardown of matplotlib would only delay the caller's wait
