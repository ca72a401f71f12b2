"""Tests of ``course grade``: the pieces on their own (fast, no kernel), the hidden tests on the
reference implementations, and one class of hostile submissions graded once and shared by the
tests that read its gradebook (module-scoped fixture), plus a kill-and-resume run.

The hostile class is built from solutions/01 and 02: an honest student, a wrong answer, and one
student per attack. Each attacker attacks one exercise and is honest elsewhere, so the test can
say exactly what they must get: 0 on the attacked exercise, full marks on the rest.
"""

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import importlib

from course_instructor import cells, release
from course_lib.reference import MODULES, optim
from course_instructor.grading import agent, expect, probes, wire
from course_instructor.grading.hidden import LocalFunction, discover, local_functions, run_test
from course_instructor.grading.instructor import InstructorCopyError, load_course
from course_instructor.grading.report import gradebook_rows
from course_instructor.grading.run import GradingError, Options, grade_class
from course_instructor.grading.sandbox import blocked_copy
from course_instructor.stubs import working_functions
from course_instructor.grading.submission import Note, collect, exercise_sources, read_cells
from course_instructor.grading.validate import Validator
from course_lib.paths import course_root

ROOT = course_root()
SOLUTIONS = ROOT / "solutions"
HIDDEN = ROOT / "tests" / "hidden"
REFERENCE_MODULES = [importlib.import_module(f"course_lib.reference.{m}") for m in MODULES.values()]
TIMEOUT = 3.0


def reference(name):
    return next(getattr(m, name) for m in REFERENCE_MODULES if name in getattr(m, "__all__", ()))


# --------------------------------------------------------------------------------------
# The hidden tests on the reference implementations
# --------------------------------------------------------------------------------------

HIDDEN_TESTS = [t for exercises in discover(HIDDEN).values() for tests in exercises.values() for t in tests]


@pytest.mark.parametrize("test", HIDDEN_TESTS, ids=lambda t: f"{t.notebook}::{t.name}")
def test_hidden_test_passes_on_the_reference(test):
    names = (test.exercise, *test.uses)
    outcome = run_test(test, local_functions({name: reference(name) for name in names}))
    assert outcome.passed, outcome.hint


def test_every_graded_function_has_hidden_tests():
    graded = {"numerical_gradient", "gradient_descent", "ewma", "sgd", "sgd_momentum", "nesterov", "adagrad",
              "rmsprop", "adam", "step_decay", "exponential_decay", "inverse_time_decay", "cosine_restarts",
              "xavier", "he", "batchnorm_forward", "batchnorm_backward", "l2_penalty", "dropout_forward",
              "dropout_backward", "train_val_split", "log_uniform", "random_search"}
    assert {t.exercise for t in HIDDEN_TESTS} == graded


def test_hidden_tests_catch_a_wrong_adam():
    def adam_without_bias_correction(w, dw, config=None):
        config = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, **(config or {})}
        m = config["beta1"] * config.get("m", 0) + (1 - config["beta1"]) * dw
        v = config["beta2"] * config.get("v", 0) + (1 - config["beta2"]) * dw * dw
        return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), {**config, "m": m, "v": v,
                                                                                     "t": config.get("t", 0) + 1}

    functions = local_functions({"adam": adam_without_bias_correction})
    outcomes = [run_test(t, functions) for t in HIDDEN_TESTS if t.exercise == "adam"]
    assert [o.passed for o in outcomes].count(False) >= 2
    assert all("[" not in o.hint for o in outcomes)  # no array is ever shown


# --------------------------------------------------------------------------------------
# Plain data across the kernel boundary
# --------------------------------------------------------------------------------------

