"""``course lab``: open the student notebooks in JupyterLab."""

import os
import subprocess
import sys

from .paths import course_root


def register(subparsers):
    p = subparsers.add_parser("lab", help="open the course notebooks in JupyterLab",
                              description="Start JupyterLab on the course's notebooks/ folder.")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--port", type=int, default=None, help="the port JupyterLab listens on")
    p.set_defaults(func=run)


def lab_command(folder, no_browser=False, port=None):
    """The JupyterLab command line for ``folder``, run by this Python."""
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder}"]
    if no_browser:
        command.append("--no-browser")
    if port:
        command.append(f"--port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:   # containers and CI machines often run as root
        command.append("--allow-root")
    return command


def run(args):
    folder = course_root() / "notebooks"
    if not folder.is_dir():
        print(f"course lab: no notebooks/ folder in {course_root()}; run this from the course folder", file=sys.stderr)
        return 2
    print(f"Opening {folder} in JupyterLab (Ctrl+C to stop).")
    return subprocess.call(lab_command(folder, args.no_browser, args.port))
