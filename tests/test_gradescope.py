"""Tests of ``course gradescope``: the zip, results.json, and the autograder end to end.

End to end, as Gradescope would run it: the zip (built by the command) is unpacked into
``R/autograder/source``, a submission is put in ``R/autograder/submission``, and the zip's own
``run_autograder`` runs with ``AUTOGRADER_ROOT=R/autograder`` and this machine's Python
(``AUTOGRADER_PYTHON``) instead of the virtual environment setup.sh would make; setup.sh itself
is checked for syntax and for naming only files of the zip. An honest submission gets every
point; a hostile one gets 0 on each attacked exercise, full marks elsewhere, exactly what
``course grade`` gives the same files, and learns nothing of the solutions. R is under /var/tmp:
/tmp is private to each kernel, so a kernel that cannot read R there proves nothing.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_instructor import cells
from course_instructor.gradescope.autograder import gather
from course_instructor.gradescope.package import GradescopeError, Settings, build, select_notebooks
from course_instructor.gradescope.results import check_results, results
from course_instructor.grading.instructor import load_course
from course_instructor.grading.notebook import ExerciseResult
from course_instructor.grading.run import Options, grade_class
from course_instructor.grading.submission import Note
from course_lib.paths import course_root

ROOT = course_root()
HIDDEN = ROOT / "tests" / "hidden"
NOTEBOOKS = ("01_gradient_descent", "02_momentum")
TESTS = {a.notebook: {ex: len(cases.data["cases"]) for ex, cases in a.tests.items()}
         for a in load_course(ROOT / "solutions", HIDDEN) if a.notebook in NOTEBOOKS}
POINTS = sum(n for exercises in TESTS.values() for n in exercises.values())
TIMEOUT = "4"


# --------------------------------------------------------------------------------------
# A copy of the course's solutions to build packages from
# --------------------------------------------------------------------------------------

def copy_solutions(dest, notebooks=NOTEBOOKS):
    dest.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        cells.write_notebook(cells.read_notebook(ROOT / "solutions" / f"{name}.ipynb"), dest / f"{name}.ipynb")
    return dest


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return copy_solutions(tmp_path_factory.mktemp("course") / "solutions")


def cli_build(out, solutions, *options):
    return subprocess.run([sys.executable, "-m", "course_lib.cli", "gradescope", "--out", str(out), "--solutions",
                           str(solutions), "--timeout", TIMEOUT, *options], capture_output=True, text=True)


@pytest.fixture(scope="module")
def package(course):
    out = course.parent / "autograder.zip"
    built = cli_build(out, course)
    assert built.returncode == 0, built.stderr
    return SimpleNamespace(zip=out, stdout=built.stdout)


@pytest.fixture
def var_tmp():
    folder = Path(tempfile.mkdtemp(prefix="course-gradescope-test-", dir="/var/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def unpack(zip_path, folder):
    """``folder/autograder/{source,submission,results}`` as Gradescope lays them out."""
    root = folder / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission_metadata.json").write_text(json.dumps({"id": 1, "users": [{"name": "A Student"}],
                                                               "previous_submissions": []}))
    return root


def run_autograder(root):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    data = json.loads((root / "results" / "results.json").read_text())
    return done, data


def by_exercise(data):
    return {t["extra_data"]["exercise"]: t for t in data["tests"]}


def assert_gradescope_format(data, visibility="after_due_date"):
    """results.json field by field, as Gradescope's specification documents them."""
    assert check_results(data) == []
    assert isinstance(data["score"], (int, float)) and data["score"] == sum(t["score"] for t in data["tests"])
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    assert isinstance(data["output"], str) and isinstance(data["execution_time"], (int, float))
    expected = [(nb, ex) for nb in NOTEBOOKS for ex in TESTS[nb]]
    assert [(t["extra_data"]["notebook"], t["extra_data"]["exercise"]) for t in data["tests"]] == expected
    for test, (nb, ex) in zip(data["tests"], expected):
        assert set(test) == {"name", "number", "score", "max_score", "status", "output", "visibility", "tags",
                             "extra_data"}
        assert test["name"] == f"{nb}: {ex}" and test["max_score"] == TESTS[nb][ex]
        assert test["number"].startswith(f"{int(nb[:2])}.")
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert test["visibility"] == visibility and test["output"]
    assert data["extra_data"]["points_possible"] == POINTS


# --------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------

