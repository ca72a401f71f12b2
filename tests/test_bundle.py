"""course release --bundle: what students receive holds no answer, installs and runs on its own.

Most tests use a tmp course folder with an inline solutions notebook, a stand-in environment.yml
and the checkout's real pyproject.toml and LICENSE; the answer tests bundle the real course.
"""

import ast
import re

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib import cli
from course_lib.checks import CHECKS
from course_lib.reference import MODULES
from course_instructor.bundle import BUNDLE_ENTRIES
from course_instructor.cells import EXERCISE, cell_role, defined_function, dumps, read_notebook
from course_instructor.release import release_folder
from course_instructor.stubs import PACKAGE, builds_on, working_functions

CHECKOUT = PACKAGE.parent

SOLUTION = new_notebook(cells=[
    new_markdown_cell("# Gradient descent, bundled\nA demo.", id="title"),
    new_code_cell("import sys\nimport numpy as np\nimport course_lib\nfrom course_lib.reference import momentum",
                  id="setup", metadata={"tags": ["setup"]}),
    new_code_cell('def step(w, dw):\n    """One step."""\n    ### BEGIN SOLUTION\n    return w - 0.1 * dw\n'
                  '    ### END SOLUTION', id="exercise-step", metadata={"tags": ["exercise"]}),
    new_markdown_cell("The reference implementation is not yours to call:", id="words"),
    new_code_cell("print(course_lib.__file__)\nprint(sys.executable)\ntry:\n    momentum.sgd(np.ones(2), np.ones(2))\n"
                  "except NotImplementedError as e:\n    print(e)", id="demo"),
])


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder, made the current folder: solutions/, notebooks/, environment.yml, pyproject.toml."""
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "solutions" / "01_bundled.ipynb").write_text(json.dumps(SOLUTION))
    (root / "environment.yml").write_text("name: course\ndependencies:\n  - python=3.11\n")
    (root / "pyproject.toml").write_text((CHECKOUT / "pyproject.toml").read_text())
    (root / "LICENSE").write_text((CHECKOUT / "LICENSE").read_text())
    monkeypatch.chdir(root)
    return root


def make_bundle(dest, *options):
    return cli.main(["release", "--bundle", str(dest), *options])


def test_bundle_holds_exactly_what_students_receive(course, tmp_path):
    assert make_bundle(tmp_path / "bundle") == 0
    bundle = tmp_path / "bundle"
    assert sorted(p.name for p in bundle.iterdir()) == sorted(BUNDLE_ENTRIES)
    assert (bundle / "notebooks" / "01_bundled.ipynb").read_text() == \
        dumps(release_folder(course / "solutions")["01_bundled.ipynb"])
    assert (bundle / "environment.yml").read_bytes() == (course / "environment.yml").read_bytes()
    assert (bundle / "LICENSE").read_bytes() == (CHECKOUT / "LICENSE").read_bytes()
    assert (bundle / "course_lib" / "model.py").read_bytes() == (PACKAGE / "model.py").read_bytes()
    assert 'include = ["course_lib*"]' in (bundle / "pyproject.toml").read_text()
    assert "course_instructor" not in (bundle / "pyproject.toml").read_text()
    assert not [p for p in bundle.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_bundle_readme_says_how_to_install_and_lists_the_notebooks(course, tmp_path):
    assert make_bundle(tmp_path / "bundle") == 0
    readme = (tmp_path / "bundle" / "README.md").read_text()
    for text in ["Python 3.10 or newer", "pip install -e .", "course lab", "`conda activate course`",
                 "1. `notebooks/01_bundled.ipynb`: Gradient descent, bundled", "# YOUR CODE HERE"]:
        assert text in readme


def test_bundle_refuses_a_folder_that_is_not_empty(course, tmp_path, capsys):
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "notes.txt").write_text("mine")
    assert make_bundle(tmp_path / "bundle") == 2
    assert "is not empty (it holds notes.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == ["notes.txt"]


def test_bundle_force_replaces_an_earlier_bundle_and_leaves_other_files(course, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert make_bundle(bundle) == 0
    (bundle / "notebooks" / "07_old.ipynb").write_text("{}")
    (bundle / ".git").mkdir()
    assert make_bundle(bundle, "--force") == 0
    assert sorted(p.name for p in (bundle / "notebooks").iterdir()) == ["01_bundled.ipynb"]
    assert (bundle / ".git").is_dir()
    assert "Left alone in" in capsys.readouterr().out


def test_bundle_refuses_a_folder_holding_solutions(course, capsys):
    assert make_bundle(course, "--force") == 2
    assert "holds solutions/ or tests/" in capsys.readouterr().err


def test_bundle_needs_environment_yml(course, tmp_path, capsys):
    (course / "environment.yml").unlink()
    assert make_bundle(tmp_path / "bundle") == 2
    assert "environment.yml: is missing, and the student bundle ships it" in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()


def test_bundle_writes_nothing_when_a_notebook_cannot_be_released(course, tmp_path):
    (course / "solutions" / "02_broken.ipynb").write_text("{")
    assert make_bundle(tmp_path / "bundle") == 2
    assert not (tmp_path / "bundle").exists()


RUN_FIRST_CELLS = """
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
import course_lib

