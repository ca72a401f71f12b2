"""Speed of course_lib against PyTorch (CPU), measured in one process.

    python benchmarks/training.py [--rounds 5] [--steps 50]

Prints, for each workload, course_lib's time, PyTorch's time and their ratio (course_lib / PyTorch;
below 1 means course_lib is faster):

1. one training epoch of a 784-1000-10 sigmoid network, batch 100, Adam, float32, on MNIST
   (from $COURSE_MNIST_DIR) or on synthetic data of the same shape (60000 x 784), run by
   ``course_lib.train.train`` (which also measures its training accuracy on 1000 images);
2. one Adam step on 1M float32 parameters.

The two sides take turns, round after round, so that a burst of load on the machine hits both;
each line gives the median over the rounds and the ratio's range. Then where course_lib's epoch
goes (forward+backward vs the update rule). Needs the bench extra (pip install -e ".[bench]") for
the PyTorch side; without it only course_lib's times are printed.
"""

import argparse
import os
import statistics
import time

import numpy as np

from course_lib import data, train
from course_lib.reference import adaptive, init as reference_init
from course_lib.model import MLP


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def training_data():
    if os.environ.get(data.MNIST_ENV):
        ds = data.load_mnist()
        return ds.X_train, ds.y_train, "MNIST"
    X, y = data.synthetic_mnist(60000, rng=0)
    return X, y, "synthetic MNIST-shaped data"


class CourseEpoch:
    """One epoch of ``train.train`` with adam; ``update_seconds`` sums the time spent in the rule."""

    def __init__(self, X, y, batch_size=100):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.net = MLP([784, 1000, 10], activation="sigmoid", init=reference_init.xavier_uniform, seed=0)
        self.update_seconds = 0.0

    def timed_adam(self, w, dw, config):
        start = time.perf_counter()
        result = adaptive.adam(w, dw, config)
        self.update_seconds += time.perf_counter() - start
        return result

    def __call__(self):
        train.train(self.net, self.X, self.y, rule=self.timed_adam, config={"learning_rate": 1e-3},
                    epochs=1, batch_size=self.batch_size, progress=False)


def torch_epoch(X, y, batch_size=100):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.Sigmoid(), torch.nn.Linear(1000, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    rng = np.random.default_rng(0)

    def run():
        order = torch.from_numpy(rng.permutation(len(X)))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(X_t[idx]), y_t[idx]).backward()
            opt.step()

    return run


def adam_problem(n_params):
    """Float32 parameters and four gradients to cycle through, all of n_params entries."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal(n_params, dtype=np.float32),
            [rng.standard_normal(n_params, dtype=np.float32) for _ in range(4)])


def course_adam_steps(w, grads, steps):
    """A function taking ``steps`` steps of ``adaptive.adam`` from w, carrying on where it stopped."""
    state = {"w": w, "config": {"learning_rate": 1e-3}}

    def run():
        w, config = state["w"], state["config"]
        for k in range(steps):
            w, config = adaptive.adam(w, grads[k % len(grads)], config)
        state.update(w=w, config=config)

    return run


def torch_adam_steps(w, grads, steps):
    """The same with ``torch.optim.Adam``."""
    import torch

    p = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.Adam([p], lr=1e-3)
    torch_grads = [torch.from_numpy(g) for g in grads]

    def run():
        for k in range(steps):
            p.grad = torch_grads[k % len(torch_grads)]
            opt.step()

    return run


def take_turns(rounds, course, torch_fn):
    """Time course() and torch_fn() alternately, ``rounds`` times each, after one warm-up call of each."""
    course()
    if torch_fn:
        torch_fn()
    times = {"course": [], "torch": []}
    for _ in range(rounds):
        times["course"].append(seconds(course))
        if torch_fn:
            times["torch"].append(seconds(torch_fn))
    return times


def report(name, times, per=1):
    t = statistics.median(times["course"]) / per
    if not times["torch"]:
        print(f"{name:<24}{t * 1e3:>10.2f}ms{'-':>12}{'-':>8}")
        return
    ratios = [a / b for a, b in zip(times["course"], times["torch"])]
    print(f"{name:<24}{t * 1e3:>10.2f}ms{statistics.median(times['torch']) / per * 1e3:>10.2f}ms"
          f"{statistics.median(ratios):>8.2f}   ({min(ratios):.2f} to {max(ratios):.2f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per side, taking turns")
    parser.add_argument("--steps", type=int, default=50, help="Adam steps on 1M parameters per timing "
                                                                "(15 timings per side, taking turns)")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install -e '.[bench]'): course_lib's times only.\n")

    X, y, source = training_data()
    print(f"one epoch: 784-1000-10 sigmoid, batch 100, Adam, float32, on {source}; {os.cpu_count()} cores, "
          f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else "")
          + f"; load average {os.getloadavg()[0]:.2f}")
    course = CourseEpoch(X, y)
    epochs = take_turns(args.rounds, course, torch and torch_epoch(X, y))
    update_share = course.update_seconds / (args.rounds + 1)
    w, grads = adam_problem(1_000_000)
    steps = take_turns(15, course_adam_steps(w, grads, args.steps),
                       torch and torch_adam_steps(w, grads, args.steps))

    print(f"\n{'workload':<24}{'course_lib':>12}{'PyTorch':>12}{'ratio':>8}   (range over rounds)")
    report("epoch (600 steps)", epochs)
    report("Adam step, 1M params", steps, per=args.steps)
    t_epoch = statistics.median(epochs["course"])
    print(f"\nwhere course_lib's epoch goes: forward+backward and the trainer {1e3 * (t_epoch - update_share):.0f} ms, "
          f"Adam updates {1e3 * update_share:.0f} ms ({100 * update_share / t_epoch:.0f}%)")


if __name__ == "__main__":
    main()
