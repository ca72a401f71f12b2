"""Drive JupyterLab in headless Chromium the way a student does.

Shared by the browser tests (``tests/browser/``) and ``scripts/readme_figures.py``:

- ``jupyterlab(root, home)`` starts a private JupyterLab server on ``root`` (free local port, no
  token, settings, workspaces, runtime and config in ``home``) and stops it, kernels included;
- ``chromium()`` launches Debian's Chromium through Playwright;
- ``NotebookPage`` opens a notebook, runs its cells from the Run menu and reads back what the
  page shows: prompts, error outputs, images, widgets, text.

Nothing here knows the course's notebooks; the tests say what to expect of them.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from course_lib.doctor import chromium_path, chromium_wanted

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
"""Flags that let Chromium run as root on a machine with no network but loopback."""

INSTALL_HINT = "apt-get install -y chromium  and  pip install playwright  (or pip install -e '.[test]')"

VIEWPORT = {"width": 1280, "height": 900}

LAB_SETTINGS = {
    # every cell stays in the page, so outputs can be counted and screenshots are whole
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # no "get Jupyter news?" toast over the notebook, no request to the internet
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
"""User settings of the test server, by plugin id."""

STRIPPED_ENV = ("MPLBACKEND", "COURSE_PROGRESS")
"""Variables the test run sets for itself that a student's kernel would not have: with
MPLBACKEND=Agg a kernel would show no figures."""


def missing_browser():
    """Why no browser can be driven here, with the command that fixes it; None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"playwright is not installed; to run the browser tests: {INSTALL_HINT}"
    if chromium_path() is None:
        return f"no Chromium at {chromium_wanted()}; to run the browser tests: {INSTALL_HINT}"
    return None


@contextmanager
def chromium():
    """A headless Chromium (Playwright ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------------------
# The JupyterLab server
# --------------------------------------------------------------------------------------

@dataclass
class Lab:
    url: str
    root: Path
    log: Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(settings_dir):
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        path = Path(settings_dir, package, f"{name}.jupyterlab-settings")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def lab_command(root, home, port):
    return [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.allow_root=True",
        "--ServerApp.terminals_enabled=False", "--LabApp.extension_manager=readonly",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]


def lab_environment(home):
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    for var, sub in [("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                     ("JUPYTER_DATA_DIR", "data"), ("IPYTHONDIR", "ipython")]:
        env[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    return env


def wait_until_serving(url, process, log, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode} before serving; "
                               f"its log ({log}):\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout} s; its log ({log}):\n{tail(log)}")


def tail(path, lines=30):
    text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def stop(process, grace=20):
    """Stop the server (it shuts its kernels down), then anything left of its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)  # JupyterLab asks for confirmation of the first one
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@contextmanager
def jupyterlab(root, home, timeout=180):
    """Serve ``root`` with ``python -m jupyter lab`` of this interpreter; yields a ``Lab``.

    ``home`` (created) holds the server's settings, workspaces, runtime, config and data
    folders and its log, so nothing of the user's Jupyter set-up is read or written.
    """
    root, home = Path(root).resolve(), Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    write_settings(home / "settings")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "jupyterlab.log"
    with open(log, "w") as out:
        process = subprocess.Popen(lab_command(root, home, port), cwd=root, env=lab_environment(home),
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_serving(url, process, log, timeout)
        yield Lab(url, root, log)
    finally:
        stop(process)


# --------------------------------------------------------------------------------------
# A notebook in the page
# --------------------------------------------------------------------------------------

PAGE_STATE_JS = r"""
(panelId) => {
  const panel = document.getElementById(panelId);
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const kernel = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
      .map((e) => e.textContent).find((t) => / \| /.test(t));
  return {
    status: indicator ? indicator.dataset.status : null,
    kernel: kernel || '',
    cells: cells.map((cell) => {
      const prompt = cell.querySelector('.jp-InputArea-prompt');
      const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
      const stderr = outputs.filter((o) => o.dataset.mimeType === 'application/vnd.jupyter.stderr');
      const images = [...cell.querySelectorAll('.jp-OutputArea img')];
      return {
        kind: cell.classList.contains('jp-CodeCell') ? 'code'
            : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
        prompt: prompt ? prompt.textContent.trim() : '',
        stderr: stderr.map((o) => o.textContent),
        images: images.map((img) => ({complete: img.complete, width: img.naturalWidth})),
        widgets: cell.querySelectorAll('.jp-OutputArea .jupyter-widgets').length,
        widgetErrors: outputs.map((o) => o.textContent)
            .filter((t) => /Error displaying widget|Failed to load model class/.test(t)),
        // MathJax 3: mjx-merror for a malformed formula, red text for an undefined macro
        mathErrors: [...cell.querySelectorAll('mjx-merror, mjx-assistive-mml [mathcolor="red"]')]
            .map((e) => e.getAttribute('data-mjx-error') || e.textContent),
      };
    }),
  };
}
"""

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception)\b.*$", re.M)


