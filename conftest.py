"""Shared test set-up, inherited by the kernels nbval and the grader start:

- progress bars hidden, so that notebook outputs do not depend on timing;
- one BLAS thread per process: the tests run several processes at once on two cores, and
  oversubscribed BLAS threads make small matrix products many times slower.
"""

import os

os.environ["COURSE_PROGRESS"] = "0"
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")