path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
roles = [c.metadata.get("tags", []) for c in nb.cells]
nb.cells = [c for c, tags in zip(nb.cells, roles) if "setup" in tags or (c.cell_type == "code" and not tags)]
NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
print(json.dumps({"script": course_lib.__file__, "kernel": nb.cells[1].outputs[0]["text"]}))
"""


def setuptools_builds_wheels():
    """Whether the dev venv's setuptools can build the editable wheel offline: 70.1 and newer can
    on their own. Otherwise (a venv with ensurepip's setuptools 65, as CI makes) pip builds in an
    isolated environment and downloads setuptools for it."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    return tuple(int(part) for part in version.split(".")[:2]) >= (70, 1)


def test_bundle_installs_with_pip_and_runs_its_notebook(course, tmp_path):
    """pip install -e the bundle into a fresh venv, then run a released notebook's setup cell and
    first demo cell there: course_lib must come from the bundle, in the script and in the kernel.

    Installing the dependencies from PyPI takes minutes, so the venv gets them from the dev venv
    through a .pth file. Not PYTHONPATH: that would come before the venv's own site-packages, and
    the dev venv's editable-install finder module (same name) would shadow the bundle's.
    """
    bundle, venv = tmp_path / "bundle", tmp_path / "venv"
    assert make_bundle(bundle) == 0
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, env=env).stdout.strip()
    dev_sites = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "zz_dev_dependencies.pth").write_text("".join(f"{path}\n" for path in dev_sites))
    offline = ["--no-build-isolation", "--no-index"] if setuptools_builds_wheels() else []
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", *offline, "-e", str(bundle)],
                   check=True, cwd=tmp_path, env=env, capture_output=True)

    result = subprocess.run([python, "-c", RUN_FIRST_CELLS, str(bundle / "notebooks" / "01_bundled.ipynb")],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    ran = json.loads(result.stdout.splitlines()[-1])
    kernel_course_lib, kernel_python, stubbed = ran["kernel"].splitlines()
    assert Path(ran["script"]).resolve().parent == (bundle / "course_lib").resolve()
    assert Path(kernel_course_lib).resolve().parent == (bundle / "course_lib").resolve()
    assert Path(kernel_python).parent.resolve() == (venv / "bin").resolve()
    assert stubbed.startswith("course_lib.reference.momentum.sgd: the solution of notebook 02 is not released yet")

    commands = subprocess.run([python, "-m", "course_lib.cli", "--help"], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    assert commands.returncode == 0, commands.stderr[-2000:]
    listed = re.findall(r"^    ([a-z]+)  ", commands.stdout, re.MULTILINE)
    assert listed == ["lab", "doctor"]


# --------------------------------------------------------------------------------------
# The real course's bundle holds no answer
# --------------------------------------------------------------------------------------

def graded_functions():
    """{function name: notebook number} of every exercise of the real solutions/."""
    found = {}
    for path in sorted((CHECKOUT / "solutions").glob("*.ipynb")):
        for cell in read_notebook(path)["cells"]:
            if cell_role(cell) == EXERCISE:
                found[defined_function(cell["source"])] = path.name[:2]
    return found


def is_stub(function):
    """A function that can never return: a ``raise`` at the top level of its body, before any
    ``return`` (a released exercise keeps the lines around ``# YOUR CODE HERE``)."""
    for node in function.body:
        if isinstance(node, ast.Raise):
            return True
        if any(isinstance(inner, ast.Return) for inner in ast.walk(node)):
            return False
    return False


def working_answers(bundle):
    """``{(file, function)}`` for every working function in the bundle named like a graded function,
    in a .py file or a notebook's code cell, and every working function of course_lib/reference."""
    graded = graded_functions()
    found = set()
    for path in sorted(bundle.rglob("*")):
        if path.suffix == ".py":
            sources = [path.read_text(encoding="utf-8")]
        elif path.suffix == ".ipynb":
            sources = [c["source"] for c in read_notebook(path)["cells"] if c["cell_type"] == "code"]
        else:
            continue
        in_reference = path.parent.name == "reference"
        for source in sources:
            tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))
            for node in ast.walk(tree):
                if (isinstance(node, ast.FunctionDef) and (node.name in graded or in_reference)
                        and not is_stub(node)):
                    found.add((str(path.relative_to(bundle)), node.name))
    return found