class NotebookPage:
    """One notebook open in JupyterLab in its own browser page (and its own Lab workspace).

    path: the notebook's path under the server's root. Cells are addressed by index, in the
    order of the notebook file (every cell stays in the page: see ``LAB_SETTINGS``).
    """

    opened = 0

    def __init__(self, browser, lab, path, artifacts, viewport=VIEWPORT):
        self.lab, self.path, self.artifacts, self.viewport = lab, str(path), Path(artifacts), viewport
        self.page = browser.new_page(viewport=viewport)
        self.panel_id = None
        NotebookPage.opened += 1
        self.workspace = f"page-{NotebookPage.opened}"

    # ----- opening and running -----

    def open(self, timeout=120):
        """Open the notebook in a workspace of its own (so no other page's tabs come back with it),
        accept the kernel choice if Lab asks, and wait for an idle kernel."""
        self.page.goto(f"{self.lab.url}/lab/workspaces/{self.workspace}/tree/{quote(self.path)}",
                       timeout=timeout * 1000)
        panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        panel.wait_for(state="visible", timeout=timeout * 1000)
        self.panel_id = panel.get_attribute("id")
        self.wait(lambda s: s["status"] == "idle" and s["kernel"].endswith("| Idle"), timeout, "the kernel to start",
                  on_poll=self.accept_kernel_dialog)
        self.page.wait_for_timeout(300)
        return self

    def accept_kernel_dialog(self):
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.first.inner_text().lower():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()

    def menu(self, top, item):
        """Click ``top`` in the menu bar, then ``item`` in its menu (as a student does)."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()
        return self

    def run_all(self, timeout=240):
        """Run > Run All Cells, then wait until the kernel is idle and no cell is queued."""
        self.menu("Run", "Run All Cells")
        self.wait_until_executed(timeout)

    def wait_until_executed(self, timeout):
        """Wait until every code cell shows an execution count, or a cell shows an error."""
        def done(state):
            code = [c for c in state["cells"] if c["kind"] == "code"]
            queued = any("*" in c["prompt"] for c in code)
            counted = all(re.search(r"\[\d+\]", c["prompt"]) for c in code)
            failed = any(TRACEBACK.search(t) for c in code for t in c["stderr"])
            return state["status"] == "idle" and not queued and (counted or failed)
        self.wait(done, timeout, "every cell to run")
        self.wait_for_images()

    def wait_for_images(self, timeout=30):
        self.wait(lambda s: all(i["complete"] for c in s["cells"] for i in c["images"]), timeout,
                  "the images to load")

    def wait(self, condition, timeout, what, on_poll=None, settle=2):
        """Poll the page state until ``condition(state)`` holds ``settle`` times in a row."""
        deadline, streak = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            if on_poll:
                on_poll()
            state = self.state()
            streak = streak + 1 if condition(state) else 0
            if streak >= settle:
                return state
            self.page.wait_for_timeout(500)
        raise TimeoutError(self.failure(f"waited {timeout} s for {what}"))

    # ----- reading the page -----

    def state(self):
        return self.page.evaluate(PAGE_STATE_JS, self.panel_id)

    def failure(self, message):
        """``message`` with a screenshot and what the page shows: prompts, kernel state, errors."""
        shot = self.screenshot("FAILED")
        state = self.state()
        prompts = " ".join(c["prompt"] or "[ ]" for c in state["cells"] if c["kind"] == "code")
        errors = [f"cell {i}: {t[-1500:]}" for i, c in enumerate(state["cells"]) for t in c["stderr"]]
        return (f"{self.path}: {message}\nkernel: {state['kernel']}, {state['status']}; prompts: {prompts}\n"
                + ("error outputs:\n" + "\n".join(errors) + "\n" if errors else "")
                + f"screenshot: {shot}")

    def image_digests(self, index):
        """SHA-256 of the bytes of every image in the outputs of cell ``index`` (data: and blob: URLs alike)."""
        return self.cell(index).locator(".jp-OutputArea img").evaluate_all("""async (images) => {
            const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
            return Promise.all(images.map(async (img) =>
                hex(await crypto.subtle.digest('SHA-256', await (await fetch(img.src)).arrayBuffer()))));
        }""")

    def output_text(self, index):
        """The text the outputs of cell ``index`` show."""
        return self.cell(index).locator(".jp-Cell-outputArea").inner_text()

    def cell(self, index):
        return self.page.locator(f"#{self.panel_id} .jp-Notebook .jp-Cell").nth(index)

    # ----- acting on cells -----

    def set_source(self, index, source):
        """Replace the code of cell ``index`` as a student pasting it would."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(source)

    def run_cell(self, index, timeout=120):
        """Select cell ``index`` and press Shift+Enter; wait for its execution count."""
        before = self.state()["cells"][index]["prompt"]
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        self.wait(lambda s: s["status"] == "idle" and re.search(r"\[\d+\]", s["cells"][index]["prompt"])
                  and s["cells"][index]["prompt"] != before, timeout, f"cell {index} to run")
        self.wait_for_images()

    def slider(self, index, label):
        """The ipywidgets slider labelled ``label`` in the outputs of cell ``index``."""
        return self.cell(index).locator(".widget-slider", has=self.page.locator(
            ".widget-label", has_text=re.compile(f"^{re.escape(label)}$"))).first

    def cell_with_slider(self, label):
        """The index of the first cell whose outputs show a slider labelled ``label``, or None."""
        for index, cell in enumerate(self.state()["cells"]):
            if cell["widgets"] and self.slider(index, label).count():
                return index
        return None

    def press_on_slider(self, index, label, key):
        """Focus the handle of slider ``label`` in cell ``index`` and press ``key``, as a keyboard user does."""
        self.slider(index, label).locator(".noUi-handle").first.focus()
        self.page.keyboard.press(key)

    def slider_readout(self, index, label):
        return self.slider(index, label).locator(".widget-readout").inner_text()

    def wait_for_new_images(self, index, before, timeout=60):
        """Wait until the images of cell ``index`` differ from the digests ``before``; returns the new digests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            after = self.image_digests(index)
            if after and after != before:
                return after
            self.page.wait_for_timeout(250)
        raise TimeoutError(self.failure(f"the images of cell {index} did not change within {timeout} s"))

    # ----- pictures -----

    def screenshot_cell(self, index, suffix):
        """A PNG of cell ``index`` alone (input and outputs); returns its path."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        target = self.artifacts / f"{Path(self.path).stem}-{suffix}.png"
        self.cell(index).screenshot(path=str(target))
        return target

    def screenshot(self, suffix="", part_height=12000):
        """The whole notebook as PNGs, the viewport grown to show up to ``part_height`` pixels of it
        at once: ``<name>[-suffix].png``, then ``-2``, ``-3``... for a longer notebook. Returns the first path."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        stem = Path(self.path).stem + (f"-{suffix}" if suffix else "")
        scroller = self.page.locator(f"#{self.panel_id} .jp-WindowedPanel-outer")
        if not scroller.count():
            self.page.screenshot(path=str(self.artifacts / f"{stem}.png"))
            return self.artifacts / f"{stem}.png"
        content, visible = scroller.evaluate("(e) => [e.scrollHeight, e.clientHeight]")
        window = min(max(content, visible), part_height)
        self.page.set_viewport_size({"width": self.viewport["width"], "height": self.viewport["height"] - visible + window})
        try:
            for part in range(-(-content // window)):
                scroller.evaluate("(e, top) => { e.scrollTop = top; }", part * window)
                self.page.wait_for_timeout(400)
                name = f"{stem}.png" if part == 0 else f"{stem}-{part + 1}.png"
                self.page.screenshot(path=str(self.artifacts / name))
        finally:
            self.page.set_viewport_size(self.viewport)
        return self.artifacts / f"{stem}.png"

    def close(self):
        self.page.close()
