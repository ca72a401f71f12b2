"""Two-dimensional test functions with analytic gradients and plotting bounds.

A ``Surface`` is called with a point ``p = (x, y)`` and gives ``f(p)``; ``grad(p)`` gives the
gradient as an array of shape (2,). ``values(X, Y)`` evaluates a whole grid for contour plots.

=================  ==========================================  ===========================
name               f(x, y)                                     what it shows
=================  ==========================================  ===========================
``bowl``           x**2 / 20 + y**2                            zig-zag: curvatures 1/10 and 2 (condition number 20)
``rosenbrock``     (1 - x)**2 + 100 (y - x**2)**2              a long curved valley, minimum (1, 1)
``saddle``         x**2 - y**2                                 a saddle point at (0, 0)
``product``        x * y                                       the AdaGrad worked example; saddle at (0, 0)
``two_minima``     (x**2 - 1)**2 + 0.3 x + y**2                a local minimum at (0.960, 0), the global at (-1.036, 0)
``plateau``        1 - exp(-(x**2 + y**2) / 2)                 a flat region far from the minimum at (0, 0)
``flat_minimum``   (x**4 + y**4) / 4                           slow progress close to a flat minimum
=================  ==========================================  ===========================
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Surface", "SURFACES", "bowl", "rosenbrock", "saddle", "product", "two_minima", "plateau", "flat_minimum"]


@dataclass(frozen=True)
class Surface:
    """A 2-D test function.

    name, formula: for titles.  fn(x, y) and gradient(x, y): vectorized, x and y arrays of one shape.
    xlim, ylim: the plotting window.  start: a starting point that shows the surface's problem.
    minima: the (x, y) of the minima (global first).  levels: contour levels for plotting.
    """
    name: str
    formula: str
    fn: Callable
    gradient: Callable
    xlim: tuple
    ylim: tuple
    start: tuple
    minima: tuple = ()
    levels: np.ndarray = field(default=None, repr=False)

    def __call__(self, p):
        p = np.asarray(p, dtype=float)
        return float(self.fn(p[0], p[1]))

    def grad(self, p):
        """The gradient at p = (x, y), shape (2,)."""
        p = np.asarray(p, dtype=float)
        if p.shape != (2,):
            raise ValueError(f"{self.name}: a point is (x, y), shape (2,); got shape {p.shape}")
        gx, gy = self.gradient(p[0], p[1])
        return np.array([gx, gy], dtype=float)

    def values(self, X, Y):
        """f on a grid (X, Y from ``np.meshgrid``)."""
        return self.fn(X, Y)

    def grid(self, n=200):
        """(X, Y, Z) on an n x n grid covering the plotting window."""
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self.values(X, Y)


bowl = Surface(
    "bowl", r"$f(x, y) = x^2/20 + y^2$",
    lambda x, y: x**2 / 20 + y**2,
    lambda x, y: (x / 10, 2 * y),
    xlim=(-10, 10), ylim=(-5, 5), start=(-7.0, 2.0), minima=((0.0, 0.0),),
    levels=np.array([0.1, 0.5, 1, 2, 3, 4, 6, 8]))

rosenbrock = Surface(
    "rosenbrock", r"$f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$",
    lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
    xlim=(-2, 2), ylim=(-1, 3), start=(-1.5, 2.0), minima=((1.0, 1.0),),
    levels=np.logspace(-1, 3.5, 12))

saddle = Surface(
    "saddle", r"$f(x, y) = x^2 - y^2$",
    lambda x, y: x**2 - y**2,
    lambda x, y: (2 * x, -2 * y),
    xlim=(-2, 2), ylim=(-2, 2), start=(-1.5, 1e-3), minima=(),
    levels=np.linspace(-4, 4, 17))

product = Surface(
    "product", r"$f(x, y) = xy$",
    lambda x, y: x * y,
    lambda x, y: (y, x),
    xlim=(-3, 3), ylim=(-3, 3), start=(1.0, 2.0), minima=(),
    levels=np.linspace(-9, 9, 19))

two_minima = Surface(
    "two_minima", r"$f(x, y) = (x^2 - 1)^2 + 0.3x + y^2$",
    lambda x, y: (x**2 - 1) ** 2 + 0.3 * x + y**2,
    lambda x, y: (4 * x * (x**2 - 1) + 0.3, 2 * y),
    xlim=(-2, 2), ylim=(-1.5, 1.5), start=(1.8, 1.0), minima=((-1.035579, 0.0), (0.960150, 0.0)),
    levels=np.linspace(-0.3, 3, 12))

plateau = Surface(
    "plateau", r"$f(x, y) = 1 - e^{-(x^2 + y^2)/2}$",
    lambda x, y: 1 - np.exp(-(x**2 + y**2) / 2),
    lambda x, y: (x * np.exp(-(x**2 + y**2) / 2), y * np.exp(-(x**2 + y**2) / 2)),
    xlim=(-4, 4), ylim=(-4, 4), start=(3.5, 2.0), minima=((0.0, 0.0),),
    levels=np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.9, 0.97, 0.995]))

flat_minimum = Surface(
    "flat_minimum", r"$f(x, y) = (x^4 + y^4)/4$",
    lambda x, y: (x**4 + y**4) / 4,
    lambda x, y: (x**3, y**3),
    xlim=(-2, 2), ylim=(-2, 2), start=(1.8, 1.2), minima=((0.0, 0.0),),
    levels=np.array([0.001, 0.01, 0.05, 0.2, 0.5, 1, 2, 3]))

SURFACES = {s.name: s for s in (bowl, rosenbrock, saddle, product, two_minima, plateau, flat_minimum)}
"""Every surface by name."""
