"""Surfaces against central differences; data loading (including broken IDX files);
the L2 penalty; the search helpers; the command line."""

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest

from course_lib import data, surfaces
from course_lib.reference import search
from course_lib.gradcheck import rel_error
from course_lib.reference.descent import numerical_gradient
from course_lib.reference.regularization import l2_penalty


# ---------------------------------------------------------------- surfaces

@pytest.mark.parametrize("name", sorted(surfaces.SURFACES))
def test_surface_gradient_matches_central_differences(name):
    surface = surfaces.SURFACES[name]
    rng = np.random.default_rng(0)
    for p in [np.array(surface.start), *rng.uniform([surface.xlim[0], surface.ylim[0]],
                                                    [surface.xlim[1], surface.ylim[1]], (5, 2))]:
        assert rel_error(numerical_gradient(surface, p), surface.grad(p)) < 1e-6


@pytest.mark.parametrize("name", sorted(surfaces.SURFACES))
def test_surface_minima_are_stationary_and_the_grid_has_the_window(name):
    surface = surfaces.SURFACES[name]
    for m in surface.minima:
        assert np.linalg.norm(surface.grad(m)) < 1e-5
    X, Y, Z = surface.grid(20)
    assert Z.shape == (20, 20) and X.min() == surface.xlim[0] and Y.max() == surface.ylim[1]


def test_two_minima_global_is_lower_and_bowl_is_ill_conditioned():
    (g, l) = surfaces.two_minima.minima
    assert surfaces.two_minima(g) < surfaces.two_minima(l)
    # Hessian of x^2/20 + y^2 is diag(1/10, 2): condition number 20
    h = np.array([numerical_gradient(lambda p: surfaces.bowl.grad(p)[i], np.zeros(2)) for i in range(2)])
    np.testing.assert_allclose(h, [[0.1, 0], [0, 2]], atol=1e-6)


def test_surface_rejects_a_point_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"a point is \(x, y\), shape \(2,\)"):
        surfaces.bowl.grad(np.zeros(3))


# ---------------------------------------------------------------- data

def test_digits_are_embedded_scaled_and_split():
    ds = data.load_dataset("digits")
    assert (ds.name, ds.image_shape) == ("digits", (8, 8))
    assert ds.X_train.shape == (1438, 64) and ds.X_test.shape == (359, 64) and ds.X_train.dtype == np.float32
    assert 0 <= ds.X_train.min() and ds.X_train.max() == 1
    assert set(np.unique(ds.y_train)) == set(range(10))


def write_idx(path, array, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if path.suffix == ".gz":
        raw = gzip.compress(raw)
    path.write_bytes(raw)


@pytest.fixture
def mnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (12, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 12))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 5))
    return tmp_path


def test_mnist_from_idx_files_gzipped_or_not(mnist_dir, monkeypatch):
    monkeypatch.setenv(data.MNIST_ENV, str(mnist_dir))
    assert data.data_source()[0] == "mnist"
    ds = data.load_dataset()
    assert ds.name == "mnist" and ds.X_train.shape == (12, 784) and ds.X_test.shape == (5, 784)
    raw = data.read_idx(mnist_dir / "t10k-images-idx3-ubyte")
    np.testing.assert_allclose(ds.X_test, raw.reshape(5, -1) / 255, rtol=1e-6)


def test_auto_uses_digits_without_the_variable(monkeypatch):
    monkeypatch.delenv(data.MNIST_ENV, raising=False)
    assert data.data_source()[0] == "digits"
    assert data.load_dataset().name == "digits"


def test_missing_mnist_files_are_named(mnist_dir):
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte"):
        data.load_mnist(mnist_dir)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(mnist_dir / "nowhere")


def test_truncated_and_foreign_idx_files_are_reported(tmp_path):
    good = tmp_path / "a-idx1-ubyte"
    write_idx(good, np.arange(10))
    good.write_bytes(good.read_bytes()[:-3])
    with pytest.raises(ValueError, match="promises 10 bytes.*holds 7.*truncated"):
        data.read_idx(good)
    foreign = tmp_path / "b-idx1-ubyte"
    foreign.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(foreign)
    broken_gz = tmp_path / "c-idx1-ubyte.gz"
    broken_gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read it as gzip"):
        data.read_idx(broken_gz)


def test_standardize_uses_training_statistics():
    X_train, X_test = np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([[4.0, 3.0]])
    a, b = data.standardize(X_train, X_test)
    np.testing.assert_allclose(a, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(b, [[3, 2]])


def test_one_hot_minibatches_and_shifts():
    np.testing.assert_array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="labels"):
        data.one_hot([3], 3)
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(data.minibatches(X, y, 4, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))
    assert all((bx[:, 0] == 2 * by).all() for bx, by in batches)
    image = np.arange(9.0).reshape(1, 9)
    np.testing.assert_array_equal(data.shift_images(image, (3, 3), dx=1, dy=0).reshape(3, 3),
                                  [[0, 0, 1], [0, 3, 4], [0, 6, 7]])
    np.testing.assert_array_equal(data.shift_images(image, (3, 3), dx=0, dy=-1).reshape(3, 3),
                                  [[3, 4, 5], [6, 7, 8], [0, 0, 0]])


# ---------------------------------------------------------------- L2 penalty and search