def test_the_zip_holds_the_scripts_the_settings_and_the_course(package):
    with zipfile.ZipFile(package.zip) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        settings = json.loads(archive.read("autograder.json"))
    names = set(infos)
    assert {"setup.sh", "run_autograder", "autograder.json", "course/pyproject.toml", "course/README.md"} <= names
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 == 0o100755
    assert {n for n in names if n.startswith("course/solutions/")} == {f"course/solutions/{nb}.ipynb"
                                                                        for nb in NOTEBOOKS}
    assert {n for n in names if n.startswith("course/tests/hidden/cases/")} == {
        f"course/tests/hidden/cases/{ex}.json" for nb in NOTEBOOKS for ex in TESTS[nb]}
    assert "course/course_lib/reference/momentum.py" in names and "course/course_instructor/grading/run.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("notebooks/", "."))]
    assert settings["notebooks"] == list(NOTEBOOKS) and settings["visibility"] == "after_due_date"
    assert settings["timeout"] == float(TIMEOUT) and settings["score_visibility"] == "visible"
    assert "Wrote" in package.stdout and f"{POINTS} points" in package.stdout


def test_the_zip_is_reproducible(package, course, tmp_path):
    again = tmp_path / "again.zip"
    assert cli_build(again, course).returncode == 0
    assert again.read_bytes() == package.zip.read_bytes()


def test_setup_sh_is_bash_and_names_only_files_of_the_zip(package, tmp_path):
    with zipfile.ZipFile(package.zip) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        checked = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    setup = (tmp_path / "setup.sh").read_text()
    referenced = re.findall(r'\$SOURCE/([\w./-]+)', setup)
    assert "course" in referenced
    for path in referenced:
        assert path in names or any(n.startswith(path.rstrip("/") + "/") for n in names), path
    assert 'pip" install -e "$SOURCE/course"' in setup          # the course from the zip, not from the internet
    assert not re.search(r"https?://|git clone|curl |wget ", setup)
    assert "--check" in setup and 'chmod -R go-rwx "$SOURCE"' in setup
    assert re.search(r"apt-get install -y .*python3-venv", setup)


def test_notebooks_are_chosen_by_number_or_name(course):
    assert select_notebooks(course, ["2", "01_gradient_descent.ipynb", "02"]) == list(NOTEBOOKS)
    assert select_notebooks(course) == list(NOTEBOOKS)
    with pytest.raises(GradescopeError, match="no such notebook"):
        select_notebooks(course, ["07"])


def test_a_package_of_one_notebook_and_the_visibility_choices(course, tmp_path):
    build(tmp_path / "one.zip", course, HIDDEN, ["01"], visibility="hidden")
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        names = archive.namelist()
        assert json.loads(archive.read("autograder.json"))["visibility"] == "hidden"
    assert "course/solutions/02_momentum.ipynb" not in names
    assert "course/tests/hidden/cases/numerical_gradient.json" in names
    assert "course/tests/hidden/cases/sgd.json" not in names
    with pytest.raises(GradescopeError, match="never visible before the deadline"):
        Settings(visibility="visible")
    refused = cli_build(tmp_path / "x.zip", course, "--visibility", "visible")
    assert refused.returncode == 2 and not (tmp_path / "x.zip").exists()


def test_a_broken_instructor_copy_builds_no_zip(tmp_path):
    (tmp_path / "solutions").mkdir()
    assert cli_build(tmp_path / "x.zip", tmp_path / "solutions").returncode == 2
    nb = cells.read_notebook(ROOT / "solutions" / "01_gradient_descent.ipynb")
    for cell in nb["cells"]:
        cell["source"] = cell["source"].replace("numerical_gradient(", "untested_gradient(")
    cells.write_notebook(nb, tmp_path / "solutions" / "07_untested.ipynb")
    broken = cli_build(tmp_path / "x.zip", tmp_path / "solutions")
    assert broken.returncode == 2 and "no hidden cases for untested_gradient" in broken.stderr
    assert not (tmp_path / "x.zip").exists()


def test_course_help_lists_gradescope():
    shown = subprocess.run([sys.executable, "-m", "course_lib.cli", "--help"], capture_output=True, text=True)
    assert "gradescope" in shown.stdout


# --------------------------------------------------------------------------------------
# Pieces: gathering a submission, results.json
# --------------------------------------------------------------------------------------

