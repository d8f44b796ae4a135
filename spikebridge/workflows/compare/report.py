"""The comparison report: one list of sections rendered as Markdown and as HTML, with its figures (PNG + PDF)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.validation import baseline, measures, permutation
from ...analysis.validation.measures import MEASURES
from ...plotting import compare as compare_plots
from ...plotting.figures import save_figure
from ...rundir import atomic_file
from .workflow import Comparison, write_tables


@dataclass(frozen=True)
class Section:
    """One section of the report: a heading, then text, a table and a figure, each optional.

    Parameters
    ----------
    title
        The heading (the first section's is the report's title).
    text
        Markdown paragraphs, separated by blank lines (``**bold**`` is dropped in the HTML).
    table
        A table shown after the text; ``None`` or an empty frame for none.
    image
        A figure's path relative to the report (a PNG), or ``None``.
    """

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    image: str | None = None


def labels(cmp: Comparison) -> dict[str, str]:
    """Backend names as shown, marking perturbed backends."""
    return {b: f"{b} [{'; '.join(cmp.perturb[b])}]" if cmp.perturb.get(b) else b for b in cmp.backends}


def units(cmp: Comparison) -> dict[tuple[str, str], str]:
    """The unit of every measured (target, measure) pair, for axis labels.

    Parameters
    ----------
    cmp
        The comparison.

    Returns
    -------
    dict
        ``{(target, measure): unit}`` (:func:`spikebridge.analysis.validation.measures.unit`): ``"Hz"``, ``""``
        (dimensionless), ``"uS"`` or ``"nA"``.
    """
    keys = {k for runs in cmp.samples.values() for s in runs.values() for k in s}
    return {k: measures.unit(cmp.model, *k) for k in keys}


def _number(value: object, form: str) -> str:
    """``value`` formatted, or blank where there is no number (an inconclusive measure)."""
    return format(float(value), form) if isinstance(value, int | float) and np.isfinite(value) else ""


def _verdict_table(cmp: Comparison) -> pd.DataFrame:
    """The verdicts as shown: distances at equal and between seeds, the test, Cohen's d, and why where inconclusive."""
    if cmp.verdicts.empty:
        return pd.DataFrame()
    v = cmp.verdicts.reindex(
        columns=[*cmp.verdicts.columns, *(c for c in ("w_cross", "w_within", "z", "p", "reason") if c not in cmp.verdicts)]
    )
    u = units(cmp)
    out = pd.DataFrame({"backend": v.other.map(labels(cmp)), "target": v.target, "measure": v.measure, "seeds": v.seeds})
    out["Wasserstein: equal seeds / between seeds"] = [
        f"{_number(c, '.3g')} / {_number(w, '.3g')} {u.get((t, m), '')}".strip() if np.isfinite(c) else ""
        for c, w, t, m in zip(v.w_cross, v.w_within, v.target, v.measure, strict=True)
    ]
    cross = (
        cmp.scores[cmp.scores.kind == "cross"] if not cmp.scores.empty else pd.DataFrame(columns=["other", "target", "measure", "cohens_d"])
    )
    d = cross.groupby(["other", "target", "measure"]).cohens_d.mean() if not cross.empty else pd.Series(dtype=float)
    out["Cohen's d (mean)"] = [_number(d.get((o, t, m), np.nan), "+.3f") for o, t, m in zip(v.other, v.target, v.measure, strict=True)]
    out["z"] = [_number(z, ".2f") for z in v.z]
    out["p (maxT)"] = [_number(p, ".3g") for p in v.p]
    out["verdict"] = [f"**{x.upper()}**" if x == baseline.FAIL else x for x in v.verdict]
    out["note"] = [r if isinstance(r, str) else "" for r in v.reason]
    return out


def _lifetime_table(cmp: Comparison) -> pd.DataFrame:
    """Each seed's activity lifetime (s) per population and backend; ">" marks a population active to the end."""
    t = cmp.lifetimes
    if t.empty:
        return pd.DataFrame()
    lab = labels(cmp)
    shown = t.assign(
        column=[f"{lab.get(b, b)}: {p}" for b, p in zip(t.backend, t.target, strict=True)],
        value=[f"{x / 1000:.2f}" if stopped else f"> {x / 1000:.2f}" for x, stopped in zip(t.lifetime_ms, t.stopped, strict=True)],
    )
    return shown.pivot(index="seed", columns="column", values="value").reset_index()


def _exact_table(cmp: Comparison) -> pd.DataFrame:
    if cmp.exact.empty:
        return pd.DataFrame()
    e = cmp.exact
    return pd.DataFrame(
        {
            "backend": e.other.map(labels(cmp)),
            "population": e.target,
            "r per cell (mean over seeds)": [_number(x, ".3f") for x in e.r_cross],
            "r min": [_number(x, ".3f") for x in e.r_cross_min],
            "r between reference seeds (max)": [_number(x, ".3f") for x in e.r_baseline_max],
            "mean count ratio": [_number(x, ".3f") for x in e.mean_count_ratio],
            "verdict": e.verdict,
        }
    )


