"""The optimizer playground of notebook 03: pick a surface and an update rule, move the sliders,
watch the trajectory change.

Two layers, so that the first can be tested without a browser:

- ``TrajectoryView`` (pure): given a surface and a path, a PNG of the path over the surface's
  contours. The contours are drawn once per surface and kept as a bitmap; each update restores
  that bitmap and draws only the path and the legend on top (blitting), then encodes the PNG.
  ``run`` computes the path from the control values with ``course_lib.descent.trajectory``.
- ``Playground`` (wiring): ipywidgets controls observed by one callback that calls the two
  functions above and puts the PNG in an ``ipywidgets.Image``. The figure never enters pyplot,
  so no figure piles up and nothing is shown twice.

>>> from course_lib.widgets import playground
>>> pg = playground({"sgd": sgd, "adam": adam})   # your own update rules from notebooks 02 and 03
>>> pg.controls["learning_rate"].value = 0.05   # what a slider does: the image updates at once
"""

import base64
import html
import io
from collections.abc import Mapping
from contextlib import contextmanager

import ipywidgets as widgets
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from . import plots
from .descent import trajectory
from .surfaces import SURFACES

__all__ = ["HYPERPARAMETERS", "DEFAULT_LEARNING_RATES", "TrajectoryView", "run", "Playground", "playground"]

HYPERPARAMETERS = {
    "sgd": (), "sgd_momentum": ("momentum",), "nesterov": ("momentum",),
    "adagrad": (), "rmsprop": ("decay_rate",), "adam": ("beta1", "beta2"),
}
"""The config keys besides ``learning_rate`` that each rule reads, by the rule's function name."""

DEFAULT_LEARNING_RATES = {
    "sgd": 0.95, "sgd_momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.3, "adam": 0.3,
}
"""The learning rate a rule starts at when it is picked (the values of the notebook's bowl figure)."""

def on_log_grid(slider, value):
    """``value`` moved to the nearest value a ``FloatLogSlider`` can show.

    The browser snaps a log slider to its grid (min + k * step in the exponent) whenever it
    redraws and sends the snapped value back; starting on the grid keeps kernel and page agreeing.
    """
    k = round((math.log(value, slider.base) - slider.min) / slider.step)
    return slider.base ** (slider.min + k * slider.step)


_FAR = 1e6
"""Paths are clipped to this many window sizes around the window before drawing, so that a
diverging path (coordinates near 1e300) draws as a line leaving the window instead of overflowing."""


def run(rule, surface, learning_rate, steps, start, **hyperparameters):
    """The path ``rule`` takes on ``surface``: an array of shape (steps + 1, 2), ``start`` first.

    rule: an update rule (``next_w, config = rule(w, dw, config)``); surface: a ``Surface``;
    hyperparameters: the config keys the rule reads besides ``learning_rate`` (see ``HYPERPARAMETERS``).
    """
    config = {"learning_rate": learning_rate, **hyperparameters}
    with np.errstate(all="ignore"):       # a diverging path is a result here, not a warning
        return trajectory(rule, surface.grad, np.asarray(start, dtype=float), int(steps), config)


