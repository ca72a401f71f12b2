"""Make the README's figures in docs/img/.

- ``trajectories.png``: the six reference update rules of ``course_lib.reference.adaptive`` (``RULES``) on the bowl
  f(x, y) = x²/20 + y², 30 steps from (-7, 2), each at the learning rate the playground starts
  it at (``course_lib.widgets.DEFAULT_LEARNING_RATES``, notebook 03's bowl figure), drawn with
  ``course_lib.plots``.
- ``playground.png``: notebook 03's optimizer playground as a student sees it in JupyterLab,
  called as the notebook calls it, on ``yours`` (the student's six rules; here the reference
  rules stand in for them, in a first cell that the picture leaves out), taken in headless
  Chromium with the browser tests' machinery (``tests/browser/lab_driver.py``); it needs
  Chromium and playwright (``course doctor`` says how to install them).

Usage::

    python scripts/readme_figures.py                      # both figures
    python scripts/readme_figures.py trajectories         # only the ones named
    python scripts/readme_figures.py --out /tmp/figs      # somewhere else than docs/img/
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

STEPS = 30

VIEWPORT = {"width": 1100, "height": 1300}
"""The browser window of the playground screenshot: tall enough for the whole cell."""

YOURS_CELL = """\
from course_lib.reference.adaptive import RULES as yours   # stands in for the student's six rules"""
"""The first cell: run, not shown."""

PLAYGROUND_CELL = """\
from course_lib.widgets import playground

pg = playground(yours)                      # your six update rules, as in notebook 03
pg.controls["rule"].value = "sgd_momentum"  # momentum's spiral on the bowl
pg"""
"""The second cell: the one in the picture."""


def trajectories(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib import plots
    from course_lib.reference import adaptive
    from course_lib.descent import trajectory
    from course_lib.surfaces import bowl
    from course_lib.widgets import DEFAULT_LEARNING_RATES

    plots.use_style()
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True, sharey=True)
    for ax, (name, rule) in zip(axes.flat, adaptive.RULES.items()):
        lr = DEFAULT_LEARNING_RATES[name]
        path_ = trajectory(rule, bowl.grad, np.array(bowl.start), STEPS, {"learning_rate": lr})
        plots.trajectories(bowl, {name: path_}, ax=ax, title=f"{name}, η = {lr:g}")
        ax.get_legend().remove()
        ax.set_xticks([-10, -5, 0, 5, 10])
        ax.label_outer()
    handles, labels = axes.flat[0].get_legend_handles_labels()
    keep = [i for i, label in enumerate(labels) if label in ("start", "global minimum")]
    fig.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="lower center", ncol=2, fontsize=11)
    fig.suptitle(f"Six update rules on $f(x, y) = x^2/20 + y^2$: {STEPS} steps from (−7, 2)",
                 fontsize=14, fontweight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def playground(path):
    import nbformat

    from lab_driver import NotebookPage, chromium, jupyterlab, missing_browser

    reason = missing_browser()
    if reason:
        raise RuntimeError(reason)
    with tempfile.TemporaryDirectory() as tmp:
        root, home = Path(tmp, "root"), Path(tmp, "home")
        root.mkdir()
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                "display_name": "Python 3 (ipykernel)"}})
        nb.cells = [nbformat.v4.new_code_cell(YOURS_CELL), nbformat.v4.new_code_cell(PLAYGROUND_CELL)]
        nbformat.write(nb, root / "playground.ipynb")
        with jupyterlab(root, home) as lab, chromium() as browser:
            page = NotebookPage(browser, lab, "playground.ipynb", Path(tmp, "shots"), viewport=VIEWPORT).open()
            page.page.keyboard.press("ControlOrMeta+b")  # hide the file browser: the playground gets the width
            page.run_all(timeout=180)
            page.page.mouse.move(0, 0)                  # no hover highlight in the picture
            page.cell(1).screenshot(path=str(path))
            page.close()


FIGURES = {"trajectories": trajectories, "playground": playground}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make the README's figures.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which figures ({', '.join(FIGURES)}; default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="the folder (default: docs/img/)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in FIGURES]
    if unknown:
        parser.error(f"no figure called {', '.join(unknown)}; the figures are {', '.join(FIGURES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in args.names or FIGURES:
        target = args.out / f"{name}.png"
        try:
            FIGURES[name](target)
        except Exception as error:          # report each figure, make the others
            print(f"{name}: not made: {error}", file=sys.stderr)
            failed += 1
        else:
            print(f"wrote {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
