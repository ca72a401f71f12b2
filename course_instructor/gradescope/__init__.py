"""``course gradescope``: an autograder for Gradescope that grades exactly as ``course grade`` does.

- ``package``: the zip (setup.sh, run_autograder, the settings, the course's own files);
- ``autograder``: what runs on Gradescope for each submission (the grading pipeline of
  ``course grade`` on a class of one) and its ``--check`` of the solutions;
- ``results``: results.json in Gradescope's format, and a check of that format;
- ``command``: the ``course gradescope`` command.
"""