def test_gather_flattens_folders_and_never_follows_links(tmp_path):
    sub = tmp_path / "submission"
    (sub / "work" / "deeper").mkdir(parents=True)
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / "__MACOSX").mkdir()
    (sub / "work" / "01_gradient_descent.ipynb").write_text("{}")
    (sub / "work" / "deeper" / "01_gradient_descent.ipynb").write_text("[]")
    (sub / ".ipynb_checkpoints" / "02_momentum.ipynb").write_text("{}")
    (sub / "__MACOSX" / "02_momentum.ipynb").write_text("{}")
    secret = tmp_path / "secret.ipynb"
    secret.write_text("the solution")
    (sub / "02_momentum.ipynb").symlink_to(secret)
    (sub / "notes.txt").write_text("not a notebook")
    notes = dict(gather(sub, tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["01_gradient_descent.ipynb"]
    assert (tmp_path / "out" / "01_gradient_descent.ipynb").read_text() == "{}"
    assert "symbolic link" in notes["02_momentum.ipynb"]
    assert notes["work/01_gradient_descent.ipynb"] == "graded as 01_gradient_descent.ipynb"
    assert "ignored" in notes["work/deeper/01_gradient_descent.ipynb"]


def _assignment(notebook, tests):
    return SimpleNamespace(notebook=notebook, exercises=list(tests), tests={k: [None] * n for k, n in tests.items()})


def test_results_map_each_exercise_to_a_test_and_say_which_files_were_graded():
    assignments = [_assignment("01_a", {"f": 2, "g": 3}), _assignment("02_b", {"h": 1})]
    partial = ExerciseResult("g", "partial", 1, 3, "1/3 hidden tests passed; failed: odd shapes: off by 2x",
                             tests=[("odd shapes", False, "off by 2x"), ("a step", True, ""), ("many", False, "")],
                             self_check="✗ g: wrong")
    records = {"01_a": SimpleNamespace(results=[ExerciseResult("f", "passed", 2, 2, "2/2"), partial],
                                       notes=[("01_a.ipynb", "old_format", "upgraded")])}
    data = results(assignments, records, [Note("submission", "x.ipynb", "extra_file", "not a course notebook")],
                   {"visibility": "after_published", "score_visibility": "hidden"}, 1.23,
                   [("work/01_a.ipynb", "graded as 01_a.ipynb")])
    assert check_results(data) == [] and data["score"] == 3 and data["visibility"] == "hidden"
    f, g, h = data["tests"]
    assert (f["status"], g["status"], h["status"]) == ("passed", "failed", "failed")
    assert (g["number"], h["number"], h["output"]) == ("1.2", "2.1", "not graded")
    assert g["output"].splitlines() == ["1/3: 1/3 hidden tests passed; failed: odd shapes: off by 2x",
                                        "✗ odd shapes: off by 2x", "✗ many", "your self-check printed: ✗ g: wrong"]
    assert all(t["visibility"] == "after_published" for t in data["tests"])
    for text in ("01_a.ipynb: graded", "02_b.ipynb: not graded", "x.ipynb: not a course notebook",
                 "work/01_a.ipynb: graded as 01_a.ipynb", "01_a.ipynb: upgraded", "once the grades are published"):
        assert text in data["output"]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["tests"][0].update(status="ok"), "status"),
    (lambda d: d["tests"][0].update(visibility="public"), "visibility"),
    (lambda d: d["tests"][0].update(score=9), "between 0 and max_score"),
    (lambda d: d["tests"][0].update(points=1), "unknown field"),
    (lambda d: d.update(score="3"), "score is a str"),
    (lambda d: d.update(score=4), "sum of the tests"),
])
def test_check_results_names_what_gradescope_would_refuse(change, problem):
    data = {"score": 3, "tests": [{"name": "a", "score": 1, "max_score": 1, "status": "passed"},
                                  {"name": "b", "score": 2, "max_score": 2}]}
    assert check_results(data) == []
    change(data)
    assert any(problem in p for p in check_results(data))


# --------------------------------------------------------------------------------------
# End to end
# --------------------------------------------------------------------------------------

def _honest(dest, solutions):
    dest.mkdir(parents=True, exist_ok=True)
    for nb in NOTEBOOKS:
        shutil.copyfile(solutions / f"{nb}.ipynb", dest / f"{nb}.ipynb")


def _replace(notebook, path, sources):
    nb = cells.read_notebook(notebook)
    for cell in nb["cells"]:
        for exercise, source in sources.items():
            if cell.get("id") == f"exercise-{exercise}":
                cell["source"] = source
    path.parent.mkdir(parents=True, exist_ok=True)
    cells.write_notebook(nb, path)


def _exercise_source(notebook, exercise):
    nb = cells.read_notebook(notebook)
    return next(c["source"] for c in nb["cells"] if c.get("id") == f"exercise-{exercise}")