def _simulator_versions(backend: str, versions: dict[str, str | None], reported: dict[str, str | None]) -> str:
    """The simulator distributions the backend declares (PyNN has its own column) with their versions in the run:
    ``reported`` by the backend, else ``versions`` of the run's metadata."""
    from ... import backends
    from ...errors import BackendError

    try:
        packages = [p for p in backends.packages(backend) if p != "PyNN"]
    except BackendError:  # a backend no longer installed: what it reported still names what ran
        packages = [p for p in reported if p != "PyNN"]
    return ", ".join(f"{p} {reported.get(p, versions.get(p))}" for p in packages)


def _backend_table(cmp: Comparison) -> pd.DataFrame:
    rows = []
    for b in cmp.backends:
        runs = list(cmp.runs[b].values())
        meta = runs[0].meta
        info = meta.get("backend_info", {})
        versions = meta.get("versions", {})
        rows.append(
            {
                "backend": labels(cmp)[b],
                "simulator": _simulator_versions(b, versions, info.get("versions", {})),
                "PyNN": versions.get("PyNN"),
                "integration": "; ".join(f"{k}: {v}" for k, v in info.get("integration", {}).items()),
                "build (s, mean)": round(float(np.mean([r.meta["timings"]["build_s"] for r in runs])), 2),
                # standalone devices simulate when results are first read, so collect_s holds their simulation
                "run + collect (s, mean)": round(
                    float(np.mean([r.meta["timings"]["run_s"] + r.meta["timings"]["collect_s"] for r in runs])), 2
                ),
            }
        )
    return pd.DataFrame(rows)


def sections(cmp: Comparison, figures: dict[str, str]) -> list[Section]:
    """The report's sections, in order: verdict, rule, verdict table, figures, exact mode, learning, backends, files.

    Parameters
    ----------
    cmp
        The comparison.
    figures
        Figure paths relative to the report by role (``distributions``, ``permutation``, ``counts``, ``angles``); a
        missing role leaves its section without a figure.

    Returns
    -------
    list of Section
        Ready for :func:`to_markdown` and :func:`to_html`.
    """
    lab = labels(cmp)
    verdict = cmp.verdict
    drawn = sorted({name for by_seed in cmp.runs.values() for r in by_seed.values() for name in r.meta.get("simulator_drawn_inputs", [])})
    if not cmp.same_network:
        shared = (
            "The drawn networks differ between backends at equal seeds (a perturbation changes drawn parameters); "
            "connectivity and input are still shared."
        )
    elif cmp.restored:
        shared = (
            "Every backend trained the identical drawn network at each seed (equal digests of the drawn network); "
            "runs that went on from a checkpoint started from each backend's own trained weights."
        )
    elif drawn:
        shared = (
            "Every backend simulated the identical drawn network at each seed (equal network digests); the Poisson "
            f"background ({', '.join(f'`{d}`' for d in drawn)}) is drawn by each simulator, seeded, so the input is "
            "statistically equal, not identical."
        )
    else:
        shared = "Every backend simulated the identical drawn network and input at each seed (equal network digests)."
    head = (
        f"**Verdict: {verdict.upper()}**. Reference: `{cmp.reference}`; compared: {', '.join(f'`{lab[b]}`' for b in cmp.backends[1:])}; "
        f"seeds {', '.join(map(str, cmp.seeds))}; phase `{cmp.phase or 'last'}`. " + shared
    )
    if cmp.too_few_seeds:
        head += (
            f"\n\n**Warning: {len(cmp.seeds)} seeds cannot reach alpha = {cmp.alpha:g}** over the measures judged (the "
            f"smallest p-value of the permutation test is 2/2^{len(cmp.seeds)}); the verdict is at best inconclusive. "
            f"Use --seeds {cmp.needed_seeds} or more."
        )
    if cmp.perturb:
        head += " Perturbed on purpose: " + "; ".join(f"`{b}`: {', '.join(v)}" for b, v in cmp.perturb.items()) + "."
    out = [
        Section(f"Cross-simulator comparison: {cmp.model.name}", head),
        Section("Rule", f"{permutation.rule(cmp.alpha)}\n\n{baseline.EXACT_RULE}\n\n{baseline.INCONCLUSIVE_RULE}"),
        Section(
            "Verdicts per measure",
            f"alpha = {cmp.alpha:g} per pair of backends. Wasserstein distances (scipy.stats.wasserstein_distance) between "
            "the backends at equal seeds and between seeds of the reference; Cohen's d (pooled s.d.) of the other backend "
            "against the reference, mean over seeds.",
            _verdict_table(cmp),
        ),
        Section("Distributions", "", None, figures.get("distributions")),
        Section("Permutation test", "", None, figures.get("permutation")),
        Section(
            "Activity lifetime per seed (s)",
            f"Time of the last spike when {measures.SILENCE_MS:g} ms of silence follow it; '>' where the population was "
            "still active at the end of the phase.\n\n"
            + ("\n".join(f"- Mixed regimes: {line}" for line in cmp.regime_notes()) or "Every backend's runs fell into one regime."),
            _lifetime_table(cmp),
        ),
    ]
    if not cmp.exact.empty:
        out.append(
            Section(
                "Exact mode: per-cell spike counts",
                "Same network and input on both backends, so cell i is the same cell.",
                _exact_table(cmp),
                figures.get("counts"),
            )
        )
    if not cmp.angles.empty:
        last = cmp.angles.sort_values("t_ms").groupby(["other", "projection", "seed"]).tail(1)
        table = pd.DataFrame(
            {
                "backend": last.other.map(lab),
                "projection": last.projection,
                "seed": last.seed,
                "t (s)": last.t_ms / 1000,
                "angle (deg)": last.angle_deg.round(2),
            }
        )
        out.append(
            Section(
                "Learning: angle between weight-change vectors",
                "Angle between w(t) - w(0) on the reference and on each backend at equal seeds; 0 deg = identical learning.",
                table,
                figures.get("angles"),
            )
        )
    out.append(Section("Backends", "", _backend_table(cmp)))
    out.append(Section("What is measured", "\n".join(f"- `{m.name}`: {m.description}" for m in MEASURES)))
    files = "\n".join(
        f"- `{name}`: {what}"
        for name, what in (
            ("scores.csv", "every score, cross-backend and between reference seeds"),
            ("lifetimes.csv", "each run's activity lifetime per population"),
            ("verdicts.csv", "the table above, unrounded"),
            ("exact.csv", "per-cell count correlations"),
            ("angles.csv", "weight-change angles per snapshot"),
            ("comparison.json", "backends, seeds, rule, verdict, run directories"),
            ("runs/", "one run directory per backend and seed (reused by a rerun)"),
        )
    )
    out.append(Section("Files", files))
    return out


