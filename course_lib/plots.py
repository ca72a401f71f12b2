"""The course's figures, in one style: contours with trajectories, and curves.

Every function draws on an ``ax`` (a new figure when None), gives it a title, axis labels
and a legend where there is more than one line, and returns the ax.
"""

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["COLORS", "color", "use_style", "new_ax", "contour", "trajectories", "curves"]

COLORS = {
    "sgd": "#1f77b4", "sgd_momentum": "#ff7f0e", "nesterov": "#2ca02c",
    "adagrad": "#d62728", "rmsprop": "#9467bd", "adam": "#8c564b",
}
"""One colour per update rule, the same in every figure of the course."""

_CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

STYLE = {
    "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.4, 4.2),
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10, "legend.fontsize": 9,
    "legend.frameon": False, "font.size": 10, "axes.prop_cycle": plt.cycler(color=_CYCLE),
}


def use_style():
    """Apply the course's matplotlib style (the notebooks call this once, in their setup cell)."""
    plt.rcParams.update(STYLE)


def color(name, i=0):
    """The colour of update rule ``name``, or the i-th colour of the cycle for any other label."""
    return COLORS.get(name, _CYCLE[i % len(_CYCLE)])


def new_ax(ax=None, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def contour(surface, ax=None, title=None, n=200):
    """Filled contours of a ``course_lib.surfaces.Surface`` over its plotting window, minima starred."""
    ax = new_ax(ax)
    X, Y, Z = surface.grid(n)
    levels = surface.levels if surface.levels is not None else 15
    ax.contourf(X, Y, Z, levels=levels, cmap="Blues_r", alpha=0.55, extend="both")
    ax.contour(X, Y, Z, levels=levels, colors="k", linewidths=0.4, alpha=0.5)
    for i, (mx, my) in enumerate(surface.minima):   # the global minimum first, then local ones
        ax.plot(mx, my, marker="*", ms=13, color="gold" if i == 0 else "white", mec="k", ls="none",
                label=("global minimum" if i == 0 else "local minimum") if i < 2 else None, zorder=5)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.grid(False)
    ax.set_title(title or surface.formula)
    return ax


def trajectories(surface, paths, ax=None, title=None, markers=True):
    """Contours of ``surface`` with one path per entry of ``paths`` (label -> array (K, 2))."""
    ax = contour(surface, ax=ax, title=title)
    for i, (label, path) in enumerate(paths.items()):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "-", color=color(label, i), lw=1.6, label=label,
                marker="o" if markers else None, ms=2.5)
    starts = np.unique([np.asarray(path)[0] for path in paths.values()], axis=0) if paths else []
    for j, start in enumerate(starts):
        ax.plot(*start, "ko", ms=6, label="start" if j == 0 else None, zorder=6)
    ax.legend(loc="best")
    return ax


def curves(series, ax=None, title="", xlabel="step", ylabel="loss", logy=False, smooth=None, x=None):
    """Line plot of several named curves (label -> sequence).

    smooth: None, or a function sequence -> sequence applied to each curve before it is drawn,
    e.g. your own EWMA from notebook 02: ``smooth=lambda v: ewma(v, 0.9)``.
    """
    ax = new_ax(ax)
    for i, (label, values) in enumerate(series.items()):
        values = np.asarray(smooth(values) if smooth else values, dtype=float)
        xs = np.arange(len(values)) if x is None else x
        ax.plot(xs, values, color=color(label, i), lw=1.5, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(loc="best")
    return ax
