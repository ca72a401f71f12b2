"""``course doctor``: check that everything the course needs is here, and say how to fix what is not."""

import importlib.metadata
import platform
import sys
from dataclasses import dataclass

from .paths import course_root

REQUIRED = ["numpy", "matplotlib", "jupyterlab", "ipykernel", "ipywidgets", "scikit-learn", "tqdm",
            "nbformat", "nbclient", "nbval", "joblib"]
OPTIONAL = {"pytest": "the tests: pip install -e '.[test]'", "torch": "the benchmark: pip install -e '.[bench]'"}


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
    checks = []
    for name in REQUIRED:
        try:
            checks.append(Check(name, True, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "missing", "pip install -e .  (from the course folder)"))
    for name, purpose in OPTIONAL.items():
        try:
            checks.append(Check(name, True, importlib.metadata.version(name), required=False))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed (optional)", f"for {purpose}", required=False))
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


CHECKS = [check_python, check_packages, check_kernel, check_data, check_notebooks]
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
