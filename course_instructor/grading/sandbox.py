"""The place student kernels run in: a private copy of course_lib, folders, users and limits.

``Sandbox.create(...)`` makes, in a new temporary folder,

- ``lib/course_lib``: a copy of course_lib in which every graded function (``blocked``) only
  raises ``ReferenceUnavailable``: its source is gone from the copy, not just hidden. The rest
  (plots, data, the self-checks and their stored data) is untouched. Of ``course_instructor.grading``
  only what a kernel needs is copied (``KERNEL_MODULES``).
- ``kernels/<n>``: one folder per kernel, owned by the kernel's user, removed after grading.

It also decides what kernels must not see (``hidden``: the real course_lib, solutions/,
tests/, the submissions and the gradebook), which unprivileged user each job's kernels run
as (``uids``: one per job, so limits and clean-up of one job never touch another), and the
limits of a kernel process (``Limits``).
"""

import os
import pwd
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import course_instructor

from ..stubs import PACKAGE, copy_course_lib, reference_modules

__all__ = ["Sandbox", "Limits", "KERNEL_MODULES", "blocked_copy"]

KERNEL_MODULES = ("agent.py", "wire.py", "host.py")
"""The files of course_instructor.grading a kernel needs; the rest (the tests' runner) stays out."""

PREFIX = "course-grade-"
"""The name of every sandbox folder starts so (in the temporary folder)."""

FIRST_UID = 64000
"""Kernels run as users from here up (skipping any that exist), one per job, when grading as root."""

KERNEL_ENV = {
    "LANG": "C.UTF-8", "COURSE_PROGRESS": "0", "COURSE_GRADING": "1", "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
"""The environment of the kernel host and every kernel (a kernel adds its own folders)."""

BLOCKED_BODY = ("from course_instructor.grading.agent import ReferenceUnavailable\n"
                "raise ReferenceUnavailable({name!r})\n")


@dataclass(frozen=True)
class Limits:
    """What one kernel process may use.

    memory: address space in bytes (4 GiB); processes: for the kernel's user (256);
    file_size: the largest file it may write, in bytes (64 MiB).
    """
    memory: int = 4 * 2**30
    processes: int = 256
    file_size: int = 64 * 2**20

    def as_dict(self):
        return {"memory": self.memory, "processes": self.processes, "file_size": self.file_size}


def blocked_copy(target):
    """Write what kernels import into the folder ``target``: ``course_lib`` with every module of
    ``course_lib.reference`` stubbed (each function raises ReferenceUnavailable), and of
    ``course_instructor`` only ``grading/KERNEL_MODULES``. Returns the stubbed modules' names."""
    target = Path(target)
    done = copy_course_lib(target / "course_lib", dict.fromkeys(reference_modules(None), BLOCKED_BODY))
    grading = target / "course_instructor" / "grading"
    grading.mkdir(parents=True)
    (target / "course_instructor" / "__init__.py").write_text('"""What a grading kernel needs."""\n')
    (grading / "__init__.py").write_text('"""What a grading kernel needs."""\n')
    for name in KERNEL_MODULES:
        shutil.copyfile(Path(__file__).with_name(name), grading / name)
    return done


class Sandbox:
    """A grading run's temporary folder; ``close()`` removes it."""

    def __init__(self, root, lib, hidden, uids, limits, blocked):
        self.root, self.lib, self.hidden, self.uids = root, lib, hidden, uids
        self.limits, self.blocked = limits, blocked   # blocked: the stubbed reference modules
        self.warnings = []

    @classmethod
    def create(cls, hide, jobs, limits=Limits()):
        """hide: folders kernels must not see; jobs: how many kernels at once."""
        _remove_stale()
        root = Path(tempfile.mkdtemp(prefix=PREFIX))
        root.chmod(0o711)
        (root / "grader.pid").write_text(str(os.getpid()))
        lib = root / "lib"
        names = blocked_copy(lib)
        for path in [lib, *lib.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "kernels").mkdir(mode=0o711)
        probe = root / "probe"
        probe.mkdir()
        (probe / "visible").write_text("if a kernel can read this, hiding folders does not work\n")
        sandbox = cls(root, lib, [], _free_uids(jobs) if os.geteuid() == 0 else [None] * jobs, limits, names)
        sandbox.hidden = sandbox._hideable([PACKAGE, Path(course_instructor.__file__).parent, *hide])
        return sandbox

    def _hideable(self, folders):
        """The folders that can be hidden without hiding what kernels need (Python, the sandbox)."""
        needed = [self.root, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
        result = []
        for folder in dict.fromkeys(Path(f).resolve() for f in folders):
            if not folder.is_dir():
                continue
            if any(n == folder or folder in n.parents for n in needed):
                self.warnings.append(f"{folder} holds Python or the sandbox, so kernels can still read it")
                continue
            result.append(str(folder))
        return result

    @property
    def probe(self):
        return self.root / "probe"

    def host_env(self):
        """The kernel host's environment: no PYTHONPATH, the venv's executables first."""
        path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        return {**KERNEL_ENV, "PATH": path, "HOME": str(self.root), "MPLCONFIGDIR": str(self.root / "mpl")}

    def kernel_dir(self, number, uid):
        """A new folder for kernel ``number``, owned by ``uid`` (None: by the grader)."""
        folder = self.root / "kernels" / str(number)
        folder.mkdir(mode=0o700)
        if uid is not None:
            os.chown(folder, uid, uid)
        return folder

    def kernel_env(self, folder):
        home = str(folder)
        return {**self.host_env(), "HOME": home, "TMPDIR": home, "USER": "student", "LOGNAME": "student",
                "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
                "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.jupyter-data",
                "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime"}

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _remove_stale():
    """Remove the sandboxes of graders that were killed (their process is gone) and could not clean up."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            os.kill(int((folder / "grader.pid").read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):
            pass


def _free_uids(count):
    uids, uid = [], FIRST_UID
    while len(uids) < count:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            uids.append(uid)
        uid += 1
    return uids
