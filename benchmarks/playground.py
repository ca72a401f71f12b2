"""How long the optimizer playground takes to answer a slider move, in ms per update.

    python benchmarks/playground.py [--updates 40]

Measures a full update (path + PNG + widget value) for learning-rate moves on each surface,
and a surface change (which redraws the contours), and splits an update into its parts.
The target is under 200 ms per update on a 2-core laptop.
"""

import argparse
import time

import numpy as np

from course_lib.reference import adaptive
from course_lib.surfaces import SURFACES
from course_lib.widgets import playground, run


def per_call_ms(action, values):
    """The median time of ``action(value)`` over ``values``, in ms."""
    times = []
    for value in values:
        start = time.perf_counter()
        action(value)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(updates):
    pg = playground(adaptive.RULES)              # the reference rules: the same work as a student's
    rates = np.geomspace(1e-3, 1.0, updates)

    def move_lr(lr):
        pg.controls["learning_rate"].value = float(lr)

    print(f"{'surface':<14}{'rule':<14}{'steps':>6}{'ms / update':>14}")
    for surface in SURFACES:
        pg.controls["surface"].value = surface
        for rule, steps in (("adam", 50), ("adam", 300), ("sgd_momentum", 300)):
            pg.controls["rule"].value = rule
            pg.controls["steps"].value = steps
            print(f"{surface:<14}{rule:<14}{steps:>6}{per_call_ms(move_lr, rates):>14.1f}")

    names = list(SURFACES)
    surface_ms = per_call_ms(lambda i: setattr(pg.controls["surface"], "value", names[i % len(names)]),
                             range(1, 2 * len(names) + 1))
    print(f"surface change (contours redrawn): {surface_ms:.1f} ms")

    bowl = SURFACES["bowl"]
    path_ms = per_call_ms(lambda lr: run(adaptive.adam, bowl, lr, 300, bowl.start), rates)
    pg.controls["surface"].value = "bowl"
    path = run(adaptive.adam, bowl, 0.3, 300, bowl.start)
    render_ms = per_call_ms(lambda _: pg.view.render(bowl, path, "adam", "C0"), rates)
    print(f"parts of an update (bowl, adam, 300 steps): path {path_ms:.1f} ms, drawing + PNG {render_ms:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=40, help="slider moves timed per setting")
    main(parser.parse_args().updates)
