"""Tests of ``course grade``: the pieces on their own (fast, no kernel), the hidden cases on the
reference implementations and on every known mistake, and one class of hostile submissions
graded once and shared by the tests that read its gradebook (module-scoped fixture), plus a
kill-and-resume run.

The hostile class is built from solutions/01 and 02: an honest student, a wrong answer, and one
student per attack. Each attacker attacks one exercise and is honest elsewhere, so the test can
say exactly what they must get: 0 on the attacked exercise, full marks on the rest.
"""

import copy
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from test_checks import cs231n_adam   # the self-check tests' CS231n-style Adam, graded here

import importlib

from course_instructor import cells, release
from course_instructor.cases import build
from course_lib.checks import probes
from course_lib.checks.framework import Finding, Protocol, StoredCase, discrepancy
from course_lib.reference import MODULES, momentum
from course_instructor.grading import agent, wire
from course_instructor.grading.agent import ReferenceUnavailable
from course_instructor.grading.hidden import LocalFunction, grade, load_hidden, local_functions
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
# The hidden cases on the reference implementations and on the known mistakes
# --------------------------------------------------------------------------------------

HIDDEN_CASES = load_hidden(HIDDEN)
SPECS = build.specs()
FORWARDS = {"batchnorm_backward": "batchnorm_forward", "dropout_backward": "dropout_forward",
            "layernorm_backward": "layernorm_forward"}
"""A backward's check calls the forward defined next to it: here, the reference's."""


def outcomes(exercise, fn):
    """The outcome of every hidden case of ``exercise`` for ``fn``, called through the agent as in a kernel."""
    namespace = {exercise: fn, **({FORWARDS[exercise]: reference(FORWARDS[exercise])} if exercise in FORWARDS else {})}
    return grade(HIDDEN_CASES[exercise], local_functions(namespace))


def test_every_graded_function_has_hidden_cases():
    graded = {"numerical_gradient", "gradient_descent", "ewma", "sgd", "sgd_momentum", "nesterov", "adagrad",
              "rmsprop", "adam", "step_decay", "exponential_decay", "inverse_time_decay", "cosine_restarts",
              "adamw", "warmup_cosine", "clip_by_global_norm",
              "xavier", "he", "batchnorm_forward", "batchnorm_backward", "layernorm_forward",
              "layernorm_backward", "l2_penalty", "dropout_forward", "transfer_params",
              "dropout_backward", "train_val_split", "log_uniform", "random_search",
              "successive_halving"}
    assert set(HIDDEN_CASES) == set(SPECS) == graded


SAID_BY_THE_CONTRACT = ("1 / (1 - p)", "mean 0 and variance 1", "every 10 steps by default", "is 0", "x0", "lr0",
                        "beta1", "beta2", "lam = 0")
"""Numbers a hidden case's label may hold: names, the contract's numbers, and lam = 0 (the case
about no penalty at all), never a case's own values."""


@pytest.mark.parametrize("exercise", sorted(HIDDEN_CASES))
def test_hidden_labels_and_hints_tell_no_value(exercise):
    for case in HIDDEN_CASES[exercise].data["cases"]:
        for text in (case.label, case.hint):
            for allowed in SAID_BY_THE_CONTRACT:
                text = text.replace(allowed, "")
            assert not re.search(r"\d", text), (case.label, case.hint)


@pytest.mark.parametrize("exercise", sorted(HIDDEN_CASES))
def test_every_hidden_case_passes_on_the_reference(exercise):
    failed = [(o.description, o.hint) for o in outcomes(exercise, reference(exercise)) if not o.passed]
    assert failed == []


MISTAKES = [(exercise, mistake) for exercise, spec in sorted(SPECS.items()) for mistake in spec.mistakes]
SAFE_NUMBER = re.compile(r"\d+(\.\d+)?(e[+-]\d+)?(x|%)|(step|average|result|call) \d+|x_\d+|\[\d+\]|off by [+-]\d+\b")
"""The numbers a hidden case's feedback may show: ratios, step and result numbers, counts off by."""