def to_markdown(parts: list[Section]) -> str:
    """The sections as one Markdown document: the first as its ``#`` title, the others as ``##`` sections.

    Parameters
    ----------
    parts
        :func:`sections`.

    Returns
    -------
    str
        Markdown (tables in pipe format, figures as image links).
    """
    lines = []
    for k, s in enumerate(parts):
        lines.append(("# " if k == 0 else "## ") + s.title)
        lines.append("")
        if s.text:
            lines += [s.text, ""]
        if s.table is not None and not s.table.empty:
            lines += [s.table.to_markdown(index=False), ""]
        if s.image:
            lines += [f"![{s.title}]({s.image})", ""]
    return "\n".join(lines)


def to_html(parts: list[Section]) -> str:
    """The sections as one self-contained HTML page (inline style; figures linked, not embedded).

    Parameters
    ----------
    parts
        :func:`sections`; the first one's title is the page's.

    Returns
    -------
    str
        The HTML document.
    """
    body = []
    for k, s in enumerate(parts):
        tag = "h1" if k == 0 else "h2"
        body.append(f"<{tag}>{html.escape(s.title)}</{tag}>")
        for para in s.text.split("\n\n") if s.text else []:
            text = html.escape(para).replace("**", "")
            body.append(f"<p>{text.replace(chr(10), '<br>')}</p>")
        if s.table is not None and not s.table.empty:
            body.append(s.table.replace(r"\*\*", "", regex=True).to_html(index=False, border=0, classes="scores"))
        if s.image:
            body.append(f'<p><img src="{html.escape(s.image)}" style="max-width:100%"></p>')
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table.scores{border-collapse:collapse;font-size:90%}"
        "table.scores td,table.scores th{padding:3px 8px;border-bottom:1px solid #ddd}"
    )
    head = f"<head><meta charset='utf-8'><title>{html.escape(parts[0].title)}</title><style>{style}</style></head>"
    return f"<!doctype html><html>{head}<body>{''.join(body)}</body></html>"


def write_report(cmp: Comparison) -> Path:
    """Write the tables, figures, report.md and report.html into the comparison directory; return report.md."""
    write_tables(cmp)
    lab = labels(cmp)
    figs = {
        "distributions": compare_plots.plot_distributions(cmp.samples, cmp.verdicts, lab, units(cmp)),
        "permutation": compare_plots.plot_permutation(cmp.verdicts, lab),
    }
    if not cmp.exact.empty:
        figs["counts"] = compare_plots.plot_counts(cmp.counts, cmp.reference, cmp.seeds[0], lab)
    if not cmp.angles.empty:
        figs["angles"] = compare_plots.plot_angles(cmp.angles, lab)
    for stale in ("counts", "angles", "baseline"):  # left by an earlier report of this directory
        if stale not in figs:
            for suffix in ("png", "pdf"):
                (cmp.out / "figures" / f"{stale}.{suffix}").unlink(missing_ok=True)
    paths = {}
    for name, fig in figs.items():
        save_figure(fig, cmp.out / "figures" / name, close=True)
        paths[name] = f"figures/{name}.png"
    parts = sections(cmp, paths)
    for name, text in (("report.md", to_markdown(parts)), ("report.html", to_html(parts))):
        with atomic_file(cmp.out / name) as fh:
            fh.write(text.encode())
    return cmp.out / "report.md"