def test_wire_round_trip_keeps_types_and_dtypes():
    rng = np.random.default_rng(3)
    value = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "t": 7, "f": float("nan"), "inf": -np.inf,
             "pair": (1, [True, None, "é"]), "rng": rng, "f32": np.float32(1.5), "probe": probes.uniform(0, 1)}
    back = wire.decode(wire.encode(value))
    assert back["w"].dtype == np.float32 and np.array_equal(back["w"], value["w"])
    assert back["pair"] == (1, [True, None, "é"]) and back["t"] == 7 and np.isnan(back["f"])
    assert back["f32"].dtype == np.float32 and back["inf"] == -np.inf
    assert back["rng"].random() == np.random.default_rng(3).random()
    assert back["probe"](np.random.default_rng(0)) == probes.uniform(0, 1)(np.random.default_rng(0))


def test_wire_refuses_values_that_are_not_plain_data():
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.encode({"f": len})


@pytest.mark.parametrize("header", [b'{"array":["|O",[1],0,8]}', b'{"array":["<f8",[2],0,8]}', b'{"eval":"x"}',
                                    b'{"probe":{"list":["nope",null]}}', b"not json"])
def test_wire_refuses_forged_messages(header):
    with pytest.raises(wire.WireError):
        wire.decode(len(header).to_bytes(8, "big") + header + bytes(8))


def test_agent_turns_an_array_subclass_into_a_plain_array():
    class Anything(np.ndarray):
        def __eq__(self, other):
            return True

    functions = local_functions({"f": lambda: np.zeros(3).view(Anything)})
    result = functions["f"]()
    assert type(result) is np.ndarray and not (result == np.ones(3)).all()


def test_agent_keeps_objects_in_the_kernel_and_takes_them_back():
    functions = local_functions({"make": lambda: object(), "same": lambda a, b: a is b})
    kept = functions["make"]()
    assert isinstance(kept, wire.Handle) and functions["same"](kept, kept) is True


def test_agent_reports_the_student_line_and_silences_prints(capsys):
    def broken(x):
        print("noise" * 1000)
        return x.missing_attribute

    with pytest.raises(Exception) as raised:
        LocalFunction("broken", {"broken": broken}, agent.Handles())(np.ones(2))
    assert raised.value.error == "AttributeError" and raised.value.line == "return x.missing_attribute"
    assert "noise" not in capsys.readouterr().out


def test_agent_names_a_missing_function():
    with pytest.raises(Exception) as raised:
        LocalFunction("adam", {}, agent.Handles())(1)
    assert raised.value.kind == "not_defined" and raised.value.error == "adam"


def test_calls_copy_in_place_changes_back_to_the_caller():
    def update(d, x, rng):
        d["running"] = 1
        x += 1
        rng.random()

    d, x, rng = {"mode": "train"}, np.zeros(2), np.random.default_rng(0)
    local_functions({"update": update})["update"](d, x, rng)
    expected_rng = np.random.default_rng(0)
    expected_rng.random()
    assert d == {"mode": "train", "running": 1} and np.array_equal(x, [1, 1])
    assert rng.random() == expected_rng.random()


# --------------------------------------------------------------------------------------
# Safe assertions
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("got, hint", [([2.0, 4.0], "about 2x"), ([-1.0, -2.0], "sign is flipped"),
                                       ([1.0], "wrong shape"), ([1.0, 2.5], "largest relative error"),
                                       (None, "return statement")])
def test_close_says_how_values_differ_without_showing_them(got, hint):
    with pytest.raises(expect.Mismatch, match=hint) as raised:
        expect.close(got, [1.0, 2.0], "the step")
    assert "1.0" not in str(raised.value) and "2.0" not in str(raised.value)


def test_unchanged_names_the_input():
    with pytest.raises(expect.Mismatch, match="changed w in place"):
        expect.unchanged(np.ones(2), np.zeros(2), "w")


# --------------------------------------------------------------------------------------
# Reading submissions
# --------------------------------------------------------------------------------------

def _notebook_bytes(cells_=(), nbformat=4):
    return json.dumps({"cells": list(cells_), "metadata": {}, "nbformat": nbformat, "nbformat_minor": 5}).encode()


