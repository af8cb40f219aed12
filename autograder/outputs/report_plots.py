"""The class report's plots: matplotlib figures as SVG ``data:`` URIs, holding no student text.

Scores, seconds and function names only; the page embeds each as an ``<img>``, never as
markup.
"""

from __future__ import annotations

import base64
import io


def _svg(figure) -> str:
    """A matplotlib figure as a ``data:`` URI of its SVG (text drawn as paths: no fonts needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 6.4, height: float = 2.8):
    # matplotlib.figure.Figure, not pyplot: no global state, no GUI backend (renders with Agg/SVG only)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def histogram_plot(percents: list[float]) -> str:
    figure, ax = _figure()
    ax.hist(percents, bins=list(range(0, 105, 5)), color="#3b6ea8", edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (% of the maximum)")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def functions_plot(rows: list[dict]) -> str:
    figure, ax = _figure(6.4, 0.4 * len(rows) + 1)
    names = [r["name"] for r in rows][::-1]
    ax.barh(names, [r["mean_percent"] for r in rows][::-1], color="#3b6ea8")
    ax.set_xlim(0, 100)
    ax.set_xlabel("mean score (% of the function's points)")
    return _svg(figure)


def times_plot(seconds: list[float]) -> str:
    figure, ax = _figure()
    ax.hist(seconds, bins=min(20, max(5, len(seconds))), color="#8a5a9e", edgecolor="white")
    ax.set_xlabel("seconds to grade one submission")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)
