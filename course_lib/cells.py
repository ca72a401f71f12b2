"""The notebook conventions shared by release, self-checks and grading.

A notebook in ``solutions/`` is a sequence of cells; code cells carry at most one role tag:

- ``setup``: imports and data the rest of the notebook needs; run when grading.
- ``exercise``: graded code; the solution sits between BEGIN and END markers. Released
  with the region replaced by STUB; the only thing grading takes from a submission.
- ``check``: the self-check under an exercise; run when grading.
- ``instructor``: dropped from the released notebook.
Untagged cells are teaching material (demos, figures, widgets): released, not run when grading.
"""

SETUP, EXERCISE, CHECK, INSTRUCTOR = "setup", "exercise", "check", "instructor"
ROLES = (SETUP, EXERCISE, CHECK, INSTRUCTOR)

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
"""What a solution region becomes in the released notebook (indented like the region)."""