@pytest.mark.parametrize("exercise, mistake", MISTAKES, ids=[f"{e}-{m.name}" for e, m in MISTAKES])
def test_every_known_mistake_fails_some_hidden_case_and_is_named_without_values(exercise, mistake):
    failed = [o for o in outcomes(exercise, mistake.fn) if not o.passed]
    assert failed, f"{mistake.name} passes every hidden case of {exercise}"
    named = {m.message for m in SPECS[exercise].mistakes}
    assert any(message in o.hint for o in failed for message in named), [o.hint for o in failed]
    for o in failed:
        said = o.hint
        for text in (*named, SPECS[exercise].rule):
            said = said.replace(text, "")
        assert "was expected" not in said and "[case:" not in said and " at [" not in said, said
        assert SAFE_NUMBER.sub("", said) == re.sub(r"\d", "", SAFE_NUMBER.sub("", said)), said


def test_a_cs231n_adam_without_bias_correction_hears_the_math_then_the_mutation():
    found = outcomes("adam", cs231n_adam(bias_correction=False))
    assert [o.kind for o in found] == ["failed"] * 4
    defaults = next(o for o in found if "config=None" in o.description)
    assert defaults.hint == ("your first step is 3.16x too large. This is Adam without bias correction: divide m by "
                             "(1 - beta1**t) and v by (1 - beta2**t) before the update.")
    given = [o for o in found if o is not defaults]
    assert all(o.hint.startswith("your first step is ") and "This is Adam without bias correction" in o.hint
               and o.hint.index("bias correction") < o.hint.index("Also: your function changed its input config")
               for o in given), [o.hint for o in given]


def test_a_cs231n_adam_with_the_math_right_loses_only_the_contract_case():
    found = {o.description: o for o in outcomes("adam", cs231n_adam())}
    lost = [d for d, o in found.items() if not o.passed]
    assert lost == ["w, dw and config (with its state) are not changed in place, and the step is right"]
    assert found[lost[0]].hint.startswith("your function changed its input config (the dict) in place")


def test_a_state_array_replaced_or_updated_in_place_is_told_apart_across_the_wire():
    def sgd_momentum(w, dw, config=None, in_place=False):
        config.setdefault("momentum", 0.9)
        config.setdefault("learning_rate", 1e-2)
        v = config.setdefault("velocity", np.zeros_like(w))
        if in_place:
            v *= config["momentum"]
            v -= config["learning_rate"] * dw
        else:
            config["velocity"] = config["momentum"] * v - config["learning_rate"] * dw
        return w + config["velocity"], config

    contract = "w, dw and config (with its state) are not changed in place, and the step is right"
    hints = {in_place: next(o.hint for o in outcomes("sgd_momentum", lambda w, dw, config=None, i=in_place:
                                                     sgd_momentum(w, dw, config, i)) if o.description == contract)
             for in_place in (False, True)}
    assert hints[False].startswith("your function changed its input config (the dict) in place")
    assert hints[True].startswith("config['velocity'] was updated in place (e.g. `velocity += ...`)")


def test_what_goes_wrong_in_student_code_gets_its_kind():
    def stub(w, dw, config=None):
        raise NotImplementedError()

    def broken(w, dw, config=None):
        lr = config["learning_rate"]
        return w - lr * dw, config

    def delegates(w, dw, config=None):
        raise ReferenceUnavailable("course_lib.reference.momentum.sgd")

    assert {o.kind for o in outcomes("sgd", stub)} == {"not_implemented"}
    assert {o.kind for o in outcomes("sgd", delegates)} == {"reference"}
    raised = [o for o in outcomes("sgd", broken) if o.kind == "raised"]
    assert raised and raised[0].hint == "your function raised TypeError at `lr = config[\"learning_rate\"]`."
    missing = grade(HIDDEN_CASES["sgd"], local_functions({}) | {"sgd": LocalFunction("sgd", {}, agent.Handles())})
    assert {o.kind for o in missing} == {"not_defined"}


def test_a_backward_is_graded_on_the_cache_of_the_students_own_forward():
    def forward(x, gamma, beta, bn_param):
        out, cache = reference("batchnorm_forward")(x, gamma, beta, bn_param)
        return out, {"kept": cache}

    def backward(dout, cache):
        return reference("batchnorm_backward")(dout, cache["kept"])

    found = grade(HIDDEN_CASES["batchnorm_backward"], local_functions({"batchnorm_backward": backward,
                                                                      "batchnorm_forward": forward}))
    assert all(o.passed for o in found), found


