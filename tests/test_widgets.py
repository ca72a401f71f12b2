"""The optimizer playground, driven without a browser: set a control's value as a slider would.

(The browser test moves the learning-rate slider in JupyterLab and checks that the picture changes;
the time per update is measured by ``benchmarks/playground.py``, not asserted here.)
"""

import base64
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.reference import adaptive, momentum

RULES = adaptive.RULES
from course_lib.surfaces import SURFACES
from course_lib.widgets import HYPERPARAMETERS, Playground, TrajectoryView, playground, run


@pytest.fixture(scope="module")
def pg():
    return playground(RULES)


def test_starts_with_a_png_of_the_bowl(pg):
    assert pg.values()["surface"] == "bowl"
    assert pg.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_moving_the_learning_rate_changes_the_picture(pg):
    pictures, seconds = [], []
    for lr in (0.01, 0.03, 0.1, 0.3):
        start = time.perf_counter()
        pg.controls["learning_rate"].value = lr
        seconds.append(time.perf_counter() - start)
        pictures.append(pg.image.value)
    assert len(set(pictures)) == len(pictures)
    print(f"playground: {1000 * np.mean(seconds):.0f} ms per update (not asserted; see benchmarks/playground.py)")


@pytest.mark.parametrize("control, value", [("steps", 7), ("x0", 3.0), ("y0", -1.0), ("rule", "adam"),
                                            ("surface", "saddle")])
def test_every_control_changes_the_picture(control, value):
    pg = playground(RULES)
    before = pg.image.value
    pg.controls[control].value = value
    assert pg.image.value != before


def test_updates_create_no_figures(pg):
    before = plt.get_fignums()
    for surface in ("rosenbrock", "bowl"):
        pg.controls["surface"].value = surface
        for steps in (10, 20, 30):
            pg.controls["steps"].value = steps
    assert plt.get_fignums() == before


@pytest.mark.parametrize("rule", list(adaptive.RULES))
def test_a_rule_shows_only_the_sliders_it_reads(pg, rule):
    pg.controls["rule"].value = rule
    shown = {key for key in ("momentum", "decay_rate", "beta1", "beta2")
             if pg.controls[key].layout.display != "none"}
    assert shown == set(HYPERPARAMETERS[rule])


def test_momentum_slider_is_hidden_for_adagrad(pg):
    pg.controls["rule"].value = "adagrad"
    assert pg.controls["momentum"].layout.display == "none"


def test_the_picture_is_the_path_of_the_chosen_settings(pg):
    pg.controls["rule"].value = "sgd_momentum"
    pg.controls["momentum"].value = 0.5
    pg.controls["steps"].value = 12
    v = pg.values()
    path = run(momentum.sgd_momentum, SURFACES[v["surface"]], v["learning_rate"], 12, (v["x0"], v["y0"]), momentum=0.5)
    expected = TrajectoryView().render(SURFACES[v["surface"]], path, pg.view.label.get_text(),
                                       pg.view.path_line.get_color())
    assert pg.image.value == expected


def test_a_new_surface_moves_the_start_into_its_window():
    pg = playground(RULES)
    pg.controls["surface"].value = "rosenbrock"
    assert (pg.values()["x0"], pg.values()["y0"]) == SURFACES["rosenbrock"].start
    assert (pg.controls["x0"].min, pg.controls["x0"].max) == SURFACES["rosenbrock"].xlim


def test_picking_a_rule_sets_its_usual_learning_rate():
    pg = playground(RULES)
    pg.controls["rule"].value = "adagrad"
    assert pg.values()["learning_rate"] == pytest.approx(1.5, rel=0.06)   # the log slider's step rounds


def test_your_own_rules_are_used_and_get_their_sliders():
    calls = []

    def adam(w, dw, config=None):
        calls.append(dict(config))
        return adaptive.adam(w, dw, config)

    pg = playground({"my adam": adam})
    assert list(pg.controls["rule"].options) == ["my adam"]
    assert pg.controls["beta2"].layout.display != "none"
    assert calls and calls[0]["beta1"] == 0.9


def test_a_rule_that_raises_is_reported_in_the_status_line():
    def adam(w, dw, config=None):
        raise NotImplementedError("not yet")

    pg = playground({"adam": adam})
    assert "NotImplementedError: not yet" in pg.status.value
    assert pg.image.value[:4] == b"\x89PNG"


def test_a_diverging_path_is_drawn_and_reported():
    pg = playground(RULES)
    pg.controls["rule"].value = "sgd"
    pg.controls["surface"].value = "rosenbrock"      # sgd at lr 0.95 explodes here
    assert "outside the plot" in pg.status.value


def test_text_representation_is_fixed(pg):
    bundle = pg._repr_mimebundle_()
    assert bundle["text/plain"] == ("Optimizer playground: 6 update rules (sgd, sgd_momentum, nesterov, adagrad, "
                                    "rmsprop, adam) on 7 surfaces")
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == pg.image.value


def test_no_rules_is_an_error():
    with pytest.raises(ValueError, match="at least one rule"):
        Playground(rules={})


@pytest.mark.parametrize("rules", [None, [momentum.sgd, adaptive.adam], adaptive.adam])
def test_rules_that_are_not_a_dict_are_an_error(rules):
    with pytest.raises(TypeError, match=r"rules must be a dict label -> update rule"):
        playground(rules)


def test_a_rule_that_is_not_a_function_is_an_error():
    with pytest.raises(TypeError, match=r"rules\['adam'\] must be an update rule"):
        playground({"adam": "adam"})
