"""A minibatch trainer for ``course_lib.model.MLP`` (or anything with ``params``, ``loss`` and ``accuracy``).

>>> from course_lib import data, model, train
>>> from course_lib.reference import adaptive
>>> ds = data.load_digits()
>>> net = model.MLP([64, 50, 10], seed=0)
>>> history = train.train(net, ds.X_train, ds.y_train, ds.X_test, ds.y_test, rule=adaptive.adam,
...                       config={"learning_rate": 1e-3}, epochs=2, progress=False)
>>> len(history.val_accuracy)
2
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .data import minibatches

__all__ = ["History", "train", "progress_bar"]


def progress_bar(iterable=None, **kwargs):
    """A tqdm progress bar that draws as a widget in notebooks and as text elsewhere.

    Set the environment variable ``COURSE_PROGRESS=0`` to hide every bar (the tests do,
    so that notebook outputs do not depend on timings).
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", os.environ.get("COURSE_PROGRESS", "1") == "0")
    return tqdm(iterable, **kwargs)


@dataclass
class History:
    """What happened during training.

    Per step: ``loss`` (the training batch's loss) and ``learning_rate``; with clipping,
    ``grad_norm`` (the gradients' norm before clipping).
    Per epoch: ``train_accuracy`` and ``val_accuracy`` (NaN without validation data).
    """
    loss: list = field(default_factory=list)
    learning_rate: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    steps_per_epoch: int = 0

    def epoch_loss(self):
        """The mean training loss of each epoch."""
        n = self.steps_per_epoch
        return [float(np.mean(self.loss[i:i + n])) for i in range(0, len(self.loss), n)] if n else []


def _trained(params, frozen):
    """The names of ``params`` to train, in their order: all but ``frozen`` (checked)."""
    if isinstance(frozen, str):
        frozen = (frozen,)
    frozen = set(frozen)
    unknown = sorted(frozen - set(params))
    if unknown:
        raise ValueError(f"train: frozen names {unknown} are not parameters of the model; its parameters "
                         f"are {list(params)}")
    trained = [name for name in params if name not in frozen]
    if not trained:
        raise ValueError(f"train: frozen holds every parameter of the model ({list(params)}), so nothing "
                         f"would be trained; leave at least one out (e.g. the last layer's)")
    return trained


def train(model, X, y, X_val=None, y_val=None, *, rule, config=None, schedule=None, epochs=10,
          batch_size=100, seed=0, progress=True, eval_size=1000, description=None, clip=None, frozen=()):
    """Train ``model`` in place with minibatches, and return its ``History``.

    rule: an update rule ``next_w, config = rule(w, dw, config)``: yours from notebooks 02 and 03.
    config: the rule's hyperparameters; every parameter array gets its own copy (and state).
    schedule: optional function of the 0-based step t giving the learning rate, e.g.
        ``lambda t: step_decay(0.1, t, every=500)``; it overrides config's learning_rate.
    seed: seeds the order of the minibatches.  eval_size: how many training samples the
        per-epoch training accuracy is measured on (all of them if fewer).
    clip: optional ``(function, max_norm)``: each step, the gradients (a dict) are replaced by
        ``function(grads, max_norm)[0]``, e.g. ``(clip_by_global_norm, 1.0)``: yours from notebook 04;
        the norms before clipping are kept in ``history.grad_norm``.
    frozen: names of parameters in ``model.params`` that are not trained, e.g. every name but
        ``"W3"`` and ``"b3"`` to train only the last layer of a ``[64, 64, 64, 5]`` network
        (transfer learning, notebook 08): their update rule is never called, so their arrays stay
        bit-identical (the gradients still flow through them to the layers below). A name that
        is not in ``model.params`` raises ValueError, and so does freezing every parameter.
        With ``clip``, the global norm is taken over the gradients of every parameter.
    Raises FloatingPointError naming the step and the learning rate when the loss stops being finite.
    """
    if len(X) != len(y):
        raise ValueError(f"train: X has {len(X)} rows but y has {len(y)}")
    if (X_val is None) != (y_val is None):
        raise ValueError("train: give both X_val and y_val, or neither")
    if clip is not None and not (isinstance(clip, tuple) and len(clip) == 2 and callable(clip[0])):
        raise TypeError("train: clip must be None or a pair (function, max_norm)")
    trained = _trained(model.params, frozen)
    rng = np.random.default_rng(seed)
    configs = {name: dict(config or {}) for name in trained}
    first = next(iter(configs))
    history = History(steps_per_epoch=math.ceil(len(X) / batch_size))
    eval_idx = rng.permutation(len(X))[:eval_size]
    step = 0
    bar = progress_bar(total=epochs * history.steps_per_epoch, desc=description or getattr(rule, "__name__", "train"),
                       leave=False, **({} if progress else {"disable": True}))
    try:
        for epoch in range(epochs):
            for X_batch, y_batch in minibatches(X, y, batch_size, rng):
                if schedule is not None:
                    for c in configs.values():
                        c["learning_rate"] = schedule(step)
                loss, grads = model.loss(X_batch, y_batch)
                lr = configs[first].get("learning_rate", "the rule's default")
                if not math.isfinite(loss):
                    raise FloatingPointError(
                        f"training diverged: the loss is {loss} at step {step} (epoch {epoch + 1}) with "
                        f"learning_rate={lr}; try a learning rate about 10 times smaller")
                if clip is not None:
                    grads, norm = clip[0](grads, clip[1])
                    history.grad_norm.append(float(norm))
                for name in trained:
                    model.params[name], configs[name] = rule(model.params[name], grads[name], configs[name])
                history.loss.append(loss)
                history.learning_rate.append(configs[first].get("learning_rate", float("nan")))
                step += 1
                bar.update()
            history.train_accuracy.append(model.accuracy(X[eval_idx], y[eval_idx]))
            history.val_accuracy.append(model.accuracy(X_val, y_val) if X_val is not None else float("nan"))
            bar.set_postfix(loss=f"{np.mean(history.loss[-history.steps_per_epoch:]):.3f}",
                            val=f"{history.val_accuracy[-1]:.3f}")
    except BaseException:
        bar.total = bar.n   # so that closing hides the bar instead of leaving a red one behind
        raise
    finally:
        bar.close()
    return history