@pytest.fixture(scope="module")
def real_bundles(tmp_path_factory):
    """The real course bundled twice: as released by default, and with notebooks 01 and 02 revealed."""
    out = tmp_path_factory.mktemp("real")
    cwd = Path.cwd()
    os.chdir(CHECKOUT)
    try:
        assert make_bundle(out / "default") == 0
        assert make_bundle(out / "revealed", "--reveal", "01,2") == 0
    finally:
        os.chdir(cwd)
    return out / "default", out / "revealed"


def test_the_real_bundle_holds_no_working_graded_function(real_bundles):
    default, _ = real_bundles
    assert sorted(graded_functions()) == sorted(CHECKS)   # every graded function, each with its self-check
    assert working_answers(default) == set()
    names = {p.name for p in default.rglob("*")}
    assert not {"course_instructor", "solutions", "tests", "hidden"} & names
    assert not [p for p in default.rglob("*_cases.py")]
    for path in default.rglob("*"):
        if path.is_file():
            assert "BEGIN SOLUTION" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_reveal_brings_back_exactly_the_revealed_notebooks(real_bundles):
    _, revealed = real_bundles
    working = working_answers(revealed)
    assert {file for file, _ in working} == {"course_lib/reference/descent.py", "course_lib/reference/momentum.py"}
    for number in ("01", "02"):
        name = f"{MODULES[number]}.py"
        assert (revealed / "course_lib" / "reference" / name).read_bytes() == (PACKAGE / "reference" / name).read_bytes()
    for number in sorted(set(MODULES) - {"01", "02"}):
        stubbed = (revealed / "course_lib" / "reference" / f"{MODULES[number]}.py").read_text()
        assert working_functions(stubbed) == [] and f"notebook {number} is not released yet" in stubbed
    readme = (revealed / "README.md").read_text()
    assert "The solutions of notebooks 01 and 02 are in" in readme


def test_reveal_rejects_an_unknown_notebook(course, tmp_path, capsys):
    assert make_bundle(tmp_path / "bundle", "--reveal", "10") == 2
    assert "--reveal: no notebook 10" in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()


def test_reveal_refuses_a_notebook_without_the_one_its_references_build_on(course, tmp_path, capsys):
    assert builds_on("03") == ["02"] and builds_on("02") == []
    assert make_bundle(tmp_path / "bundle", "--reveal", "3") == 2
    error = capsys.readouterr().err
    assert "notebook 03 (adaptive.py) build on those of notebook 02" in error and "--reveal 02,03" in error
    assert not (tmp_path / "bundle").exists()