def test_l2_penalty_value_and_gradient():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((3, 4)), rng.standard_normal((4, 2))]
    loss, grads = l2_penalty(weights, 0.3)
    assert loss == pytest.approx(0.15 * sum((w**2).sum() for w in weights))
    for i, w in enumerate(weights):
        numeric = numerical_gradient(lambda v: l2_penalty([v if j == i else u for j, u in enumerate(weights)], 0.3)[0], w)
        assert rel_error(numeric, grads[i]) < 1e-8
    with pytest.raises(ValueError, match="lam must be >= 0"):
        l2_penalty(weights, -1)


def test_train_val_split_partitions_and_keeps_pairs():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    X_tr, y_tr, X_val, y_val = search.train_val_split(X, y, 0.25, np.random.default_rng(0))
    assert len(y_val) == 5 and len(y_tr) == 15
    assert sorted(np.concatenate([y_tr, y_val])) == list(range(20))
    assert (X_tr[:, 0] == 2 * y_tr).all() and (X_val[:, 0] == 2 * y_val).all()
    with pytest.raises(ValueError, match="val_fraction"):
        search.train_val_split(X, y, 1.0, np.random.default_rng(0))


def test_log_uniform_is_uniform_in_the_exponent():
    values = search.log_uniform(-6, -2, 20000, np.random.default_rng(0))
    exponents = np.log10(values)
    assert exponents.min() >= -6 and exponents.max() < -2
    counts, _ = np.histogram(exponents, bins=4, range=(-6, -2))
    assert np.all(np.abs(counts - 5000) < 5 * np.sqrt(5000 * 0.75))   # 5 sd of a binomial count
    with pytest.raises(ValueError, match="low_exp must be < high_exp"):
        search.log_uniform(-2, -6, 3, np.random.default_rng(0))


def test_random_search_orders_best_first_and_draws_in_space_order():
    space = {"a": lambda r: r.uniform(0, 1), "b": lambda r: r.integers(0, 100)}
    results = search.random_search(lambda p: -abs(p["a"] - 0.5), space, 10, np.random.default_rng(0))
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and len(results) == 10
    rng = np.random.default_rng(0)
    drawn = [(rng.uniform(0, 1), rng.integers(0, 100)) for _ in range(10)]
    assert sorted((r["params"]["a"], r["params"]["b"]) for r in results) == sorted(drawn)
    parallel = search.random_search(lambda p: -abs(p["a"] - 0.5), space, 10, np.random.default_rng(0), n_jobs=2)
    assert parallel == results


def test_random_search_puts_nan_scores_last():
    values = iter([0.1, float("nan"), 0.3])
    results = search.random_search(lambda p: next(values), {"x": lambda r: r.random()}, 3, np.random.default_rng(0))
    assert [r["score"] for r in results][:2] == [0.3, 0.1] and np.isnan(results[2]["score"])


def test_successive_halving_rounds_budgets_and_order():
    calls = []

    def objective(params, budget):
        calls.append((params["k"], budget))
        return params["k"] * (1 if budget < 9 else -1)   # the ranking flips at budget 9

    results = search.successive_halving(objective, [{"k": k} for k in range(9)], 1, eta=3)
    assert [b for _, b in calls] == [1] * 9 + [3] * 3 + [9]
    assert [(r["params"]["k"], r["budget"]) for r in results] == [(8, 9), (7, 3), (6, 3)] + [
        (k, 1) for k in range(5, -1, -1)]
    assert results[0]["score"] == -8        # scores of different rounds are not sorted together


def test_successive_halving_ties_keep_the_earlier_and_nan_is_worst():
    candidates = [{"s": 1.0}, {"s": float("nan")}, {"s": 1.0}]
    results = search.successive_halving(lambda p, b: p["s"], candidates, 2)
    assert [r["budget"] for r in results] == [8, 4, 2]   # the survivor trained once more, alone
    assert [r["params"] for r in results][:2] == [candidates[0], candidates[2]]
    assert results[0]["params"] is candidates[0] and results[1]["params"] is candidates[2]
    assert np.isnan(results[2]["score"])
    one = search.successive_halving(lambda p, b: b, [{"s": 0}], 5)
    assert one == [{"params": {"s": 0}, "score": 5.0, "budget": 5}]
    with pytest.raises(ValueError, match="eta"):
        search.successive_halving(lambda p, b: 0.0, [{}], 1, eta=1)


# ---------------------------------------------------------------- command line

def run_course(*args):
    return subprocess.run([sys.executable, "-m", "course_lib.cli", *args], capture_output=True, text=True)


def test_course_help_and_version():
    import course_lib

    result = run_course("--help")
    assert result.returncode == 0 and "doctor" in result.stdout and "lab" in result.stdout
    assert run_course("--version").stdout.strip() == f"course_lib {course_lib.__version__}"


def test_course_doctor_reports_every_check(monkeypatch):
    result = run_course("doctor")
    for name in ("Python", "numpy", "ipywidgets", "Jupyter kernel", "data"):
        assert name in result.stdout
    assert "digits" in result.stdout or "mnist" in result.stdout


def test_course_doctor_explains_a_broken_mnist_folder(tmp_path):
    import os

    env = {**os.environ, data.MNIST_ENV: str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "course_lib.cli", "doctor"], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "lacks train-images-idx3-ubyte" in result.stdout and "unset COURSE_MNIST_DIR" in result.stdout


def test_course_lab_runs_jupyterlab_on_the_notebooks_even_as_root(monkeypatch):
    import os

    from course_lib.lab import lab_command

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    command = lab_command("/course/notebooks", no_browser=True, port=8899)
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert {"--ServerApp.root_dir=/course/notebooks", "--no-browser", "--port=8899", "--allow-root"} <= set(command)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in lab_command("/course/notebooks")
