"""course_lib: the library behind the notebook course *Optimization for Deep Learning*.

One module per idea. What the notebooks call:

- ``layers``: forward/backward pairs (affine, activations, softmax loss)
- ``model``: a small fully connected network built from those and the student's own parts
- ``train``: a minibatch trainer (schedules, clipping, frozen parameters); ``compare``: short
  runs of several rules or settings on one network
- ``init``: the fixed-std initializer (the student writes Xavier and He)
- ``gradcheck``: relative errors for gradient checks
- ``descent``: the paths of update rules on a function
- ``surfaces``: 2-D test functions with analytic gradients
- ``data``: handwritten digits (embedded) and MNIST (from IDX files); ``augment``: shifted digits
- ``ensembles``: averaging networks' class probabilities (snapshot ensembles, dropout masks)
- ``transfer``: one data set split by class into a source and a target task
- ``search``: a progress bar for hyperparameter searches
- ``plots``, ``widgets``: the course's figures and its optimizer playground
- ``checks``: the self-check under every exercise; ``mine``: the student's functions from
  earlier notebooks
- ``reference``: the answers, one module per notebook (blocked in what students receive)
- ``lab``, ``doctor``, ``cli``: the ``course lab`` and ``course doctor`` commands
"""

__version__ = "0.1.0"

from .memory import reuse_freed_memory

reuse_freed_memory()