def test_a_scalar_only_schedule_fails_its_hidden_cases_with_advice():
    import math

    def exponential_decay(lr0, t, k):
        return lr0 * math.exp(-k * t)

    (found,) = outcomes("exponential_decay", exponential_decay)
    assert found.kind == "failed" and "with t an array of steps, your function raised TypeError at" in found.hint
    assert "np.exp" in found.hint


@pytest.mark.parametrize("got, said", [(3.0, "2x too large"), (-1.5, "the opposite sign"), (0.75, "2x too small"),
                                       (1.5015, "off by 0.1%"), (np.inf, "not a finite number")])
def test_a_hidden_case_says_how_values_differ_without_showing_them(got, said):
    case = StoredCase("c", {}, {"step": np.array([0.0, 1.5])}, {}, {}, 1e-7, 1e-12)
    text = discrepancy(Protocol(), case, {"step": np.array([0.0, got])}, hidden=True)
    assert text == f"your step is {said}"
    assert discrepancy(Protocol(), case, {"step": np.zeros(3)}, hidden=True) == "your step does not have the right shape"


# --------------------------------------------------------------------------------------
# Plain data across the kernel boundary
# --------------------------------------------------------------------------------------

def test_wire_round_trip_keeps_types_and_dtypes():
    rng = np.random.default_rng(3)
    value = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "t": 7, "f": float("nan"), "inf": -np.inf,
             "pair": (1, [True, None, "é"]), "rng": rng, "f32": np.float32(1.5),
             "probe": probes.sampler("uniform", 0, 1)}
    back = wire.decode(wire.encode(value))
    assert back["w"].dtype == np.float32 and np.array_equal(back["w"], value["w"])
    assert back["pair"] == (1, [True, None, "é"]) and back["t"] == 7 and np.isnan(back["f"])
    assert back["f32"].dtype == np.float32 and back["inf"] == -np.inf
    assert back["rng"].random() == np.random.default_rng(3).random()
    assert back["probe"](np.random.default_rng(0)) == probes.sampler("uniform", 0, 1)(np.random.default_rng(0))


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

    with pytest.raises(Finding) as raised:
        LocalFunction("broken", {"broken": broken}, agent.Handles())(np.ones(2))
    assert raised.value.raised == "AttributeError"
    assert raised.value.message == "your function raised AttributeError at `return x.missing_attribute`"
    assert "noise" not in capsys.readouterr().out


def test_agent_names_a_missing_function():
    with pytest.raises(Finding) as raised:
        LocalFunction("adam", {}, agent.Handles())(1)
    assert raised.value.diagnosis == "not_defined" and raised.value.message.startswith("adam() is not defined")


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


