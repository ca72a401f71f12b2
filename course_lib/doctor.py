"""``course doctor``: check that everything the course needs is here, and say how to fix what is not."""

import importlib.metadata
import importlib.util
import os
import platform
import re
import sys
from dataclasses import dataclass

from .paths import course_root

DISTRIBUTION = "course-lib"
"""The installed distribution whose metadata lists what the course needs (pyproject.toml's one list)."""


def requirements():
    """``(required, optional)`` from the installed metadata: the package names of the dependencies,
    and ``{name: extra}`` for those of an extra (``test``, ``bench``)."""
    try:
        lines = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return [], {}
    required, optional = [], {}
    for line in lines:
        name = re.match(r"[A-Za-z0-9._-]+", line).group(0)
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        if extra:
            optional.setdefault(name, extra.group(1))
        else:
            required.append(name)
    return required, optional


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def check_python():
    ok = sys.version_info >= (3, 10)
    return Check("Python", ok, f"{platform.python_version()} at {sys.executable}",
                 "install Python 3.10 or newer (3.11 recommended)")


def check_packages():
    required, optional = requirements()
    if not required:
        return [Check(DISTRIBUTION, False, "not installed", "pip install -e .  (from the course folder)")]
    optional.pop("playwright", None)   # reported with the browser test's needs
    checks = []
    for name in required:
        try:
            checks.append(Check(name, True, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "missing", "pip install -e .  (from the course folder)"))
    for name, extra in optional.items():
        try:
            checks.append(Check(name, True, importlib.metadata.version(name), required=False))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed (optional)", f"pip install -e '.[{extra}]'",
                                required=False))
    return checks


def check_kernel():
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check("Jupyter kernel", False, "jupyter_client is missing", "pip install -e .")
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("Jupyter kernel", False, "no 'python3' kernel", f"{sys.executable} -m ipykernel install --user")
    return Check("Jupyter kernel", True, f"python3 -> {spec.argv[0]}")


def check_data():
    from .data import data_source, load_dataset

    kind, where = data_source()
    try:
        ds = load_dataset()
    except (OSError, ValueError) as e:
        return Check("data", False, f"{kind} from {where}: {e}",
                     "fix the MNIST files, or unset COURSE_MNIST_DIR to use the embedded digits")
    return Check("data", True, repr(ds))


def check_notebooks():
    folder = course_root() / "notebooks"
    found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    return Check("notebooks", bool(found), f"{len(found)} in {folder}" if found else f"none in {folder}",
                 "run course commands from the course folder (the one with notebooks/)")


CHROMIUM = "/usr/bin/chromium"
"""Where the browser tests look for Chromium unless $COURSE_CHROMIUM names another."""

WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
"""The JupyterLab extension that draws ipywidgets (sliders, the optimizer playground)."""


def chromium_wanted():
    """Where the browser tests look for Chromium: $COURSE_CHROMIUM, else /usr/bin/chromium."""
    return os.environ.get("COURSE_CHROMIUM") or CHROMIUM


def chromium_path():
    """The Chromium the browser tests drive (``chromium_wanted()``), or None when it is not an executable file."""
    path = chromium_wanted()
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def check_browser():
    """Chromium and Playwright, for the browser tests (tests/browser/); optional."""
    path = chromium_path()
    chromium = (Check("Chromium", True, path, required=False) if path else
                Check("Chromium", False, f"not at {chromium_wanted()} (optional)",
                      "for the browser tests: apt-get install -y chromium  (or set COURSE_CHROMIUM to a Chromium)",
                      required=False))
    if importlib.util.find_spec("playwright") is None:
        playwright = Check("playwright", False, "not installed (optional)",
                           "for the browser tests: pip install -e '.[test]'  (or pip install playwright)",
                           required=False)
    else:
        playwright = Check("playwright", True, importlib.metadata.version("playwright"), required=False)
    return [chromium, playwright]


