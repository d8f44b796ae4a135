"""A process that draws run summaries, started before the run ends so that matplotlib is ready when it does.

``python -m spikebridge.plotting.summary_process`` imports matplotlib with its PNG and PDF backends, draws one small
figure (the fonts are loaded then), and answers requests on its standard input and output, one JSON object a line:

- request: ``{"folder": RUN_DIR_BEING_WRITTEN, "meta": {...}}``, once ``model.toml`` and the recordings are in it;
- answer: ``{"figure_s": SECONDS}`` once ``figures/summary.png`` and ``.pdf`` are saved there, or
  ``{"error": "..."}``, after which the caller draws the figure itself.

It ends at the end of its input. It ignores Ctrl-C: its parent, which receives it too, ends it.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.backends.backend_pdf  # noqa: E402,F401  (fontTools' subsetter: 0.2 s of the first PDF)
from matplotlib.figure import Figure  # noqa: E402

from ..rundir import Results  # noqa: E402
from .figures import save_figure  # noqa: E402
from .summary import plot_summary  # noqa: E402


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
    """Save the summary figure of the run directory being written at ``folder``; the seconds it took."""
    t0 = time.perf_counter()
    save_figure(plot_summary(Results.partial(folder, meta)), folder / "figures" / "summary")
    return time.perf_counter() - t0


def serve(requests: IO[str], answers: IO[str]) -> None:
    """Answer each request line of ``requests`` on ``answers`` until the input ends."""
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


if __name__ == "__main__":
    prepare()
    serve(sys.stdin, sys.stdout)
    sys.stdout.flush()
    os._exit(0)  # nothing is left to write; the interpreter's teardown of matplotlib would only delay the caller's wait
