"""What a student does, in a real browser: JupyterLab in headless Chromium, driven by Playwright.

- ipywidgets work in this JupyterLab out of the box: a slider redraws an image (a notebook of
  our own, so a failure here is the set-up's, not a course notebook's);
- every solution notebook runs top to bottom from the Run menu with no error output, every
  stored figure is drawn (at least as many images as the solution stores, each decoded), every
  stored widget is drawn and every formula typeset;
- in 03, a key press on the playground's learning-rate slider redraws its trajectory;
- in a released notebook, a correct answer gets a tick and a known mistake gets its name.

Screenshots of each notebook go to test-artifacts/browser/. Skipped, with the command that
installs one, where no browser can be driven (no Chromium, or no playwright).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course_files import SOLUTIONS
from lab_driver import TRACEBACK, NotebookPage

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
COUNTED = re.compile(r"\[\d+\]")


def expected_images(cell):
    return sum(any(t in out.get("data", {}) for t in IMAGE_TYPES) for out in cell.get("outputs", []))


def stores_widget(cell):
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def stores_stderr(cell):
    return any(out.get("name") == "stderr" for out in cell.get("outputs", []))


def page_problems(state, nb):
    """What is wrong on the page, cell by cell, measured against the stored notebook ``nb``."""
    shown_cells = state["cells"]
    if len(shown_cells) != len(nb.cells):
        return [f"the page shows {len(shown_cells)} cells, the notebook has {len(nb.cells)}"]
    problems = []
    for index, (shown, stored) in enumerate(zip(shown_cells, nb.cells)):
        where = f"cell {index} (id {stored.get('id')})"
        problems += [f"{where}: a formula does not typeset: {error}" for error in shown["mathErrors"]]
        if stored.cell_type != "code":
            continue
        if not COUNTED.search(shown["prompt"]):
            problems.append(f"{where} did not run (prompt {shown['prompt'] or '[ ]:'})")
        for text in shown["stderr"]:
            if TRACEBACK.search(text):
                problems.append(f"{where} shows an error:\n{text[-2000:]}")
            elif not stores_stderr(stored):
                problems.append(f"{where} writes to stderr, which the solution does not:\n{text[-800:]}")
        images = shown["images"]
        if len(images) < expected_images(stored):
            problems.append(f"{where} shows {len(images)} image(s); the solution stores {expected_images(stored)}")
        if any(image["width"] == 0 for image in images):
            problems.append(f"{where} has an image that does not decode")
        if stores_widget(stored) and not shown["widgets"]:
            problems.append(f"{where}: its widget is not drawn (is the ipywidgets JupyterLab extension enabled? "
                            f"course doctor tells)")
        problems += [f"{where}: {error}" for error in shown["widgetErrors"]]
    return problems


# --------------------------------------------------------------------------------------
# The set-up: widgets work at all
# --------------------------------------------------------------------------------------

WIDGETS_NOTEBOOK = [
    ("markdown", "# Widgets work\nThe bowl: $f(x, y) = x^2/20 + y^2$"),
    ("code", "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('a line')\nplt.show()"),
    ("code", "import io\nimport ipywidgets as widgets\nimport matplotlib.pyplot as plt\n\n"
             "def png(n):\n"
             "    fig, ax = plt.subplots(figsize=(3, 2))\n"
             "    ax.plot(range(n + 2))\n"
             "    out = io.BytesIO()\n"
             "    fig.savefig(out, format='png')\n"
             "    plt.close(fig)\n"
             "    return out.getvalue()\n\n"
             "slider = widgets.IntSlider(value=1, min=0, max=5, description='n')\n"
             "image = widgets.Image(value=png(1), format='png')\n"
             "slider.observe(lambda change: setattr(image, 'value', png(change['new'])), names='value')\n"
             "widgets.VBox([slider, image])"),
]


def test_a_slider_redraws_an_image_in_jupyterlab(browser, lab, artifacts):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in WIDGETS_NOTEBOOK]
    nbformat.write(nb, Path(lab.root, "widgets_check.ipynb"))
    page = NotebookPage(browser, lab, "widgets_check.ipynb", artifacts).open()
    try:
        page.run_all(timeout=120)
        state = page.state()
        assert not page_problems(state, nb), page.failure("\n".join(page_problems(state, nb)))
        assert len(state["cells"][1]["images"]) == 1, page.failure("the matplotlib figure is not shown")
        assert state["cells"][2]["widgets"], page.failure("the slider and image widgets are not drawn")
        before = page.image_digests(2)
        page.press_on_slider(2, "n", "ArrowRight")
        page.wait_for_new_images(2, before, timeout=30)
        assert page.slider_readout(2, "n") == "2"
    finally:
        page.close()


# --------------------------------------------------------------------------------------
# The solution notebooks, as an instructor opens them
# --------------------------------------------------------------------------------------

def test_solution_runs_clean_in_jupyterlab(solution, executed):
    page = executed.get(solution.stem)
    shot = page.screenshot()
    problems = page_problems(page.state(), nbformat.read(solution, as_version=4))
    assert not problems, page.failure("\n".join(problems)) + f"\nscreenshot of the whole notebook: {shot}"


PLAYGROUND = "03_adaptive_methods"


def test_playground_learning_rate_slider_redraws_the_trajectory(executed):
    if not (SOLUTIONS / f"{PLAYGROUND}.ipynb").exists():
        pytest.skip(f"solutions/{PLAYGROUND}.ipynb is not written yet")
    page = executed.get(PLAYGROUND)
    index = page.cell_with_slider("learning rate")
    assert index is not None, page.failure("no cell shows a slider labelled 'learning rate'")
    before, readout = page.image_digests(index), page.slider_readout(index, "learning rate")
    assert before, page.failure(f"cell {index}: the playground shows no image")
    page.press_on_slider(index, "learning rate", "ArrowRight")
    page.wait_for_new_images(index, before, timeout=60)
    assert page.slider_readout(index, "learning rate") != readout
    page.screenshot_cell(index, "playground-after-slider")


# --------------------------------------------------------------------------------------
# A released notebook, as a student fills it in
# --------------------------------------------------------------------------------------

SOLUTION = None
"""An answer that is the instructor's own exercise cell."""


