"""course release and course execute: the release steps, the public helpers grading reuses,
every error path, determinism, --check, and executing notebooks in a kernel.

Notebooks are written inline; files go to tmp folders, never to solutions/ or notebooks/.
"""

import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib import cli
from course_instructor.cells import (NotebookError, cell_role, defined_function, defined_functions, dumps,
                              exercise_cells, read_notebook, replace_solutions, solution_regions)
from course_instructor.execute import WIDGET_VIEW, run_cells
from course_instructor.release import NOTEBOOK_METADATA, ReleaseError, release_folder, release_notebook

SGD = '''\
def sgd(w, dw, config=None):
    """One step of gradient descent."""
    ### BEGIN SOLUTION
    next_w = w - 0.1 * dw
    return next_w, config
    ### END SOLUTION
'''

SGD_STUBBED = '''\
def sgd(w, dw, config=None):
    """One step of gradient descent."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''


def code(source, role=None, id=None, **metadata):
    cell = new_code_cell(source, metadata=metadata, **({"id": id} if id else {}))
    if role:
        cell.metadata["tags"] = [role]
    return cell


def exercise(source=SGD, id="exercise-sgd"):
    return code(source, "exercise", id)


def notebook(*cells):
    """A notebook of these cells as they are (new_notebook(cells=...) would 'repair' duplicate ids)."""
    nb = new_notebook()
    nb.cells = list(cells)
    return nb


def write(path, nb, **dump_options):
    """Write the notebook as JSON as it is (nbformat.write would 'repair' duplicate ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, **dump_options), encoding="utf-8")
    return path


def release_cells(tmp_path, *cells):
    """Release a one-notebook solutions folder holding these cells; the released notebook."""
    write(tmp_path / "solutions" / "01_test.ipynb", notebook(*cells))
    return release_folder(tmp_path / "solutions")["01_test.ipynb"]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder (solutions/ with one notebook, an empty notebooks/) as the current folder."""
    write(tmp_path / "solutions" / "01_demo.ipynb", notebook(
        new_markdown_cell("# Demo\nThe update $w - \\eta\\,dw$.", id="intro"),
        code("import numpy as np", "setup", "setup"),
        exercise(),
        code("print(sgd(np.ones(2), np.ones(2)))", id="demo")))
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- replacing solution regions ----------------------------------------------------------------

def test_stub_inside_a_function_is_indented_like_the_region():
    assert replace_solutions(SGD) == (SGD_STUBBED, True)


def test_stub_at_top_level_is_not_indented():
    source = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    assert replace_solutions(source) == ("# YOUR CODE HERE\nraise NotImplementedError()", True)


def test_every_region_is_replaced_and_code_between_regions_kept():
    source = ("def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        y = 1\n        ### END SOLUTION\n"
              "    else:\n        ### BEGIN SOLUTION\n        y = 2\n        ### END SOLUTION\n    return y\n")
    stub = "        # YOUR CODE HERE\n        raise NotImplementedError()\n"
    assert replace_solutions(source) == (f"def f(x):\n    if x:\n{stub}    else:\n{stub}    return y\n", True)


def test_replace_solutions_reports_that_nothing_was_replaced():
    assert replace_solutions("x = 1\n") == ("x = 1\n", False)


def test_solution_regions_are_the_marker_line_numbers():
    assert solution_regions(SGD) == [(2, 5)]


# --- the helpers grading reuses --------------------------------------------------------------

def test_cell_role_is_the_role_tag_or_none():
    assert cell_role(code("x = 1", "check")) == "check"
    assert cell_role(code("x = 1", **{"tags": ["hide-input"]})) is None
    assert cell_role(new_markdown_cell("text")) is None


def test_defined_function_counts_only_top_level_defs():
    source = ("import numpy as np\n\nclass Helper:\n    def method(self):\n        pass\n\n"
              "def outer(x):\n    def inner(y):\n        return y\n    return inner(x)\n")
    assert defined_function(source) == "outer"


def test_defined_functions_lists_them_in_order():
    assert defined_functions("def b():\n    pass\n\nasync def a():\n    pass\n") == ["b", "a"]


def test_defined_function_of_invalid_python_says_so():
    with pytest.raises(NotebookError, match="not valid Python"):
        defined_function("def f(:\n    pass\n")


def test_exercise_cells_maps_function_names_to_cells():
    adam = exercise(SGD.replace("sgd", "adam"), id="exercise-adam")
    cells = exercise_cells(notebook(code("import numpy as np", "setup"), exercise(), adam))
    assert list(cells) == ["sgd", "adam"]
    assert cells["adam"]["id"] == "exercise-adam"


def test_read_notebook_joins_sources_split_into_lines(tmp_path):
    path = write(tmp_path / "nb.ipynb", notebook(code("a = 1\nb = 2\n", id="c")))
    text = path.read_text().replace('"source": "a = 1\\nb = 2\\n"', '"source": ["a = 1\\n", "b = 2\\n"]')
    path.write_text(text)
    assert read_notebook(path)["cells"][0]["source"] == "a = 1\nb = 2\n"


# --- what release does -----------------------------------------------------------------------

def test_release_stubs_exercise_cells(tmp_path):
    released = release_cells(tmp_path, exercise())
    assert released["cells"][0]["source"] == SGD_STUBBED


def test_release_drops_instructor_cells(tmp_path):
    released = release_cells(tmp_path, code("x = 1", id="keep"), code("print('answer')", "instructor", "drop"),
                             new_markdown_cell("Grading notes.", id="notes", metadata={"tags": ["instructor"]}))
    assert [cell["id"] for cell in released["cells"]] == ["keep"]


def test_release_keeps_cell_ids(tmp_path):
    cells = [new_markdown_cell("# Title", id="title"), code("import numpy as np", "setup", "setup"),
             exercise(), code("check_sgd(sgd)", "check", "check-sgd")]
    released = release_cells(tmp_path, *cells)
    assert [cell["id"] for cell in released["cells"]] == ["title", "setup", "exercise-sgd", "check-sgd"]


def test_release_leaves_markdown_untouched(tmp_path):
    text = "# Adam\n\n$$\\hat m_t = \\frac{m_t}{1 - \\beta_1^t}$$\n\n* Think about it: why?\n"
    released = release_cells(tmp_path, new_markdown_cell(text, id="md"))
    assert released["cells"][0] == {"cell_type": "markdown", "id": "md", "metadata": {}, "source": text}


def test_release_clears_outputs_and_execution_counts(tmp_path):
    cell = code("print(1)", id="c")
    cell.outputs, cell.execution_count = [new_output("stream", name="stdout", text="1\n")], 7
    released = release_cells(tmp_path, cell)["cells"][0]
    assert (released["outputs"], released["execution_count"]) == ([], None)


def test_release_strips_volatile_metadata(tmp_path):
    cell = code("x = 1", "setup", "c", collapsed=True, scrolled=False, jupyter={"outputs_hidden": True},
                execution={"iopub.execute_input": "2026-01-01T00:00:00Z"}, ExecuteTime={"end_time": "..."})
    nb = notebook(cell)
    nb.metadata = {"kernelspec": {"name": "course-venv", "display_name": "course (venv)", "language": "python"},
                   "language_info": {"name": "python", "version": "3.11.7"}, "widgets": {"state": {}}}
    write(tmp_path / "solutions" / "01_test.ipynb", nb)
    released = release_folder(tmp_path / "solutions")["01_test.ipynb"]
    assert released["metadata"] == NOTEBOOK_METADATA
    assert released["cells"][0]["metadata"] == {"tags": ["setup"]}


def test_release_does_not_change_the_solutions_notebook():
    nb = notebook(exercise(), code("print(1)", "instructor", "drop"))
    before = json.dumps(nb, sort_keys=True)
    release_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before


def test_released_notebook_is_valid_nbformat(tmp_path):
    released = release_cells(tmp_path, new_markdown_cell("# T", id="t"), code("import numpy as np", "setup", "s"),
                             exercise(), code("check_sgd(sgd)", "check", "check-sgd"))
    nbformat.validate(nbformat.from_dict(released))


def test_released_layout_is_what_jupyter_writes(tmp_path):
    text = dumps(release_cells(tmp_path, new_markdown_cell("# T\nline 2", id="t"), exercise()))
    assert nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text


def test_release_twice_writes_identical_bytes(course):
    assert cli.main(["release"]) == 0
    first = (course / "notebooks" / "01_demo.ipynb").read_bytes()
    (course / "notebooks" / "01_demo.ipynb").unlink()
    assert cli.main(["release"]) == 0
    assert (course / "notebooks" / "01_demo.ipynb").read_bytes() == first


def test_released_bytes_do_not_depend_on_the_solutions_json_layout(course):
    assert cli.main(["release"]) == 0
    first = (course / "notebooks" / "01_demo.ipynb").read_bytes()
    solution = course / "solutions" / "01_demo.ipynb"
    write(solution, json.loads(solution.read_text()), indent=4, ensure_ascii=True)
    assert cli.main(["release"]) == 0
    assert (course / "notebooks" / "01_demo.ipynb").read_bytes() == first


def test_release_leaves_up_to_date_notebooks_untouched(course):
    assert cli.main(["release"]) == 0
    released = course / "notebooks" / "01_demo.ipynb"
    os.utime(released, ns=(10**18, 10**18))
    assert cli.main(["release"]) == 0
    assert released.stat().st_mtime_ns == 10**18


def test_release_ignores_files_that_are_not_notebooks(course):
    (course / "solutions" / "data.npz").write_bytes(b"not copied")
    assert cli.main(["release"]) == 0
    assert sorted(p.name for p in (course / "notebooks").iterdir()) == ["01_demo.ipynb"]


def test_release_removes_stale_notebooks_and_says_so(course, capsys):
    (course / "notebooks" / "07_old.ipynb").write_text("{}")
    assert cli.main(["release"]) == 0
    assert not (course / "notebooks" / "07_old.ipynb").exists()
    assert "removed  notebooks/07_old.ipynb" in capsys.readouterr().out


def test_release_writes_to_the_folders_given(course):
    write(course / "other" / "02_x.ipynb", notebook(code("x = 1", id="c")))
    assert cli.main(["release", "--solutions", "other", "--out", "released"]) == 0
    assert sorted(p.name for p in (course / "released").iterdir()) == ["02_x.ipynb"]


# --- course release --check ------------------------------------------------------------------

def test_check_passes_and_says_so_when_notebooks_are_current(course, capsys):
    assert cli.main(["release"]) == 0
    assert cli.main(["release", "--check"]) == 0
    assert "notebooks is up to date with solutions (1 notebook)" in capsys.readouterr().out


def test_check_fails_naming_each_stale_missing_and_extra_notebook(course, capsys):
    write(course / "solutions" / "02_more.ipynb", notebook(code("x = 1", id="c")))
    assert cli.main(["release"]) == 0
    (course / "notebooks" / "01_demo.ipynb").write_text("{}")
    (course / "notebooks" / "02_more.ipynb").unlink()
    (course / "notebooks" / "09_extra.ipynb").write_text("{}")
    capsys.readouterr()
    assert cli.main(["release", "--check"]) == 1
    out = capsys.readouterr().out
    for kind, name in [("stale", "01_demo"), ("missing", "02_more"), ("extra", "09_extra")]:
        assert f"{kind:<8} notebooks/{name}.ipynb" in out


def test_check_writes_nothing(course):
    assert cli.main(["release", "--check"]) == 1
    assert list((course / "notebooks").iterdir()) == []


# --- errors: ReleaseError with the file, the cell and its source; exit 2 from the CLI ------------

def test_error_names_the_file_the_cell_and_quotes_its_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReleaseError) as error:
        release_cells(tmp_path, code("x = 1", id="a"), code("def f():\n    ### END SOLUTION\n", "exercise", "ex-f"))
    assert str(error.value) == ("solutions/01_test.ipynb, cell 1 (id 'ex-f'): '### END SOLUTION' on line 2 has no "
                                "open '### BEGIN SOLUTION' before it\n    | ### END SOLUTION")
    assert (error.value.path.name, error.value.index, error.value.cell_id) == ("01_test.ipynb", 1, "ex-f")


def test_cli_prints_errors_in_two_lines_and_exits_2(course, capsys):
    write(course / "solutions" / "01_demo.ipynb", notebook(exercise("def sgd(w, dw):\n    return w\n")))
    assert cli.main(["release"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course release: solutions/01_demo.ipynb, cell 0 (id 'exercise-sgd'): ")
    assert len(err.strip().splitlines()) == 2 and "Traceback" not in err


def test_error_for_corrupt_json(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_test.ipynb").write_text('{"cells": [')
    with pytest.raises(ReleaseError, match="01_test.ipynb: is not valid JSON"):
        release_folder(tmp_path / "solutions")


def test_error_for_a_notebook_that_is_not_nbformat_4(tmp_path):
    write(tmp_path / "solutions" / "01_test.ipynb", {"cells": [], "metadata": {}, "nbformat": 3, "nbformat_minor": 0})
    with pytest.raises(ReleaseError, match="is nbformat 3.0, not 4"):
        release_folder(tmp_path / "solutions")


def test_error_for_a_cell_that_is_not_nbformat_4(tmp_path):
    write(tmp_path / "solutions" / "01_test.ipynb", {"cells": [{"source": "x"}], "metadata": {}, "nbformat": 4,
                                                     "nbformat_minor": 5})
    with pytest.raises(ReleaseError, match="cell 0: is not an nbformat 4 cell: cell_type must be"):
        release_folder(tmp_path / "solutions")


def test_error_for_an_unreadable_notebook(tmp_path):
    with pytest.raises(NotebookError, match="cannot read it"):
        read_notebook(tmp_path / "missing.ipynb")


def test_error_for_an_empty_solutions_folder(tmp_path):
    (tmp_path / "solutions").mkdir()
    with pytest.raises(ReleaseError, match="holds no notebooks"):
        release_folder(tmp_path / "solutions")


def test_error_for_an_exercise_cell_without_markers(tmp_path):
    with pytest.raises(ReleaseError, match="exercise cell without a solution region"):
        release_cells(tmp_path, exercise("def sgd(w, dw):\n    return w\n"))


def test_error_for_a_region_never_closed(tmp_path):
    with pytest.raises(ReleaseError, match="line 3 is never closed"):
        release_cells(tmp_path, exercise(SGD.replace("    ### END SOLUTION\n", "")))


def test_error_for_an_end_marker_before_its_begin(tmp_path):
    swapped = SGD.replace("### BEGIN", "### TMP").replace("### END", "### BEGIN").replace("### TMP", "### END")
    with pytest.raises(ReleaseError, match="'### END SOLUTION' on line 3 has no open"):
        release_cells(tmp_path, exercise(swapped))


def test_error_for_nested_regions(tmp_path):
    nested = SGD.replace("    return next_w", "    ### BEGIN SOLUTION\n    return next_w")
    with pytest.raises(ReleaseError, match="nested '### BEGIN SOLUTION'"):
        release_cells(tmp_path, exercise(nested))


def test_error_for_a_misspelt_marker(tmp_path):
    with pytest.raises(ReleaseError, match="malformed marker"):
        release_cells(tmp_path, exercise(SGD.replace("### BEGIN SOLUTION", "## Begin solution")))


def test_comments_that_merely_mention_solutions_are_not_markers(tmp_path):
    source = SGD.replace('"""One step', '# the end solution is below; a friend solution is not\n    """One step')
    assert release_cells(tmp_path, exercise(source))["cells"][0]["source"].count("YOUR CODE HERE") == 1


def test_error_for_a_marker_outside_an_exercise_cell(tmp_path):
    with pytest.raises(ReleaseError, match="has solution markers but is not an exercise cell"):
        release_cells(tmp_path, code(SGD, id="demo"))


def test_error_for_two_exercise_cells_defining_the_same_function(tmp_path):
    with pytest.raises(ReleaseError, match=r"cell 2 \(id 'again'\): defines sgd\(\), which cell 0 already defines"):
        release_cells(tmp_path, exercise(), code("x = 1", id="x"), exercise(id="again"))


def test_error_for_an_exercise_cell_defining_no_function(tmp_path):
    with pytest.raises(ReleaseError, match="defines no top-level function"):
        release_cells(tmp_path, exercise("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"))


def test_error_for_an_exercise_cell_defining_two_functions(tmp_path):
    with pytest.raises(ReleaseError, match=r"defines 2 top-level functions \(sgd, helper\)"):
        release_cells(tmp_path, exercise(SGD + "\ndef helper():\n    pass\n"))


def test_error_for_a_region_that_holds_the_def_line(tmp_path):
    source = "### BEGIN SOLUTION\ndef sgd(w, dw):\n    return w\n### END SOLUTION\n"
    with pytest.raises(ReleaseError, match=r"no longer defines sgd\(\)"):
        release_cells(tmp_path, exercise(source))


def test_error_for_a_cell_with_two_role_tags(tmp_path):
    cell = exercise()
    cell.metadata["tags"] = ["exercise", "check"]
    with pytest.raises(ReleaseError, match=r"has 2 role tags \(exercise, check\)"):
        release_cells(tmp_path, cell)


def test_error_for_a_code_role_on_a_markdown_cell(tmp_path):
    with pytest.raises(ReleaseError, match="is a markdown cell tagged 'setup'"):
        release_cells(tmp_path, new_markdown_cell("# Setup", id="md", metadata={"tags": ["setup"]}))


def test_error_for_duplicate_cell_ids(tmp_path):
    with pytest.raises(ReleaseError, match=r"cell 2 \(id 'same'\): has the same id as cell 0"):
        release_cells(tmp_path, code("x = 1", id="same"), code("y = 2", id="other"), code("z = 3", id="same"))


def test_error_for_a_cell_without_id(tmp_path):
    cell = code("x = 1")
    del cell["id"]
    with pytest.raises(ReleaseError, match="cell 0: has no id"):
        release_cells(tmp_path, cell)


def test_cli_refuses_to_release_into_the_solutions_folder(course, capsys):
    assert cli.main(["release", "--out", "solutions"]) == 2
    assert "would overwrite the solutions" in capsys.readouterr().err
    assert "### BEGIN SOLUTION" in (course / "solutions" / "01_demo.ipynb").read_text()


def test_cli_refuses_force_without_bundle(course, capsys):
    assert cli.main(["release", "--force"]) == 2
    assert "--force only applies to --bundle" in capsys.readouterr().err


# --- course execute --------------------------------------------------------------------------

EXECUTED = notebook(
    new_markdown_cell("# Executed", id="title"),
    code("import os, sys\nimport matplotlib.pyplot as plt\nimport ipywidgets", "setup", "setup"),
    code("print(os.environ.get('COURSE_PROGRESS'), os.environ.get('MPLBACKEND'))", id="env"),
    code("for i in range(3):\n    print(i)\n    sys.stdout.flush()", id="streams"),
    code("plt.plot([0, 1], [1, 0])\nplt.title('a line')\nplt.show()", id="figure"),
    code("ipywidgets.IntSlider(value=3, description='n')", id="widget"),
)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """EXECUTED run by `course execute` twice: (the file, the bytes after the first run)."""
    path = write(tmp_path_factory.mktemp("execute") / "01_executed.ipynb", EXECUTED)
    assert cli.main(["execute", str(path)]) == 0
    first = path.read_bytes()
    assert cli.main(["execute", str(path)]) == 0
    return path, first


def outputs(path, cell_id):
    return next(c["outputs"] for c in read_notebook(path)["cells"] if c["id"] == cell_id)


def test_execute_runs_the_kernel_without_progress_bars_and_with_inline_figures(executed):
    path, _ = executed
    assert outputs(path, "env")[0]["text"] == "0 module://matplotlib_inline.backend_inline\n"
    assert "image/png" in outputs(path, "figure")[0]["data"]


def test_execute_merges_each_cells_streams(executed):
    path, _ = executed
    assert outputs(path, "streams") == [{"name": "stdout", "output_type": "stream", "text": "0\n1\n2\n"}]


def test_execute_keeps_widget_text_but_not_widget_views(executed):
    path, _ = executed
    data = outputs(path, "widget")[0]["data"]
    assert WIDGET_VIEW not in data and "IntSlider(value=3" in data["text/plain"]


def test_execute_strips_volatile_metadata(executed):
    path, _ = executed
    nb = read_notebook(path)
    assert nb["metadata"] == NOTEBOOK_METADATA
    assert all(set(cell["metadata"]) <= {"tags"} for cell in nb["cells"])


def test_execute_twice_writes_identical_bytes(executed):
    path, first = executed
    assert path.read_bytes() == first


def test_executed_notebook_passes_nbval(executed):
    path, _ = executed
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                             "--nbval-current-env", path.name], cwd=path.parent, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


def test_execute_leaves_a_failing_notebook_unchanged_and_names_the_cell(tmp_path, capsys):
    path = write(tmp_path / "01_fails.ipynb", notebook(code("x = 1", id="ok"), code("1 / 0", id="boom")))
    before = path.read_bytes()
    assert cli.main(["execute", str(path)]) == 1
    assert path.read_bytes() == before
    assert "cell 1 (id 'boom'): raised ZeroDivisionError: division by zero" in capsys.readouterr().err


def test_execute_error_for_a_cell_that_runs_too_long(tmp_path):
    with pytest.raises(NotebookError, match=r"cell 1 \(id 'slow'\): did not finish within 1 s"):
        run_cells(notebook(code("x = 1", id="ok"), code("import time\ntime.sleep(30)", id="slow")), tmp_path, timeout=1)


def test_execute_error_for_a_cell_that_kills_the_kernel(tmp_path):
    with pytest.raises(NotebookError, match=r"cell 0 \(id 'exit'\): killed the kernel"):
        run_cells(notebook(code("import os\nos._exit(1)", id="exit")), tmp_path)


def test_execute_refuses_a_missing_notebook(tmp_path, capsys):
    assert cli.main(["execute", str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err