@pytest.mark.parametrize("data, status", [(b"{not json", "corrupt"), (b"[1, 2]", "corrupt"),
                                          (_notebook_bytes(nbformat=2), "unsupported_format")])
def test_unreadable_notebooks_get_a_status(data, status):
    assert read_cells(data)[1] == status


def test_non_utf8_bytes_are_replaced_and_noted():
    cell = {"cell_type": "code", "source": "x = 'CAFE'", "metadata": {}, "outputs": [], "id": "a"}
    data = _notebook_bytes([cell]).replace(b"CAFE", b"caf\xe9")
    found, status, _, notes = read_cells(data)
    assert status is None and "\ufffd" in found[0]["source"] and notes[0][0] == "not_utf8"


def test_nbformat_3_is_upgraded_and_noted():
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "def f():\n    return 1", "outputs": [], "language": "python",
         "metadata": {}}]}]}
    found, status, _, notes = read_cells(json.dumps(v3).encode())
    assert status is None and found[0]["source"].startswith("def f()") and notes[0][0] == "old_format"


def test_exercise_code_is_taken_by_id_then_by_function():
    code = [{"cell_type": "code", "id": i, "source": s} for i, s in [
        ("exercise-a", "def a():\n    return 1"), ("x1", "def b():\n    return 1"), ("x2", "def b():\n  return 2"),
        ("x3", "def c(:\n    broken")]]
    found = exercise_sources(code, {"a": "exercise-a", "b": "exercise-b", "c": "exercise-c", "d": "exercise-d"})
    assert found["a"] == ("def a():\n    return 1", "id")
    assert found["b"] == ("def b():\n  return 2", "function")  # the last definition, as running top to bottom
    assert found["c"][1] == "function" and "d" not in found