@dataclass(frozen=True)
class Answer:
    function: str
    source: str | None      # the whole exercise cell as the student leaves it; SOLUTION for the right one
    verdict: str            # what the check's output must contain


ADAM_WITHOUT_BIAS_CORRECTION = '''\
import numpy as np

def adam(w, dw, config=None):
    """Adam, forgetting the bias correction."""
    config = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, **(config or {})}
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw**2
    next_w = w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"])
    return next_w, {**config, "m": m, "v": v, "t": t}
'''

FORWARD_DIFFERENCE = '''\
import numpy as np

def numerical_gradient(f, x, h=1e-5):
    """A one-sided difference instead of the central one."""
    x = np.array(x, dtype=float)
    fx = f(x)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[i] += h
        grad[i] = (f(shifted) - fx) / h
    return grad
'''

ANSWERS = {
    "01_gradient_descent": (Answer("gradient_descent", SOLUTION, "✓"),
                            Answer("numerical_gradient", FORWARD_DIFFERENCE, "forward")),
    "03_adaptive_methods": (Answer("adagrad", SOLUTION, "✓"),
                            Answer("adam", ADAM_WITHOUT_BIAS_CORRECTION, "bias correction")),
}
"""Per released notebook: one exercise answered right, one with a known mistake the check names."""


def solution_cell(name, function):
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    return next(cell.source for cell in nb.cells if cell.get("id") == f"exercise-{function}")


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_released_notebook_checks_say_right_or_which_mistake(name, released, browser, lab, artifacts):
    path = released / f"{name}.ipynb"
    if not path.exists():
        pytest.skip(f"solutions/{name}.ipynb is not written yet")
    nb = nbformat.read(path, as_version=4)
    index = {cell.get("id"): i for i, cell in enumerate(nb.cells)}
    page = NotebookPage(browser, lab, f"notebooks/{name}.ipynb", artifacts).open()
    try:
        for i, cell in enumerate(nb.cells):
            if "setup" in cell.metadata.get("tags", []):
                page.run_cell(i)
        verdicts = {}
        for answer in ANSWERS[name]:
            source = solution_cell(name, answer.function) if answer.source is SOLUTION else answer.source
            page.set_source(index[f"exercise-{answer.function}"], source)
            page.run_cell(index[f"exercise-{answer.function}"])
            page.run_cell(index[f"check-{answer.function}"])
            verdicts[answer.function] = page.output_text(index[f"check-{answer.function}"])
        page.screenshot("student")
        for answer in ANSWERS[name]:
            shown = verdicts[answer.function]
            assert answer.verdict in shown, page.failure(
                f"check_{answer.function} should say {answer.verdict!r}; the page shows: {shown!r}")
            if answer.source is not SOLUTION:
                assert "✗" in shown, page.failure(f"check_{answer.function} passed a known mistake: {shown!r}")
    finally:
        page.close()