class TrajectoryView:
    """One trajectory over the contours of one surface, rendered to PNG bytes.

    size: the figure size in inches; dpi: pixels per inch. The figure belongs to this object
    (not to pyplot): ``plt.get_fignums()`` does not see it and it is never closed by ``plt.close``.
    """

    GRID = 120
    """Grid points per side of the contour plot (drawn once per surface)."""

    def __init__(self, size=(6.4, 4.6), dpi=110):
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_subplot()
        self.figure.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.92)   # fixed: no layout pass per surface
        self.surface = None
        self.background = None

    def _draw_background(self, surface):
        """Draw the contours of ``surface`` and a legend, and keep the bitmap; create the path's artists, unseen."""
        self.ax.clear()
        plots.contour(surface, ax=self.ax, n=self.GRID)
        self.path_line, = self.ax.plot([], [], "-o", lw=1.6, ms=2.5, animated=True)
        self.start_marker, = self.ax.plot([], [], "ko", ms=6, animated=True, zorder=6)
        self.end_marker, = self.ax.plot([], [], "X", ms=9, mec="k", animated=True, zorder=6)
        self.label = self.ax.text(0.02, 0.97, "", transform=self.ax.transAxes, va="top", ha="left", zorder=7,
                                  fontsize=11, fontweight="bold", animated=True,
                                  bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
        legend = [Line2D([], [], color="k", marker="o", ls="none", label="start"),
                  Line2D([], [], color="0.6", mec="k", marker="X", ms=9, ls="none", label="end"),
                  *[h for h in self.ax.lines if h.get_label().endswith("minimum")][:1]]
        self.ax.legend(handles=legend, loc="upper right", frameon=True, framealpha=0.85)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.surface = surface

    def render(self, surface, path, label, color):
        """PNG bytes of ``path`` (array (K, 2), or empty) over ``surface``, drawn in ``color`` and named ``label``."""
        if surface is not self.surface:
            self._draw_background(surface)
        path = self._clip(surface, np.asarray(path, dtype=float).reshape(-1, 2))
        self.path_line.set(data=(path[:, 0], path[:, 1]), color=color, mfc=color)
        self.start_marker.set_data(path[:1, 0], path[:1, 1])
        self.end_marker.set(data=(path[-1:, 0], path[-1:, 1]), color=color)
        self.label.set(text=label, color=color)
        self.canvas.restore_region(self.background)
        for artist in (self.path_line, self.start_marker, self.end_marker, self.label):
            self.ax.draw_artist(artist)
        return self._png()

    @staticmethod
    def _clip(surface, path):
        (x0, x1), (y0, y1) = surface.xlim, surface.ylim
        dx, dy = _FAR * (x1 - x0), _FAR * (y1 - y0)
        return np.column_stack([np.clip(path[:, 0], x0 - dx, x1 + dx), np.clip(path[:, 1], y0 - dy, y1 + dy)])

    def _png(self):
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="png", compress_level=1)
        return out.getvalue()


def _describe(surface, path, steps):
    """One line about where the path ended."""
    end = path[-1]
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    where = "" if x0 <= end[0] <= x1 and y0 <= end[1] <= y1 else " (outside the plot)"
    with np.errstate(all="ignore"):
        value = surface(end)
    return f"after {steps} steps: (x, y) = ({end[0]:.4g}, {end[1]:.4g}){where}, f = {value:.4g}"


