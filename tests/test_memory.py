"""The allocator setting that makes pure update rules cheap to call."""

import subprocess
import sys


def run(code, **env):
    import os

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}).stdout.strip()


def test_importing_course_lib_tunes_glibc_and_can_be_turned_off():
    code = "import course_lib.memory as m, course_lib; print(m.reuse_freed_memory())"
    assert run(code) == "True"          # this machine's C library is glibc
    assert run(code, COURSE_MALLOC="system") == "False"
