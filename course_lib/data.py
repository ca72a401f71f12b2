"""Data: handwritten digits, embedded; real MNIST when you have its files.

- ``load_dataset()`` gives scikit-learn's 8x8 digits (1,797 images, shipped inside
  scikit-learn: nothing is downloaded), unless MNIST is configured: pass
  ``mnist_dir=...`` or set the environment variable ``COURSE_MNIST_DIR`` to a folder
  holding the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``).
- Pixels are scaled to [0, 1]; ``standardize`` centres and scales features with
  training statistics; ``one_hot`` and ``minibatches`` do what they say.
"""

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Dataset", "load_dataset", "load_digits", "load_mnist", "read_idx", "data_source",
    "standardize", "one_hot", "minibatches", "shift_images", "synthetic_mnist", "MNIST_ENV",
]

MNIST_ENV = "COURSE_MNIST_DIR"
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass
class Dataset:
    """Images as rows: X_* of shape (N, H*W) with values in [0, 1], y_* of shape (N,) with labels 0-9."""
    name: str
    source: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    n_classes: int = 10

    def __repr__(self):
        return (f"Dataset({self.name!r}: {len(self.X_train)} training and {len(self.X_test)} test images "
                f"of {self.image_shape[0]}x{self.image_shape[1]} pixels, from {self.source})")


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------

def load_digits(test_fraction=0.2, seed=0, dtype=np.float32):
    """scikit-learn's 8x8 handwritten digits, split into training and test sets (fixed seed)."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    X = (digits.data / 16.0).astype(dtype)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return Dataset("digits", "scikit-learn (embedded)", X[train], y[train], X[test], y[test], (8, 8))


def read_idx(path):
    """Read an IDX file (the MNIST format), gzipped or not, into an array of its shape.

    Raises ValueError naming the file when it is truncated or is not an IDX file of unsigned bytes.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: cannot read it as {'gzip' if opener is gzip.open else 'an IDX file'} ({e}); "
                         f"download the file again") from e
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (bad magic number {raw[:4].hex() or 'empty'}); "
                         f"is this the right file, and is it unzipped or named .gz?")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: the file ends inside its header; it is truncated, download it again")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise ValueError(f"{path}: the header promises {expected} bytes of data for shape {shape}, "
                         f"the file holds {len(raw) - header}; it is truncated or corrupt, download it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_mnist(mnist_dir=None, dtype=np.float32):
    """MNIST from its four IDX files in ``mnist_dir`` (default: the folder in $COURSE_MNIST_DIR)."""
    folder = mnist_dir or os.environ.get(MNIST_ENV)
    if not folder:
        raise ValueError(f"load_mnist: no folder given; pass mnist_dir=... or set {MNIST_ENV}")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist (from {MNIST_ENV} or mnist_dir)")
    paths = {key: _find(folder, stem) for key, stem in MNIST_FILES.items()}
    missing = [MNIST_FILES[key] for key, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"MNIST folder {folder} lacks {', '.join(missing)} (optionally .gz); "
                                f"put the four IDX files there")
    arrays = {key: read_idx(p) for key, p in paths.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST {part} files do not fit together: images {images.shape}, labels {labels.shape}")
    shape = arrays["train_images"].shape[1:]

    def flat(images):
        return (images.reshape(len(images), -1) / 255.0).astype(dtype)

    return Dataset("mnist", str(folder), flat(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                   flat(arrays["test_images"]), arrays["test_labels"].astype(np.int64), tuple(shape))


def data_source(mnist_dir=None):
    """Which data ``load_dataset`` will use, as ('mnist', folder) or ('digits', reason), without loading it."""
    folder = mnist_dir or os.environ.get(MNIST_ENV)
    if folder:
        return "mnist", str(Path(folder).expanduser())
    return "digits", f"embedded in scikit-learn ({MNIST_ENV} is not set)"


def load_dataset(name="auto", mnist_dir=None, dtype=np.float32):
    """The course's data set: ``'digits'``, ``'mnist'``, or ``'auto'`` (MNIST when configured, else digits).

    With ``'auto'``, a configured MNIST folder that is missing or broken is an error, not a
    silent fall-back to digits.
    """
    if name not in ("auto", "digits", "mnist"):
        raise ValueError(f"load_dataset: name must be 'auto', 'digits' or 'mnist', got {name!r}")
    if name == "digits" or (name == "auto" and data_source(mnist_dir)[0] == "digits"):
        return load_digits(dtype=dtype)
    return load_mnist(mnist_dir, dtype=dtype)


# --------------------------------------------------------------------------------------
# Preprocessing and batches
# --------------------------------------------------------------------------------------

def standardize(X_train, *others, eps=1e-8):
    """Centre and scale every feature with the training set's mean and std.

    Returns the transformed training set followed by each of ``others``, transformed with the
    same (training) statistics. Constant features (std 0) are only centred.
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > eps, std, 1).astype(X_train.dtype)
    return tuple((X - mean) / std for X in (X_train, *others))


def one_hot(y, n_classes=10):
    """Labels (N,) -> one-hot rows (N, n_classes), float."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= n_classes)):
        raise ValueError(f"one_hot: expected labels (N,) in [0, {n_classes}), got shape {y.shape}")
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1
    return out


def minibatches(X, y, batch_size, rng, shuffle=True):
    """Yield (X_batch, y_batch) covering the data once, in a random order drawn from ``rng``.

    The last batch is smaller when N is not a multiple of batch_size.
    """
    if len(X) != len(y):
        raise ValueError(f"minibatches: X has {len(X)} rows but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be >= 1, got {batch_size!r}")
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def shift_images(X, image_shape, dx, dy):
    """Images shifted by dx pixels right and dy pixels down, with zeros coming in: (N, H*W) -> (N, H*W)."""
    h, w = image_shape
    images = X.reshape(len(X), h, w)
    out = np.zeros_like(images)
    src_y, dst_y = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_x, dst_x = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out.reshape(len(X), h * w)


def synthetic_mnist(n=60000, rng=0, dtype=np.float32):
    """Random data shaped like MNIST's training set, (n, 784) in [0, 1) and labels (n,), for benchmarks."""
    rng = np.random.default_rng(rng)
    return rng.random((n, 784), dtype=np.float32).astype(dtype, copy=False), rng.integers(0, 10, n)