class Playground:
    """The playground's widgets and the callback that keeps the picture in step with them.

    rules: label -> update rule (your own from notebooks 02 and 03). Which
        sliders a rule gets is read from ``HYPERPARAMETERS`` by the rule's function name, so your
        own ``adam`` gets the beta sliders under any label.
    surfaces: name -> ``Surface`` (default: ``course_lib.surfaces.SURFACES``).

    Attributes: ``controls`` (name -> widget: surface, rule, learning_rate, momentum, decay_rate,
    beta1, beta2, steps, x0, y0), ``image`` (the ``ipywidgets.Image``), ``status`` (an HTML line
    under the picture), ``widget`` (the whole box, what the notebook displays).
    """

    def __init__(self, rules, surfaces=None):
        if not isinstance(rules, Mapping):
            raise TypeError("playground: rules must be a dict label -> update rule, your own from notebooks 02 and 03, "
                            f"e.g. playground({{'sgd': sgd, 'adam': adam}}); got {type(rules).__name__}")
        self.rules = dict(rules)
        self.surfaces = dict(SURFACES if surfaces is None else surfaces)
        if not self.rules or not self.surfaces:
            raise ValueError("playground: give at least one rule and one surface "
                             "(e.g. playground({'adam': adam}); surfaces can be left out for the defaults)")
        for label, rule in self.rules.items():
            if not callable(rule):
                raise TypeError(f"playground: rules[{label!r}] must be an update rule "
                                f"(a function w, dw, config -> next_w, config), got {type(rule).__name__}")
        self.view = TrajectoryView()
        self.controls = self._make_controls()
        width = round(self.view.figure.get_figwidth() * self.view.figure.dpi)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))   # 1:1, never stretched
        self.status = widgets.HTML()
        self._quiet = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = self._layout()
        self._rule_changed()
        self._surface_changed()
        self.update()

    # ---------------------------------------------------------------- controls
    def _make_controls(self):
        first_surface = "bowl" if "bowl" in self.surfaces else next(iter(self.surfaces))
        controls = {
            "surface": widgets.Dropdown(options=list(self.surfaces), value=first_surface, description="surface"),
            "rule": widgets.Dropdown(options=list(self.rules), description="update rule"),
            "learning_rate": widgets.FloatLogSlider(value=0.1, base=10, min=-4, max=1, step=0.01,
                                                    readout_format=".3g", description="learning rate"),
            "momentum": widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                            description="momentum μ"),
            "decay_rate": widgets.FloatSlider(value=0.99, min=0.5, max=0.999, step=0.001, readout_format=".3f",
                                              description="decay ρ"),
            "beta1": widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="β₁"),
            "beta2": widgets.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0001, readout_format=".4f",
                                         description="β₂"),
            "steps": widgets.IntSlider(value=50, min=1, max=300, description="steps"),
            "x0": widgets.FloatSlider(description="start x", readout_format=".2f"),
            "y0": widgets.FloatSlider(description="start y", readout_format=".2f"),
        }
        for control in controls.values():          # each its own Layout: hiding one must not hide all
            control.style.description_width = "90px"
            control.layout = widgets.Layout(width="320px")
        return controls

    def _layout(self):
        c = self.controls
        left = widgets.VBox([c["surface"], c["rule"], c["learning_rate"], c["steps"], c["x0"], c["y0"]])
        right = widgets.VBox([c["momentum"], c["decay_rate"], c["beta1"], c["beta2"]])
        return widgets.VBox([widgets.HBox([left, right]), self.image, self.status])

    def _on_change(self, change):
        if self._quiet:
            return
        owner = change["owner"]
        if owner is self.controls["rule"]:
            self._rule_changed()
        elif owner is self.controls["surface"]:
            self._surface_changed()
        self.update()

    def _rule_changed(self):
        """Show the sliders the new rule reads, and start it at its usual learning rate."""
        name = getattr(self.rule, "__name__", "")
        used = HYPERPARAMETERS.get(name, ())
        for key in ("momentum", "decay_rate", "beta1", "beta2"):
            self.controls[key].layout.display = None if key in used else "none"
        self._set_quietly(self.controls["learning_rate"],
                          on_log_grid(self.controls["learning_rate"], DEFAULT_LEARNING_RATES.get(name, 0.1)))

    def _surface_changed(self):
        """Move the start sliders to the new surface's window and its suggested start."""
        surface = self.surface
        for key, (low, high), value in (("x0", surface.xlim, surface.start[0]), ("y0", surface.ylim, surface.start[1])):
            slider = self.controls[key]
            with self._quietly(), slider.hold_sync():
                # widen first (the old value may lie outside the new range), then narrow
                slider.min, slider.max = min(slider.min, low), max(slider.max, high)
                slider.value = value
                slider.min, slider.max, slider.step = low, high, (high - low) / 400

    def _set_quietly(self, control, value):
        with self._quietly():
            control.value = value

    @contextmanager
    def _quietly(self):
        """Change controls without redrawing for each change (the caller redraws once)."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before

    # ---------------------------------------------------------------- the pure part, called
    @property
    def rule(self):
        return self.rules[self.controls["rule"].value]

    @property
    def surface(self):
        return self.surfaces[self.controls["surface"].value]

    def values(self):
        """The controls' current values: name -> value."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Recompute the path from the controls and redraw; a rule's error goes to the status line."""
        v, rule, surface = self.values(), self.rule, self.surface
        name = getattr(rule, "__name__", "")
        hyperparameters = {key: v[key] for key in HYPERPARAMETERS.get(name, ())}
        try:
            path = run(rule, surface, v["learning_rate"], v["steps"], (v["x0"], v["y0"]), **hyperparameters)
            message = _describe(surface, path, v["steps"])
        except Exception as error:          # shown to the student; the playground keeps working
            path = np.array([(v["x0"], v["y0"])])
            message = f"{v['rule']} raised {type(error).__name__}: {error}"
        label = f"{v['rule']}, lr = {v['learning_rate']:.3g}"
        self.image.value = self.view.render(surface, path, label, plots.color(name))
        self.status.value = f"<code>{html.escape(message)}</code>"

    # ---------------------------------------------------------------- display
    def __repr__(self):
        return f"Optimizer playground: {len(self.rules)} update rules ({', '.join(self.rules)}) on {len(self.surfaces)} surfaces"

    def _repr_mimebundle_(self, **kwargs):
        """The widget where widgets work; the first picture where they do not; a fixed text for nbval."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle


def playground(rules, surfaces=None):
    """The optimizer playground (see ``Playground``); the notebook cell shows it.

    rules: label -> update rule, your own: ``playground({"sgd": sgd, "adam": adam})``.
    """
    return Playground(rules, surfaces)
