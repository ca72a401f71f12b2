"""``course execute``: run solutions notebooks top to bottom in a fresh kernel and store their outputs.

The stored outputs are what ``pytest --nbval`` compares against, so a notebook must come out
the same on every run:

- the kernel is IPython on this interpreter (whatever kernelspecs are installed), started in the
  notebook's folder, with ``COURSE_PROGRESS=0`` (no progress bars) and ``MPLBACKEND`` unset
  (figures drawn inline, as in JupyterLab);
- each cell's stream outputs are merged per stream, as nbval merges them;
- widget views are dropped from the outputs (their model ids are random and, without the widget
  state, they cannot be shown anyway); their text form stays;
- the volatile metadata release strips (timings, widget state, kernel and Python versions) is
  stripped here too, with ``release.strip_metadata``, and the notebook is written in the fixed layout.

A notebook whose cell fails, times out (``CELL_TIMEOUT`` seconds) or kills the kernel is not
rewritten.
"""

import os
import sys
import time
from pathlib import Path

from .cells import NotebookError, read_notebook, shown_path, write_notebook
from course_lib.paths import course_root
from .release import strip_metadata

CELL_TIMEOUT = 120
"""Seconds a cell may run."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def kernel_environment():
    """The kernel's environment: this process's, with ``COURSE_PROGRESS=0`` and no ``MPLBACKEND``."""
    env = dict(os.environ, COURSE_PROGRESS="0")
    env.pop("MPLBACKEND", None)
    return env


def run_cells(nb, cwd, timeout=CELL_TIMEOUT):
    """Execute the code cells of ``nb`` (plain dicts, as ``read_notebook`` gives) in order, in a
    fresh kernel started in ``cwd``; returns the notebook with its outputs and execution counts.

    Raises ``NotebookError`` naming the cell that raised, timed out or killed the kernel, or
    saying that the kernel failed to start.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)
    current = {}
    client = NotebookClient(
        nb, kernel_manager_class=this_python_kernel_manager(), timeout=timeout, record_timing=False,
        coalesce_streams=True, store_widget_state=False, resources={"metadata": {"path": str(cwd)}},
        on_cell_start=lambda cell, cell_index: current.update(cell=cell, index=cell_index))
    try:
        client.execute(env=kernel_environment())
    except CellExecutionError as e:
        raise NotebookError(f"raised {e.ename}: {e.evalue}", **current) from None
    except CellTimeoutError:
        raise NotebookError(f"did not finish within {timeout} s", **current) from None
    except DeadKernelError:
        raise NotebookError("killed the kernel (a crash, sys.exit or out of memory)", **current) from None
    except (RuntimeError, TimeoutError) as e:
        raise NotebookError(f"the kernel failed ({e}); does `course doctor` pass?", **current) from None
    return nb


def this_python_kernel_manager():
    """A kernel manager class whose kernel is always IPython on ``sys.executable``: a 'python3'
    kernelspec installed elsewhere (say, in ~/.local) could point at another Python."""
    from ipykernel.kernelspec import get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisPythonKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self):
            return KernelSpec(resource_dir="", **get_kernel_dict())

    return ThisPythonKernelManager


def drop_widget_views(nb):
    """Remove widget views from the outputs, keeping their other formats (text)."""
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if "data" not in o or o["data"]]
    return nb


def execute_notebook(path, timeout=CELL_TIMEOUT):
    """Execute the notebook at ``path`` in its own folder and rewrite it with its new outputs.
    Raises ``NotebookError`` (naming the file and cell) and leaves the file as it was on failure."""
    path = Path(path)
    try:
        nb = run_cells(read_notebook(path), cwd=path.parent, timeout=timeout)
    except NotebookError as e:
        raise e.locate(path=path)
    write_notebook(strip_metadata(drop_widget_views(nb)), path)


def register(subparsers):
    p = subparsers.add_parser(
        "execute", help="run solutions notebooks and store their outputs",
        description="Run each notebook top to bottom in a fresh kernel (COURSE_PROGRESS=0, inline figures, "
                    f"{CELL_TIMEOUT} s per cell) and store its outputs in place, so that pytest --nbval passes "
                    "on it. Exit codes: 0 all ran, 1 a notebook failed (it is left unchanged), 2 bad arguments.")
    p.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                   help="the notebooks to execute (default: every solutions/*.ipynb)")
    p.set_defaults(func=run)


def run(args):
    paths = args.notebooks or sorted((course_root() / "solutions").glob("*.ipynb"))
    missing = [str(path) for path in paths if not Path(path).is_file()]
    if not paths or missing:
        print(f"course execute: no such notebook: {', '.join(missing)}" if missing else
              f"course execute: no notebooks in {shown_path(course_root() / 'solutions')}", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        start = time.perf_counter()
        try:
            execute_notebook(path)
            print(f"executed {shown_path(path)} in {time.perf_counter() - start:.1f} s")
        except NotebookError as e:
            failed += 1
            print(f"FAILED after {time.perf_counter() - start:.1f} s: {e}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed and were left unchanged.", file=sys.stderr)
    return 1 if failed else 0
