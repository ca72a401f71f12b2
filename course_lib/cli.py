"""The ``course`` command: open the course and check the set-up; for instructors, their tools.

Each sub-command lives in its own module, which provides ``register(subparsers)``: it adds its
parser and sets ``func(args) -> exit code``. The instructor's commands come from the
``course_instructor`` package, which a student's copy of the course does not contain: there
``course --help`` lists only what a student uses.
"""

import argparse
import importlib
import importlib.util
import sys

from . import __version__

STUDENT_COMMANDS = ["course_lib.lab", "course_lib.doctor"]
"""The modules of the students' sub-commands, in the order ``course --help`` lists them."""

INSTRUCTOR_COMMANDS = ["course_instructor.release", "course_instructor.execute", "course_instructor.grading.command",
                       "course_instructor.gradescope.command"]
"""The instructor's sub-commands, listed after the students' when ``course_instructor`` is installed."""


def command_modules():
    """The sub-command modules this installation has."""
    instructor = importlib.util.find_spec("course_instructor") is not None
    return STUDENT_COMMANDS + (INSTRUCTOR_COMMANDS if instructor else [])


def build_parser():
    parser = argparse.ArgumentParser(
        prog="course",
        description="Optimization for Deep Learning: a graded notebook course.",
        epilog="Run 'course COMMAND --help' for the options of each command.")
    parser.add_argument("--version", action="version", version=f"course_lib {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