def test_calls_tell_an_array_replaced_in_a_dict_from_one_changed_in_place():
    def update(d):
        d["replaced"] = d["replaced"] + 1
        d["changed"] += 1

    replaced, changed = np.zeros(2), np.zeros(2)
    d = {"replaced": replaced, "changed": changed}
    local_functions({"update": update})["update"](d)
    assert np.array_equal(replaced, [0, 0]) and np.array_equal(d["replaced"], [1, 1])
    assert d["changed"] is changed and np.array_equal(changed, [1, 1])


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
    for name in ["alice/01_gradient_descent.ipynb", "alice/02_momentum (1).ipynb", "alice/notes.txt",
                 "alice/.ipynb_checkpoints/x.ipynb", "bob/01_gradient_descent-Copy1.ipynb", "bob/01_gd.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    students, submissions, notes = collect(tmp_path, ["01_gradient_descent", "02_momentum"])
    paths = {(s.student, s.notebook): s.path and s.path.name for s in submissions}
    assert students == ["alice", "bob"]
    assert paths[("alice", "02_momentum")] == "02_momentum (1).ipynb"
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
    with pytest.raises(InstructorCopyError, match="no hidden cases for numerical_gradient, gradient_descent"):
        load_course(tmp_path / "solutions", tmp_path / "hidden")


def test_the_blocked_copy_has_no_reference_code(tmp_path):
    stubbed = blocked_copy(tmp_path)
    assert len(stubbed) == len(MODULES) and "course_lib.reference.adaptive" in stubbed
    source = (tmp_path / "course_lib" / "reference" / "adaptive.py").read_text()
    assert "ReferenceUnavailable('course_lib.reference.adaptive.adam')" in source
    for path in (tmp_path / "course_lib" / "reference").glob("[!_]*.py"):
        assert working_functions(path.read_text()) == [], path.name
    assert "ReferenceUnavailable('course_lib.reference.adaptive.rms_update')" in source
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

HONEST = {"01_gradient_descent": {}, "02_momentum": {}}

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

def sgd_momentum(w, dw, config=None):
    return np.zeros_like(w).view(Anything), dict(config or {}, velocity=np.zeros_like(w).view(Anything))
'''

DELEGATES = '''from course_lib.reference import momentum as _momentum

def sgd_momentum(w, dw, config=None):
    return _momentum.sgd_momentum(w, dw, config)
'''

READS_SOURCE = f'''import course_lib, os

def nesterov(w, dw, config=None):
    namespace, real = {{}}, {str(Path(momentum.__file__))!r}
    copy = os.path.join(os.path.dirname(course_lib.__file__), "reference", "momentum.py")
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

LOOPS = '''def ewma(xs, beta, bias_correction=True):
    while True:
        pass
'''

SEGFAULT = '''import ctypes

def sgd(w, dw, config=None):
    return ctypes.string_at(0), config
'''

EATS_MEMORY = '''def nesterov(w, dw, config=None):
    hoard = bytearray(64 * 2**30)
    return w, config
'''

RENAMED = '''def sgd_momentum2(w, dw, config=None):
    return w, config
'''

FORGED_ROW = "forged,02_momentum,sgd_momentum,999,4,passed,forged"


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
    gd, opt = "01_gradient_descent", "02_momentum"
    students = {
        "honest": {gd: None, opt: None},
        "wrong": {gd: replace("gradient_descent", WRONG_GD)},
        "patches_allclose": {opt: replace("sgd", PATCHES)},
        "patches_print_json": {opt: replace("ewma", PRINT_JSON)},
        "equals_anything": {opt: replace("sgd_momentum", EQUALS_ANYTHING)},
        "delegates": {opt: lambda nb: (replace("sgd_momentum", DELEGATES)(nb), replace("nesterov", READS_SOURCE)(nb))},
        "exits": {gd: replace("numerical_gradient", SYS_EXIT)},
        "os_exits": {gd: replace("gradient_descent", OS_EXIT)},
        "loops": {opt: replace("ewma", LOOPS)},
        "segfaults": {opt: replace("sgd", SEGFAULT)},
        "eats_memory": {opt: replace("nesterov", EATS_MEMORY)},
        "floods": {opt: replace("sgd", _floods(solution_source(opt, "sgd")))},
        "renames": {opt: replace("sgd_momentum", RENAMED)},
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
    "equals_anything": {"sgd_momentum": ("failed", 0)},
    "delegates": {"sgd_momentum": ("uses_reference", 0), "nesterov": ("uses_reference", 0)},
    "exits": {"numerical_gradient": ("failed", 0)},
    "os_exits": {"gradient_descent": ("crashed", 0)},
    "loops": {"ewma": ("timeout", 0)},
    "segfaults": {"sgd": ("crashed", 0)},
    "eats_memory": {"nesterov": ("failed", 0)},
    "renames": {"sgd_momentum": ("not_defined", 0)},
    "deletes_and_duplicates": {"nesterov": ("missing", 0)},
    "retags": {"gradient_descent": ("partial", 1)},
}
"""The attacked exercises; every other exercise of a submitted notebook must get full marks."""


def instructor_copy(folder, notebooks):
    """``folder/solutions`` holding copies of ``solutions/<notebook>.ipynb``; the folder."""
    (folder / "solutions").mkdir()
    for notebook in notebooks:
        cells.write_notebook(cells.read_notebook(SOLUTIONS / f"{notebook}.ipynb"),
                             folder / "solutions" / f"{notebook}.ipynb")
    return folder / "solutions"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    instructor_copy(root, ["01_gradient_descent", "02_momentum"])
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
    assert "gradient_descent** 1/4" in text and "the whole path on a quadratic in several dimensions" in text
    assert "Your points go uphill: x_(k+1) = x_k - learning_rate * grad(x_k)." in text
    assert "0.15" not in text  # the hidden learning rate
    hidden_lines = [line for line in text.splitlines() if line.startswith("    - ✗")]
    assert len(hidden_lines) == 3 and not any("was expected" in line for line in hidden_lines)


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
    solutions = instructor_copy(tmp_path, ["01_gradient_descent"])
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