def lab_disabled_extensions(paths):
    """The extension and plugin patterns JupyterLab's page config disables (every config level, and
    what the extensions in ``paths``, the labextensions folders, disable themselves)."""
    from jupyterlab_server.config import get_page_config

    app_dir = os.environ.get("JUPYTERLAB_DIR") or os.path.join(sys.prefix, "share", "jupyter", "lab")
    return get_page_config(paths, app_settings_dir=os.path.join(app_dir, "settings")).get("disabledExtensions", [])


def disables(pattern, name):
    """Whether a disabledExtensions entry (a name, a plugin id, or a regex as JupyterLab reads it) hits ``name``."""
    if pattern == name or pattern.startswith(name + ":"):
        return True
    try:
        return re.match(pattern, name) is not None
    except re.error:
        return False


def check_widgets_extension(paths=None):
    """ipywidgets' JupyterLab extension: installed where JupyterLab looks, matching ipywidgets, enabled.

    paths: the labextensions folders to search, first found wins (default: JupyterLab's own,
    ``jupyter_path("labextensions")``).
    """
    name = "JupyterLab widgets"
    fix = "pip install -e .  (it brings jupyterlab_widgets, which installs the extension), then restart JupyterLab"
    try:
        from jupyter_core.paths import jupyter_path
        from jupyterlab_server.config import get_federated_extensions
    except ImportError:
        return Check(name, False, "jupyterlab is missing", fix)
    paths = jupyter_path("labextensions") if paths is None else [str(p) for p in paths]
    extension = get_federated_extensions(paths).get(WIDGETS_EXTENSION)
    if extension is None:
        return Check(name, False, f"{WIDGETS_EXTENSION} not found in {', '.join(paths)}", fix)
    where = f"{WIDGETS_EXTENSION} {extension['version']} in {extension['ext_dir']}"
    try:
        ipywidgets = importlib.metadata.version("ipywidgets")
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, f"{where}, but ipywidgets is missing", fix)
    if int(ipywidgets.split(".")[0]) >= 8 and int(extension["version"].split(".")[0]) < 5:
        return Check(name, False, f"{where} is for ipywidgets 7, but ipywidgets {ipywidgets} is installed",
                     f"pip install -U jupyterlab_widgets  (or remove the old copy in {extension['ext_dir']})")
    hits = [p for p in lab_disabled_extensions(paths) if disables(p, WIDGETS_EXTENSION)]
    if hits:
        return Check(name, False, f"{where} is disabled ({', '.join(hits)})",
                     f"jupyter labextension enable {WIDGETS_EXTENSION}")
    return Check(name, True, f"{where}, enabled (ipywidgets {ipywidgets})")


def check_grading_isolation():
    """Whether ``course grade`` can isolate student code here (bubblewrap); optional, for instructors."""
    try:
        from course_instructor.grading.sandbox import INSTALL_BWRAP, isolation_status
    except ImportError:   # a student's copy of the course: it does not grade
        return []
    ok, detail = isolation_status()
    if ok:
        return Check("grading isolation", True, f"course grade runs student code in a sandbox: {detail}",
                     required=False)
    return Check("grading isolation", False, f"{detail} (optional: only for grading); course grade will refuse to "
                 "grade unless --allow-unisolated", f"for grading: {INSTALL_BWRAP}", required=False)


CHECKS = [check_python, check_packages, check_kernel, check_data, check_notebooks,
          check_widgets_extension, check_browser, check_grading_isolation]
"""The checks, in the order they are reported; each returns a Check or a list of them."""


def run_checks():
    results = []
    for check in CHECKS:
        result = check()
        results.extend(result if isinstance(result, list) else [result])
    return results


def register(subparsers):
    p = subparsers.add_parser("doctor", help="check Python, packages, kernel, data and notebooks",
                              description="Check that everything the course needs is installed and say how to fix "
                                          "what is missing. Exits 1 when something required is missing.")
    p.set_defaults(func=run)


def run(args=None):
    results = run_checks()
    width = max(len(c.name) for c in results)
    for c in results:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "--  ")
        print(f"[{mark}] {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            print(f"       {'':<{width}}  fix: {c.fix}")
    failed = [c for c in results if c.required and not c.ok]
    print("\nAll set." if not failed else f"\n{len(failed)} problem(s) to fix, listed above.")
    return 1 if failed else 0
