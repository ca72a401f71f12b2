"""``course grade``: grade a class's notebooks safely, fast and reproducibly.

Two pipelines of small named steps, each listed in order in one place:

- ``run.RUN_STEPS``, the class: open the gradebook, load and check the instructor's copy,
  open the sandbox, grade the solutions as a student (they must pass), collect the
  submissions, grade them in parallel (one record each, as soon as it is graded), write
  grades.csv and the feedback.
- ``notebook.NOTEBOOK_STEPS``, one submission: read it, take its exercise code, build the
  grading notebook, run its cells (nbval's comparison on the instructor's cells), run the
  hidden cases, score.

Modules, one idea each:

- ``instructor``: solutions/ and tests/hidden/cases/, read and checked
- ``submission``: students' folders and files, read whatever state they are in
- ``notebook``: grading one submission; ``validate``: nbval's comparison
- ``hidden``: the hidden cases, run through the self-checks' own code (``course_lib.checks``)
  on the student's functions in their kernel
- ``sandbox``: the blocked copy of course_lib, folders, users, limits
- ``host``: the warm kernel host kernels are forked from (runs in the sandbox);
  ``kernel``: the grading process's side of a kernel; ``agent``: the kernel's side of calls;
  ``wire``: values as plain data between the two
- ``records``: one record per graded submission; ``report``: grades.csv, feedback, summary
- ``run``: the class; ``command``: the ``course grade`` command
"""
