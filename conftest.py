"""Shared test set-up: hide progress bars, so that notebook outputs do not depend on timing.
Kernels started by nbval inherit this environment."""

import os

os.environ["COURSE_PROGRESS"] = "0"
