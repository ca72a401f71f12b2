"""Speed of course_lib against PyTorch (CPU), measured in one process.

    python benchmarks/training.py [--epochs-repeat 3] [--steps 200]

Prints, for each workload, course_lib's time, PyTorch's time and their ratio (course_lib / PyTorch;
below 1 means course_lib is faster):

1. one training epoch of a 784-1000-10 sigmoid network, batch 100, Adam, float32, on MNIST
   (from $COURSE_MNIST_DIR) or on synthetic data of the same shape (60000 x 784);
2. one Adam step on 1M float32 parameters.

Then where course_lib's epoch time goes (forward+backward vs the update rule).
Needs the bench extra (pip install -e ".[bench]") for the PyTorch side; without it only
course_lib's times are printed.
"""

import argparse
import os
import time

import numpy as np

from course_lib import data, optim
from course_lib.model import MLP


def best_of(repeats, fn):
    """The fastest of ``repeats`` timed calls of fn(), in seconds (the least disturbed run)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def training_data():
    if os.environ.get(data.MNIST_ENV):
        ds = data.load_mnist()
        return ds.X_train, ds.y_train, "MNIST"
    X, y = data.synthetic_mnist(60000, rng=0)
    return X, y, "synthetic MNIST-shaped data"


class CourseEpoch:
    """One epoch of course_lib: the network's loss and gradients, then adam on every parameter."""

    def __init__(self, X, y, batch_size=100):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.net = MLP([784, 1000, 10], activation="sigmoid", init="xavier_uniform", seed=0)
        self.configs = {name: {"learning_rate": 1e-3} for name in self.net.params}
        self.rng = np.random.default_rng(0)
        self.time_update = 0.0

    def __call__(self):
        for X_batch, y_batch in data.minibatches(self.X, self.y, self.batch_size, self.rng):
            _, grads = self.net.loss(X_batch, y_batch)
            start = time.perf_counter()
            for name, w in self.net.params.items():
                self.net.params[name], self.configs[name] = optim.adam(w, grads[name], self.configs[name])
            self.time_update += time.perf_counter() - start


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


def adam_steps(n_params, steps):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(n_params, dtype=np.float32)
    grads = [rng.standard_normal(n_params, dtype=np.float32) for _ in range(4)]

    def course():
        nonlocal w
        config = {"learning_rate": 1e-3}
        for k in range(steps):
            w, config = optim.adam(w, grads[k % 4], config)

    def torch_version():
        import torch

        p = torch.nn.Parameter(torch.from_numpy(w.copy()))
        opt = torch.optim.Adam([p], lr=1e-3)
        torch_grads = [torch.from_numpy(g) for g in grads]
        for k in range(steps):
            p.grad = torch_grads[k % 4]
            opt.step()

    return course, torch_version


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-repeat", type=int, default=3, help="epochs timed per side (best is kept)")
    parser.add_argument("--steps", type=int, default=200, help="Adam steps per timing on 1M parameters")
    args = parser.parse_args()
    try:
        import torch
        has_torch = True
        torch.set_num_threads(os.cpu_count())
    except ImportError:
        has_torch = False
        print("PyTorch is not installed (pip install -e '.[bench]'): course_lib's times only.\n")

    X, y, source = training_data()
    print(f"workload 1: one epoch, 784-1000-10 sigmoid, batch 100, Adam, float32, on {source}; "
          f"{os.cpu_count()} cores, numpy {np.__version__}" + (f", torch {torch.__version__}" if has_torch else ""))
    course = CourseEpoch(X, y)
    course()                                       # warm-up epoch
    course.time_update = 0.0
    t_course = best_of(args.epochs_repeat, course)
    update_share = course.time_update / args.epochs_repeat
    rows = [("epoch (600 steps)", t_course)]
    course_adam, torch_adam = adam_steps(1_000_000, args.steps)
    course_adam()
    rows.append((f"Adam step, 1M params", best_of(3, course_adam) / args.steps))
    if has_torch:
        run = torch_epoch(X, y)
        run()
        torch_times = [best_of(args.epochs_repeat, run)]
        torch_adam()
        torch_times.append(best_of(3, torch_adam) / args.steps)
    print(f"\n{'workload':<24}{'course_lib':>12}{'PyTorch':>12}{'ratio':>8}")
    for i, (name, t) in enumerate(rows):
        if has_torch:
            print(f"{name:<24}{t * 1e3:>10.1f}ms{torch_times[i] * 1e3:>10.1f}ms{t / torch_times[i]:>8.2f}")
        else:
            print(f"{name:<24}{t * 1e3:>10.1f}ms{'-':>12}{'-':>8}")
    print(f"\nwhere course_lib's epoch goes: forward+backward {1e3 * (t_course - update_share):.0f} ms, "
          f"Adam updates {1e3 * update_share:.0f} ms ({100 * update_share / t_course:.0f}%)")


if __name__ == "__main__":
    main()
