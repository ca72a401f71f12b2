"""Shared test set-up: hide progress bars (so notebook outputs do not depend on timing)
and draw figures off-screen. Kernels started by nbval inherit this environment."""

import os

os.environ["COURSE_PROGRESS"] = "0"
os.environ.setdefault("MPLBACKEND", "Agg")
