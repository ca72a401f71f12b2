"""course_lib: the library behind the notebook course *Optimization for Deep Learning*.

One module per idea:

- ``optim``: update rules (SGD ... Adam), exponentially weighted averages, learning-rate schedules
- ``layers``: forward/backward pairs (affine, activations, softmax loss, batchnorm, dropout)
- ``init``: weight initializers (Xavier/Glorot, He)
- ``gradcheck``: central-difference gradients and relative errors
- ``descent``: gradient descent and optimizer trajectories on a function
- ``regularization``: the L2 weight penalty
- ``model``: a small fully connected network
- ``train``: a minibatch trainer
- ``ensembles``: averaging networks' class probabilities (snapshot ensembles, dropout masks)
- ``surfaces``: 2-D test functions with analytic gradients
- ``data``: handwritten digits (embedded) and MNIST (from IDX files)
- ``plots``: the course's figures
"""

__version__ = "0.1.0"

from .memory import reuse_freed_memory

reuse_freed_memory()
