"""The ``course`` command: open the course, check the set-up, and the instructor's tools.

Each sub-command lives in its own module, which provides ``register(subparsers)``: it adds its
parser and sets ``func(args) -> exit code``.
"""

import argparse
import importlib
import sys

from . import __version__

COMMAND_MODULES = [
    "course_lib.lab", "course_lib.doctor", "course_lib.release", "course_lib.execute", "course_lib.grading.command",
]
"""The modules of the sub-commands, in the order ``course --help`` lists them."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="course",
        description="Optimization for Deep Learning: a graded notebook course.",
        epilog="Run 'course COMMAND --help' for the options of each command.")
    parser.add_argument("--version", action="version", version=f"course_lib {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
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
