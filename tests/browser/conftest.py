"""Fixtures of the browser tests: one JupyterLab server and one Chromium for the whole run.

The server's folder is a temporary copy of what a student and an instructor open:
``solutions/`` (outputs cleared, so everything on the page comes from this run) and
``notebooks/`` (made by ``course release`` from the real solutions). Screenshots go to
``test-artifacts/browser/`` (git-ignored).
"""

import subprocess
import sys

import nbformat
import pytest

from course_files import ARTIFACTS, ROOT, SOLUTIONS, solution_notebooks, without_outputs
from lab_driver import NotebookPage, chromium, jupyterlab, missing_browser


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium (minutes; "
                                       "skipped without chromium and playwright)")


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_generate_tests(metafunc):
    """``solution``: every solution notebook there is when the tests are collected."""
    if "solution" in metafunc.fixturenames:
        notebooks = solution_notebooks()
        metafunc.parametrize("solution", notebooks, ids=[p.stem for p in notebooks])


@pytest.fixture(scope="session")
def browser():
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory):
    """The folder the server serves: solutions/ without outputs; notebooks/ is filled on demand."""
    root = tmp_path_factory.mktemp("lab-root")
    (root / "solutions").mkdir()
    for path in solution_notebooks():
        nbformat.write(without_outputs(nbformat.read(path, as_version=4)), root / "solutions" / path.name)
    return root


@pytest.fixture(scope="session")
def lab(browser, lab_root, tmp_path_factory):
    with jupyterlab(lab_root, tmp_path_factory.mktemp("lab-home")) as server:
        yield server


@pytest.fixture(scope="session")
def released(lab_root):
    """``course release`` of the real solutions into the served notebooks/ folder; returns that folder."""
    out = lab_root / "notebooks"
    done = subprocess.run([sys.executable, "-m", "course_lib.cli", "release", "--solutions", str(SOLUTIONS),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"course release failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return out


class ExecutedSolutions:
    """Solution notebooks run top to bottom in the browser, each once, two at a time.

    ``get(name)`` starts ``name`` (and the next notebook, so that one kernel computes while the
    test of the other reads its page), waits until it has run, and returns its ``NotebookPage``.
    """

    def __init__(self, browser, lab, artifacts, ahead=1):
        self.browser, self.lab, self.artifacts, self.ahead = browser, lab, artifacts, ahead
        self.names = [p.stem for p in solution_notebooks()]
        self.pages, self.done = {}, set()

    def start(self, name):
        if name not in self.pages:
            page = NotebookPage(self.browser, self.lab, f"solutions/{name}.ipynb", self.artifacts)
            try:
                page.open().menu("Run", "Run All Cells")
            except Exception:
                page.close()
                raise
            self.pages[name] = page

    def get(self, name, timeout=300):
        self.start(name)
        following = self.names[self.names.index(name) + 1:][:self.ahead] if name in self.names else []
        for other in following:
            try:
                self.start(other)
            except Exception:       # not this test's failure: the other notebook's own test retries and reports it
                pass
        page = self.pages[name]
        if name not in self.done:
            page.wait_until_executed(timeout)
            self.done.add(name)
        return page

    def close(self):
        for page in self.pages.values():
            page.close()


@pytest.fixture(scope="session")
def executed(browser, lab, artifacts):
    runs = ExecutedSolutions(browser, lab, artifacts)
    yield runs
    runs.close()