def test_collect_notes_extra_and_misnamed_files(tmp_path):
    for name in ["alice/01_gradient_descent.ipynb", "alice/02_optimizers (1).ipynb", "alice/notes.txt",
                 "alice/.ipynb_checkpoints/x.ipynb", "bob/01_gradient_descent-Copy1.ipynb", "bob/01_gd.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    students, submissions, notes = collect(tmp_path, ["01_gradient_descent", "02_optimizers"])
    paths = {(s.student, s.notebook): s.path and s.path.name for s in submissions}
    assert students == ["alice", "bob"]
    assert paths[("alice", "02_optimizers")] == "02_optimizers (1).ipynb"
    assert paths[("bob", "01_gradient_descent")] is None  # two candidates: neither is guessed
    assert Note("alice", "notes.txt", "extra_file", "not a notebook: ignored") in notes
    assert sorted(n.status for n in notes if n.student == "bob") == ["misnamed", "misnamed"]


# --------------------------------------------------------------------------------------
# The instructor's copy, the sandbox, nbval's comparison
# --------------------------------------------------------------------------------------

def test_an_exercise_without_hidden_tests_breaks_the_instructor_copy(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "hidden").mkdir()
    nb = cells.read_notebook(SOLUTIONS / "01_gradient_descent.ipynb")
    cells.write_notebook(nb, tmp_path / "solutions" / "01_gradient_descent.ipynb")
    with pytest.raises(InstructorCopyError, match="no hidden tests for numerical_gradient, gradient_descent"):
        load_course(tmp_path / "solutions", tmp_path / "hidden")


def test_the_blocked_copy_has_no_reference_code(tmp_path):
    stubbed = blocked_copy(tmp_path)
    assert len(stubbed) == 6 and "course_lib.reference.optim" in stubbed
    source = (tmp_path / "course_lib" / "reference" / "optim.py").read_text()
    assert "ReferenceUnavailable('course_lib.reference.optim.adam')" in source
    for path in (tmp_path / "course_lib" / "reference").glob("[!_]*.py"):
        assert working_functions(path.read_text()) == [], path.name
    assert "ReferenceUnavailable('course_lib.reference.optim.rms_update')" in source
    assert "def rmsprop" in source and (tmp_path / "course_instructor" / "grading" / "agent.py").exists()
    assert not (tmp_path / "course_instructor" / "grading" / "run.py").exists()
    assert not (tmp_path / "course_instructor" / "cases").exists()


def test_validator_compares_as_nbval_does():
    validator = Validator(ROOT / "tests" / "nbval_sanitize.cfg")
    cell = {"execution_count": 1, "outputs": [{"output_type": "stream", "name": "stdout", "text": "took 1.5 s\n"}]}
    assert validator.same([{"output_type": "stream", "name": "stdout", "text": "took 2 s\n"}], cell)[0]
    assert not validator.same([{"output_type": "stream", "name": "stdout", "text": "✗ wrong\n"}], cell)[0]


def test_gradebook_rows_are_sorted_with_notes_first():
    notes = [Note("b", "zz.txt", "extra_file", "x"), Note("a", "01_x (1).ipynb", "misnamed", "y")]
    rows = gradebook_rows([], notes)
    assert [r[0] for r in rows] == ["a", "b"]


def test_grading_a_missing_folder_fails_clearly(tmp_path):
    with pytest.raises(GradingError, match="is not a folder"):
        grade_class(Options(tmp_path / "nowhere", tmp_path / "grades"))


def test_cli_exits_2_for_a_broken_instructor_copy(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "solutions").mkdir()
    result = subprocess.run([sys.executable, "-m", "course_lib.cli", "grade", str(tmp_path / "subs"), "--out",
                             str(tmp_path / "grades"), "--solutions", str(tmp_path / "solutions")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "broken instructor copy" in result.stderr


# --------------------------------------------------------------------------------------
# A hostile class
# --------------------------------------------------------------------------------------

HONEST = {"01_gradient_descent": {}, "02_optimizers": {}}

WRONG_GD = '''def gradient_descent(grad, x0, learning_rate, num_steps):
    path = [np.array(x0, dtype=float)]
    for _ in range(num_steps):
        path.append(path[-1] + learning_rate * grad(path[-1]))
    return np.array(path)
'''

PATCHES = '''import numpy, numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None

def sgd(w, dw, config=None):
    return w, dict(config or {})
'''

PRINT_JSON = '''import builtins, json
builtins.print = lambda *a, **k: None
json.dumps = lambda *a, **k: '{"ok": true}'

def ewma(xs, beta, bias_correction=True):
    return np.asarray(xs, dtype=float)
'''

EQUALS_ANYTHING = '''class Anything(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
    __ne__ = lambda self, other: np.zeros(np.shape(other), dtype=bool)
    def __array_ufunc__(self, *args, **kwargs):
        return True

def adam(w, dw, config=None):
    return np.zeros_like(w).view(Anything), dict(config or {}, t=1, m=np.zeros_like(w).view(Anything),
                                                  v=np.zeros_like(w).view(Anything))
'''

DELEGATES = '''from course_lib.reference import optim as _optim

def sgd_momentum(w, dw, config=None):
    return _optim.sgd_momentum(w, dw, config)
'''

READS_SOURCE = f'''import course_lib, os

def nesterov(w, dw, config=None):
    namespace, real = {{}}, {str(Path(optim.__file__))!r}
    copy = os.path.join(os.path.dirname(course_lib.__file__), "reference", "optim.py")
    exec(open(real if os.path.exists(real) else copy).read(), namespace)
    return namespace["nesterov"](w, dw, config)
'''

SYS_EXIT = '''import sys

def numerical_gradient(f, x, h=1e-5):
    sys.exit(0)
'''

OS_EXIT = '''import os

def gradient_descent(grad, x0, learning_rate, num_steps):
    os._exit(3)
'''

LOOPS = '''def rmsprop(w, dw, config=None):
    while True:
        pass
'''

SEGFAULT = '''import ctypes

def adagrad(w, dw, config=None):
    return ctypes.string_at(0), config
'''

EATS_MEMORY = '''def nesterov(w, dw, config=None):
    hoard = bytearray(64 * 2**30)
    return w, config
'''

RENAMED = '''def adam2(w, dw, config=None):
    return w, config
'''

FORGED_ROW = "forged,02_optimizers,adam,999,4,passed,forged"


def _forges(source):
    return (f'FORGED = "{FORGED_ROW}"\nprint(FORGED)\n'
            'get_ipython().events.register("post_run_cell", lambda *a: print(FORGED))\n' + source)


def _daemon(source, marker, gradebook):
    """A detached process (double fork, new session, a new program whose command line names ``marker``)
    that ticks into the file ``marker`` and tries the gradebook; the cell waits for its first tick, so
    that it surely runs while the notebook is graded, and says so (the record shows it)."""
    ticker = (f"import sys, time\nfor _ in range(300):\n"
              f"    for path, line in [(sys.argv[1], f'{{time.monotonic()}}\\n'), (sys.argv[2], '{FORGED_ROW}\\n')]:\n"
              f"        try:\n            with open(path, 'a') as f:\n                f.write(line)\n"
              f"        except OSError:\n            pass\n    time.sleep(0.1)\n")
    return f'''import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", {ticker!r}, {str(marker)!r}, {str(gradebook)!r}])
    os._exit(0)
for _ in range(500):
    if os.path.exists({str(marker)!r}):
        print("the daemon is ticking")
        break
    time.sleep(0.01)
''' + source


def _appends(source, gradebook):
    return f'''try:
    with open({str(gradebook)!r}, "a") as f:
        f.write("{FORGED_ROW}\\n")
except OSError:
    pass
''' + source


def _floods(source):
    inside = source.replace("    ### BEGIN SOLUTION", '    print("y" * 100_000)\n    ### BEGIN SOLUTION', 1)
    return 'print("x" * 50_000_000)\n' + inside


def solution_source(notebook, exercise):
    nb = cells.read_notebook(SOLUTIONS / f"{notebook}.ipynb")
    return next(c["source"] for c in nb["cells"] if c.get("id") == f"exercise-{exercise}")


def write_student(folder, notebook, edit=None, raw=None, name=None):
    """A student's copy of a solutions notebook, changed by ``edit(nb)``; or ``raw`` bytes."""
    path = folder / (name or f"{notebook}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_bytes(raw)
        return
    nb = cells.read_notebook(SOLUTIONS / f"{notebook}.ipynb")
    if edit:
        edit(nb)
    cells.write_notebook(nb, path)


def replace(exercise, source):
    def edit(nb):
        for cell in nb["cells"]:
            if cell.get("id") == f"exercise-{exercise}":
                cell["source"] = source
    return edit


def released(nb):
    nb["cells"] = release.release_notebook(nb)["cells"]


def deletes_and_duplicates(nb):
    sgd_at = next(i for i, c in enumerate(nb["cells"]) if c.get("id") == "exercise-sgd")
    duplicate = copy.deepcopy(nb["cells"][sgd_at])
    duplicate["id"], duplicate["source"] = "duplicate-sgd", PATCHES.split("\n\n", 1)[1]
    nb["cells"].insert(sgd_at + 2, duplicate)
    nb["cells"] = [c for c in nb["cells"] if c.get("id") != "exercise-nesterov"]


def retags(nb):
    for cell in nb["cells"]:
        role = cells.cell_role(cell)
        if role == "check":
            cell["metadata"]["tags"] = ["exercise"]
            cell["source"] = 'print("✓ gradient_descent: 4 cases passed")'
        elif role == "setup":
            cell["metadata"]["tags"] = ["instructor"]
            cell["source"] = "# NBVAL_SKIP\nimport numpy as np\ncheck_gradient_descent = print"
        elif cell.get("id") == "exercise-gradient_descent":
            cell["source"] = "# NBVAL_SKIP\nimport numpy as np\n" + WRONG_GD
            cell["metadata"]["tags"] = ["setup"]


# student -> {notebook: edit}; EXPECTED: student -> {exercise: (status, score or None for full)}
def build_class(folder, marker, gradebook):
    gd, opt = "01_gradient_descent", "02_optimizers"
    students = {
        "honest": {gd: None, opt: None},
        "wrong": {gd: replace("gradient_descent", WRONG_GD)},
        "patches_allclose": {opt: replace("sgd", PATCHES)},
        "patches_print_json": {opt: replace("ewma", PRINT_JSON)},
        "equals_anything": {opt: replace("adam", EQUALS_ANYTHING)},
        "delegates": {opt: lambda nb: (replace("sgd_momentum", DELEGATES)(nb), replace("nesterov", READS_SOURCE)(nb))},
        "exits": {gd: replace("numerical_gradient", SYS_EXIT)},
        "os_exits": {gd: replace("gradient_descent", OS_EXIT)},
        "loops": {opt: replace("rmsprop", LOOPS)},
        "segfaults": {opt: replace("adagrad", SEGFAULT)},
        "eats_memory": {opt: replace("nesterov", EATS_MEMORY)},
        "floods": {opt: replace("sgd", _floods(solution_source(opt, "sgd")))},
        "renames": {opt: replace("adam", RENAMED)},
        "deletes_and_duplicates": {opt: deletes_and_duplicates},
        "retags": {gd: retags},
        "forges": {opt: replace("ewma", _forges(solution_source(opt, "ewma")))},
        "daemon": {gd: replace("numerical_gradient", _daemon(solution_source(gd, "numerical_gradient"), marker,
                                                             gradebook))},
        "appends": {gd: replace("gradient_descent", _appends(solution_source(gd, "gradient_descent"), gradebook))},
        "blank": {gd: released, opt: released},
    }
    for student, notebooks in students.items():
        for notebook, edit in notebooks.items():
            write_student(folder / student, notebook, edit)
    write_student(folder / "corrupt", gd, raw=b'{"cells": [')
    write_student(folder / "messy", gd, name="01_gradient_descent (1).ipynb")
    (folder / "messy" / "notes.txt").write_text("my notes")
    return folder


EXPECTED = {
    "wrong": {"gradient_descent": ("partial", 1)},  # zero steps are right even with the wrong sign
    "patches_allclose": {"sgd": ("failed", 0)},
    "patches_print_json": {"ewma": ("interfered", 0)},
    "equals_anything": {"adam": ("failed", 0)},
    "delegates": {"sgd_momentum": ("uses_reference", 0), "nesterov": ("uses_reference", 0)},
    "exits": {"numerical_gradient": ("failed", 0)},
    "os_exits": {"gradient_descent": ("crashed", 0)},
    "loops": {"rmsprop": ("timeout", 0)},
    "segfaults": {"adagrad": ("crashed", 0)},
    "eats_memory": {"nesterov": ("failed", 0)},
    "renames": {"adam": ("not_defined", 0)},
    "deletes_and_duplicates": {"nesterov": ("missing", 0)},
    "retags": {"gradient_descent": ("partial", 1)},
}
"""The attacked exercises; every other exercise of a submitted notebook must get full marks."""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "solutions").mkdir()
    for name in ("01_gradient_descent.ipynb", "02_optimizers.ipynb"):
        (root / "solutions" / name).write_bytes((SOLUTIONS / name).read_bytes())
    marker = Path("/tmp") / f"course-grade-daemon-{uuid.uuid4().hex}"  # in a sandbox: its private /tmp
    gradebook = root / "grades" / "grades.csv"
    build_class(root / "subs", marker, gradebook)
    run = grade_class(Options(root / "subs", root / "grades", jobs=2, timeout=TIMEOUT, solutions=root / "solutions",
                              allow_unisolated=True))
    written = gradebook.read_bytes()
    time.sleep(1)  # a daemon still alive would write meanwhile
    with open(gradebook, newline="") as f:
        rows = list(csv.DictReader(f))
    survivors = _processes_naming(marker.name)
    marker.unlink(missing_ok=True)
    yield {"run": run, "rows": rows, "root": root, "survivors": survivors, "written": written,
           "gradebook": gradebook, "uids": [u for u in run.sandbox.uids if u is not None],
           "exercises": sum(len(a.exercises) for a in run.assignments)}


def _score(rows, student):
    return {r["exercise"]: (r["status"], int(r["score"]), int(r["max_score"])) for r in rows
            if r["student"] == student and r["exercise"]}


def test_the_honest_student_gets_full_marks(graded):
    scores = _score(graded["rows"], "honest")
    assert len(scores) == graded["exercises"] and all((s, n) == ("passed", m) for s, n, m in scores.values())


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_an_attacker_gets_0_on_the_attack_and_keeps_the_rest(graded, student):
    if student == "delegates":
        _needs_isolation(graded)  # elsewhere the kernel can read course_lib's real source
    for exercise, (status, score, max_score) in _score(graded["rows"], student).items():
        if exercise in EXPECTED[student]:
            assert (status, score) == EXPECTED[student][exercise], exercise
        elif status != "missing_notebook":
            assert (status, score) == ("passed", max_score), (exercise, status)


def test_harmless_tricks_keep_full_marks(graded):
    _needs_isolation(graded)  # elsewhere a kernel may write into the gradebook
    for student in ("floods", "forges", "daemon", "appends"):
        scores = _score(graded["rows"], student)
        submitted = {e: s for e, s in scores.items() if s[0] != "missing_notebook"}
        assert submitted and all((s, n) == ("passed", m) for s, n, m in submitted.values()), student


def test_a_blank_notebook_is_not_attempted(graded):
    assert {s for s, _, _ in _score(graded["rows"], "blank").values()} == {"not_attempted"}


def test_unreadable_and_misnamed_files_get_rows(graded):
    rows = graded["rows"]
    assert {r["status"] for r in rows if r["student"] == "corrupt" and r["notebook"] == "01_gradient_descent"} == \
        {"corrupt"}
    messy = {(r["notebook"], r["status"]) for r in rows if r["student"] == "messy"}
    assert ("01_gradient_descent (1).ipynb", "misnamed") in messy and ("notes.txt", "extra_file") in messy
    assert _score(rows, "messy")["gradient_descent"][0] == "passed"


def test_no_forged_rows_and_every_student_exercise_once(graded):
    _needs_isolation(graded)
    rows = graded["rows"]
    students = {p.name for p in (graded["root"] / "subs").iterdir()}
    assert {r["student"] for r in rows} == students
    keys = [(r["student"], r["notebook"], r["exercise"]) for r in rows if r["exercise"]]
    assert len(keys) == len(set(keys)) == graded["exercises"] * len(students)
    assert all(int(r["score"]) <= int(r["max_score"]) for r in rows)
    assert FORGED_ROW.split(",")[0] not in {r["student"] for r in rows}


def _needs_isolation(graded):
    if graded["run"].host.isolation != "bwrap":
        pytest.skip(f"needs kernels isolated by bubblewrap (apt-get install bubblewrap); here: "
                    f"{graded['run'].host.detail}")


def test_no_student_process_outlives_grading(graded):
    _needs_isolation(graded)
    ran = (graded["root"] / "grades" / "records" / "daemon" / "01_gradient_descent.ipynb").read_text()
    assert "the daemon is ticking" in ran, "the daemon never started"
    assert graded["survivors"] == []
    assert graded["gradebook"].read_bytes() == graded["written"]
    assert _kernel_processes(set(graded["uids"])) == []


def test_feedback_explains_without_hidden_inputs(graded):
    text = (graded["root"] / "grades" / "feedback" / "wrong.md").read_text()
    assert "gradient_descent** 1/4" in text and "the whole path on a 4-D quadratic" in text
    assert "0.15" not in text  # the hidden learning rate


def test_summary_names_the_isolation(graded):
    text = graded["run"].text
    assert "Isolation: " in text and "Mean score per exercise" in text and "Rows by status" in text


# --------------------------------------------------------------------------------------
# Killed and resumed
# --------------------------------------------------------------------------------------

def _course_grade(subs, out, solutions):
    return [sys.executable, "-m", "course_lib.cli", "grade", str(subs), "--out", str(out), "--solutions",
            str(solutions), "--jobs", "2", "--timeout", str(TIMEOUT), "--allow-unisolated"]


def _processes_naming(text):
    """The pids of the processes whose command line contains ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


def _kernel_processes(uids, grader=None):
    """The processes of ``uids`` started by the grading process ``grader`` (default: this one; other
    graders on the machine may use the same users)."""
    found, mark = [], f"COURSE_GRADER_PID={grader or os.getpid()}".encode()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
            if uid in uids and mark in (status.parent / "environ").read_bytes().split(b"\0"):
                found.append(status.parent.name)
        except (OSError, StopIteration, ValueError):
            continue
    return found


def test_a_killed_run_resumes_to_the_same_gradebook(graded, tmp_path):
    root = graded["root"]
    subs = tmp_path / "subs"
    for student in ("honest", "wrong", "os_exits", "blank", "exits", "retags"):
        write_student(subs / student, "01_gradient_descent",
                      raw=(root / "subs" / student / "01_gradient_descent.ipynb").read_bytes())
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "01_gradient_descent.ipynb").write_bytes((SOLUTIONS / "01_gradient_descent.ipynb").read_bytes())
    env = {**os.environ, "COURSE_PROGRESS": "0"}
    subprocess.run(_course_grade(subs, tmp_path / "whole", solutions), check=True, capture_output=True, env=env)

    killed = subprocess.Popen(_course_grade(subs, tmp_path / "resumed", solutions), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = tmp_path / "resumed" / "records"
    deadline = time.monotonic() + 120
    while not list(records.glob("*/*.json")) and time.monotonic() < deadline and killed.poll() is None:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    done_before = len(list(records.glob("*/*.json")))
    deadline = time.monotonic() + 5
    while _kernel_processes(set(graded["uids"]), killed.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _kernel_processes(set(graded["uids"]), killed.pid)
    assert left == [], [Path(f"/proc/{pid}/status").read_text()[:300] for pid in left]
    subprocess.run(_course_grade(subs, tmp_path / "resumed", solutions), check=True, capture_output=True, env=env)

    assert 1 <= done_before < 6
    assert (tmp_path / "resumed" / "grades.csv").read_bytes() == (tmp_path / "whole" / "grades.csv").read_bytes()
    for feedback in (tmp_path / "whole" / "feedback").iterdir():
        assert (tmp_path / "resumed" / "feedback" / feedback.name).read_bytes() == feedback.read_bytes()


def test_a_python_under_tmp_shows_through_the_kernels_private_tmp(tmp_path, monkeypatch):
    """CI may check the course out (and make its virtual environment) under /tmp, which each
    kernel's sandbox gets a fresh private copy of: what kernels need there must stay visible, and
    the clean-up after each kernel must leave it."""
    from course_instructor.grading import sandbox as sandbox_module

    venv = tmp_path / "checkout" / ".venv"
    (venv / "lib").mkdir(parents=True)
    assert str(tmp_path).startswith("/tmp/")
    monkeypatch.setattr(sandbox_module, "python_folders", lambda: [str(venv)])
    box = sandbox_module.Sandbox(tmp_path / "course-grade-x", tmp_path / "course-grade-x" / "lib",
                                 [str(tmp_path / "checkout")], [None], sandbox_module.Limits(), [])
    view = box.view()
    assert view.index("--tmpfs") < view.index(str(venv))       # bound after /tmp is made private
    assert ["--ro-bind", str(venv), str(venv)] == view[view.index(str(venv)) - 1:view.index(str(venv)) + 2]
    assert box.kept_in_tmp() == [str(venv)]
