"""course_lib.mine: a student's functions read from their own notebooks, with messages that say what to do."""

import json

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib import mine

SGD = '''def sgd(w, dw, config=None):
    config = {"learning_rate": 1e-2, **(config or {})}
    return w - config["learning_rate"] * dw, config
'''

UPHILL = SGD.replace("w - config", "w + config")

STUB = '''def sgd(w, dw, config=None):
    # YOUR CODE HERE
    raise NotImplementedError()
'''


def write_notebook(folder, name, exercise, setup="%matplotlib inline\nimport numpy as np"):
    nb = new_notebook(cells=[
        new_markdown_cell("# A notebook"),
        new_code_cell(setup, metadata={"tags": ["setup"]}),
        new_code_cell(exercise, metadata={"tags": ["exercise"]}),
        new_code_cell("raise RuntimeError('a demo cell must never run')"),
    ])
    path = folder / name
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def no_revealed_solutions(monkeypatch):
    """As in a student's bundle: the references are not released."""
    monkeypatch.setattr(mine, "_revealed", lambda name: None)


def test_loads_the_students_function_without_running_demos(tmp_path, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", SGD)
    sgd = mine.load("sgd", folder=tmp_path)
    next_w, _ = sgd(np.ones(2), np.ones(2))
    np.testing.assert_array_equal(next_w, [0.99, 0.99])


def test_attribute_access_reads_the_current_folder(tmp_path, monkeypatch, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", SGD)
    monkeypatch.chdir(tmp_path)
    assert mine.sgd.__name__ == "sgd"


def test_a_stub_says_which_notebook_to_finish(tmp_path, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", STUB)
    with pytest.raises(mine.MissingWork, match=r"^sgd from notebook 02 \(02_momentum.ipynb\) is not written yet: "
                                               r"run notebook 02 first"):
        mine.load("sgd", folder=tmp_path)


def test_a_wrong_function_quotes_its_self_check(tmp_path, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", UPHILL)
    with pytest.raises(mine.MissingWork, match=r"sgd from notebook 02 .* does not pass its self-check yet "
                                               r"\(✗ sgd: .*\): run notebook 02 first.*ask for the revealed"):
        mine.load("sgd", folder=tmp_path)


def test_a_cell_that_raises_is_named(tmp_path, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", "undefined_name\n" + SGD)
    with pytest.raises(mine.MissingWork, match=r"does not run: its cell raised NameError: name 'undefined_name'"):
        mine.load("sgd", folder=tmp_path)


def test_a_missing_notebook_says_to_keep_the_notebooks_together(tmp_path, no_revealed_solutions):
    with pytest.raises(mine.MissingWork, match="no notebook in .* has an exercise `sgd`: keep the course's notebooks"):
        mine.load("sgd", folder=tmp_path)


def test_an_edited_notebook_is_read_again(tmp_path, no_revealed_solutions):
    path = write_notebook(tmp_path, "02_momentum.ipynb", STUB)
    with pytest.raises(mine.MissingWork):
        mine.load("sgd", folder=tmp_path)
    write_notebook(tmp_path, "02_momentum.ipynb", SGD)
    path.touch()
    assert mine.load("sgd", folder=tmp_path)(np.ones(1), np.ones(1))[0][0] == pytest.approx(0.99)


def test_a_revealed_solution_stands_in_and_says_so(tmp_path, capsys):
    """In the instructor's checkout the references work, as in a bundle made with --reveal."""
    write_notebook(tmp_path, "02_momentum.ipynb", STUB)
    sgd = mine.load("sgd", folder=tmp_path)
    assert sgd.__module__ == "course_lib.reference.momentum"
    assert "sgd from notebook 02 is not written yet: using the revealed solution instead." in capsys.readouterr().out


def test_several_names_give_a_tuple_in_order(tmp_path, no_revealed_solutions):
    write_notebook(tmp_path, "02_momentum.ipynb", SGD)
    write_notebook(tmp_path, "01_gradient_descent.ipynb", '''def gradient_descent(grad, x0, learning_rate, num_steps):
    path = [np.array(x0, dtype=float)]
    for _ in range(num_steps):
        path.append(path[-1] - learning_rate * grad(path[-1]))
    return np.array(path)
''')
    gd, sgd = mine.load("gradient_descent", "sgd", folder=tmp_path)
    assert (gd.__name__, sgd.__name__) == ("gradient_descent", "sgd")
    with pytest.raises(TypeError, match="name the functions"):
        mine.load(folder=tmp_path)