SYS_EXIT = "import sys\n\ndef numerical_gradient(f, x, h=1e-5):\n    sys.exit(0)\n"
WRONG_GD = '''def gradient_descent(grad, x0, learning_rate, num_steps):
    path = [np.array(x0, dtype=float)]
    for _ in range(num_steps):
        path.append(path[-1] + learning_rate * grad(path[-1]))
    return np.array(path)
'''
DELEGATES = '''from course_lib.reference import momentum as _momentum

def sgd_momentum(w, dw, config=None):
    return _momentum.sgd_momentum(w, dw, config)
'''


def _exfiltrates(paths):
    """A function that reads ``paths`` and raises what it read: its self-check prints the error,
    and what the check printed reaches results.json."""
    return f'''def nesterov(w, dw, config=None):
    read = []
    for path in {[str(p) for p in paths]!r}:
        try:
            read.append(open(path).read().replace("\\n", " ")[:300])
        except OSError as e:
            read.append(type(e).__name__)
    raise RuntimeError("READ: " + " | ".join(read))
'''


def _forges_results(results, honest):
    return f'''for _name in ("results.json", "forged.json"):
    try:
        with open({str(results)!r} + "/" + _name, "w") as _f:
            _f.write('{{"score": 999}}')
    except OSError:
        pass
''' + honest


def hostile_submission(root, solutions):
    """Attacks in both notebooks, each on one exercise (honest elsewhere), and a link to a solution:
    01 lies in a folder, and a link named 01_gradient_descent.ipynb at the top points at the solution."""
    source = root / "source" / "course"
    secrets = [source / "solutions" / "02_momentum.ipynb", source / "course_lib" / "reference" / "momentum.py",
               source / "tests" / "hidden" / "cases" / "nesterov.json", root / "source" / "setup.sh"]
    sub = root / "submission"
    _replace(solutions / "01_gradient_descent.ipynb", sub / "work" / "01_gradient_descent.ipynb",
             {"numerical_gradient": SYS_EXIT, "gradient_descent": WRONG_GD})
    (sub / "01_gradient_descent.ipynb").symlink_to(source / "solutions" / "01_gradient_descent.ipynb")
    opt = solutions / "02_momentum.ipynb"
    _replace(opt, sub / "02_momentum.ipynb", {
        "sgd_momentum": DELEGATES, "nesterov": _exfiltrates(secrets),
        "ewma": _forges_results(root / "results", _exercise_source(opt, "ewma"))})
    return secrets


ATTACKED = {"numerical_gradient": 0, "gradient_descent": 1, "sgd_momentum": 0, "nesterov": 0}
"""The hostile submission's attacked exercises and what they score; every other one is full."""


def secret_lines(path):
    """What must not leak from ``path``: a hidden case file's numbers (the start of each expected
    output), a notebook's solution regions, a Python file's code lines (not its docstrings, which
    restate public contracts), the lines of anything else."""
    if path.suffix == ".ipynb":
        sources = [c["source"] for c in cells.read_notebook(path)["cells"] if cells.cell_role(c) == "exercise"]
        lines = [line for source in sources
                 for line in source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0].splitlines()]
    elif path.suffix == ".json":
        cases = json.loads(path.read_text())["cases"]
        return [json.dumps(value)[:40] for case in cases for value in case["expected"].values()]
    if path.suffix == ".py":
        docstrings = {number for n in ast.walk(ast.parse(path.read_text()))
                      if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                      for number in range(n.lineno, n.end_lineno + 1)}
        lines = [line for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if number not in docstrings and not line.lstrip().startswith(('"', "'", "#"))]
    else:
        lines = path.read_text().splitlines()
    return [line.strip()[:60] for line in lines if len(line.strip()) > 20 and "import" not in line]


def assert_hostile_graded(data, secrets):
    assert_gradescope_format(data)
    tests = by_exercise(data)
    for exercise, test in tests.items():
        assert test["score"] == ATTACKED.get(exercise, test["max_score"]), (exercise, test["output"])
    assert tests["sgd_momentum"]["extra_data"]["status"] == "uses_reference"
    assert tests["numerical_gradient"]["extra_data"]["status"] == "failed"
    # the channel works (the cell's error reaches results.json), and carries nothing: the kernel's
    # user cannot enter the source folder (and, with namespaces, its solutions/, tests/ and
    # course_lib/ are empty besides)
    unread = r"(PermissionError|FileNotFoundError)"
    assert re.search(rf"RuntimeError: READ: {unread}( \| {unread}){{3}}", tests["nesterov"]["output"]), \
        tests["nesterov"]["output"]
    text = json.dumps(data)
    for secret in secrets:
        for line in secret_lines(secret):
            assert line not in text, line
    assert "BEGIN SOLUTION" not in text and data["score"] != 999
    assert "01_gradient_descent.ipynb: a symbolic link" in data["output"]
    assert "work/01_gradient_descent.ipynb: graded as 01_gradient_descent.ipynb" in data["output"]


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the autograder grades only where kernels can run as "
                                                           "other users: as root (as on Gradescope)")


@needs_root
def test_an_honest_submission_gets_every_point(package, course, var_tmp):
    root = unpack(package.zip, var_tmp)
    _honest(root / "submission", course)
    done, data = run_autograder(root)
    assert done.returncode == 0, done.stderr
    assert_gradescope_format(data)
    assert data["score"] == POINTS and all(t["status"] == "passed" for t in data["tests"])
    assert "01_gradient_descent.ipynb: graded" in data["output"] and "after the due date" in data["output"]
    assert "Isolation:" in done.stdout and "Score 41" not in done.stderr
    if os.geteuid() == 0:
        assert (root / "source").stat().st_mode & 0o077 == 0   # no one but root enters the source


@needs_root
def test_a_hostile_submission_gets_what_course_grade_gives_it(package, course, var_tmp):
    root = unpack(package.zip, var_tmp)
    secrets = hostile_submission(root, course)
    done, data = run_autograder(root)
    assert done.returncode == 0, done.stderr
    assert_hostile_graded(data, secrets)
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    # the same files graded by `course grade` (the zip's copy already moved the link aside: grade the real files)
    subs = var_tmp / "subs" / "student"
    subs.mkdir(parents=True)
    shutil.copyfile(root / "submission" / "work" / "01_gradient_descent.ipynb", subs / "01_gradient_descent.ipynb")
    shutil.copyfile(root / "submission" / "02_momentum.ipynb", subs / "02_momentum.ipynb")
    run = grade_class(Options(var_tmp / "subs", var_tmp / "grades", timeout=float(TIMEOUT), solutions=course))
    graded = {r.exercise: (r.score, r.status) for record in run.records.values() for r in record.results}
    assert graded == {t["extra_data"]["exercise"]: (t["score"], t["extra_data"]["status"]) for t in data["tests"]}


def _others_can_run_this_python():
    """Whether an unprivileged user can enter every folder of this Python (not so under /root)."""
    for prefix in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve()}:
        for folder in [prefix, *prefix.parents]:
            if folder.is_dir() and not folder.stat().st_mode & 0o001:
                return False
    return True


@needs_root
def test_without_namespaces_the_source_is_still_out_of_reach(course, var_tmp):
    """Gradescope's containers may refuse namespaces: kernels then only run as another user, and
    the source folder's permissions keep the solutions from them. Where no unprivileged user can
    run this Python either (it lies under /root), the autograder refuses to grade at all."""
    out = var_tmp / "uid.zip"
    assert cli_build(out, course, "--isolation", "uid").returncode == 0
    root = unpack(out, var_tmp / "r")
    secrets = hostile_submission(root, course)
    done, data = run_autograder(root)
    if not _others_can_run_this_python():
        assert done.returncode == 1 and check_results(data) == [] and data["score"] == 0 and data["tests"] == []
        assert "could not grade this submission" in data["output"] and "tell the instructor" in data["output"]
        return
    assert done.returncode == 0, done.stderr
    assert "Isolation: uid" in done.stdout
    assert_hostile_graded(data, secrets)


def test_a_broken_package_says_so_in_results_json(package, var_tmp):
    root = unpack(package.zip, var_tmp)
    (root / "source" / "course" / "tests" / "hidden" / "cases" / "ewma.json").unlink()
    done, data = run_autograder(root)
    assert done.returncode == 1 and check_results(data) == []
    assert data["score"] == 0 and data["tests"] == [] and "tell the instructor" in data["output"]
    assert "no hidden cases for ewma" in done.stderr


@needs_root
def test_the_setup_check_grades_the_solutions(package, var_tmp):
    root = unpack(package.zip, var_tmp)
    env = {**os.environ, "PYTHONPATH": str(root / "source" / "course")}
    done = subprocess.run([sys.executable, "-m", "course_instructor.gradescope.autograder", "--root", str(root),
                           "--check"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"the solutions get {POINTS} / {POINTS}" in done.stdout
    assert not (root / "results" / "results.json").exists()
