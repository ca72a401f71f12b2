"""The place student kernels run in: a private copy of course_lib, what a kernel sees, users and limits.

``Sandbox.create(...)`` makes, in a new temporary folder,

- ``lib/course_lib``: a copy of course_lib in which every graded function (``blocked``) only
  raises ``ReferenceUnavailable``: its source is gone from the copy, not just hidden. The rest
  (plots, data, the self-checks and their stored data) is untouched. Of ``course_instructor.grading``
  only what a kernel needs is copied (``KERNEL_MODULES``).
- ``kernels/<n>``: one folder per kernel when kernels are not isolated (with bubblewrap a
  kernel's folder is ``/tmp/kernel`` in its sandbox's private /tmp, never on disk, and the blocked
  copy is shown at ``/grading/lib``).

It also decides what kernels see. With bubblewrap (``bwrap_command``) a job's kernel host runs
in a sandbox of its own (``view``): a new root holding only the system's programs and libraries
(/usr, read-only), this Python (its virtual environment and the Python that one was made from,
read-only), the blocked copy (read-only), a fresh /proc and /dev, and private, size-capped /tmp,
/dev/shm and /dev/mqueue; no network, no other process, nothing of the course, the solutions,
the hidden tests, the class folder or the gradebook (``hidden``: covered by an empty folder
wherever they would otherwise show through). Which unprivileged user each job runs as when
grading as root (``uids``), and the limits of a kernel process (``Limits``), are decided here too.

``isolation_status()`` says whether bubblewrap can isolate kernels on this machine, and if not,
what to install or use instead (``course doctor`` and ``course grade`` both say it).
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import course_instructor

from ..stubs import PACKAGE, copy_course_lib, reference_modules

__all__ = ["Sandbox", "Limits", "KERNEL_MODULES", "blocked_copy", "isolation_status", "mount_plan",
           "choose_isolation", "IsolationUnavailable", "INSTALL_BWRAP", "bwrap_path", "DETAILS", "INSIDE_TMP",
           "INSIDE_KERNEL", "INSIDE_LIB"]

KERNEL_MODULES = ("agent.py", "wire.py", "host.py")
"""The files of course_instructor.grading a kernel needs; the rest (the tests' runner) stays out."""

PREFIX = "course-grade-"
"""The name of every sandbox folder starts so (in the temporary folder)."""

FIRST_UID = 64000
"""Kernels run as users from here up (skipping any that exist or run a process), one per job, when
grading as root."""

KERNEL_ENV = {
    "LANG": "C.UTF-8", "COURSE_PROGRESS": "0", "COURSE_GRADING": "1", "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
"""The environment of the kernel host and every kernel (a kernel adds its own folders)."""

BLOCKED_BODY = ("from course_instructor.grading.agent import ReferenceUnavailable\n"
                "raise ReferenceUnavailable({name!r})\n")

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""The system's programs and libraries, shown read-only (a symlink, as on merged-/usr systems, stays one)."""

SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives")
"""What of /etc a Python process needs (the dynamic loader's cache, the time zone); nothing else of /etc."""

INSIDE_TMP = "/tmp"
"""Inside a sandbox: a private tmpfs, emptied after each kernel."""

INSIDE_KERNEL = "/tmp/kernel"
"""Inside a sandbox: the folder of its kernel (one at a time), the same for every kernel and run."""

INSIDE_LIB = "/grading/lib"
"""Inside a sandbox: where the blocked copy is (the same path in every run: what a kernel prints
with a path in it, a traceback, is the same when the class is graded again)."""

INSTALL_BWRAP = (
    "on Linux, install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
    "bubblewrap; Arch: sudo pacman -S bubblewrap); elsewhere (macOS, Windows) grade in the course's container "
    "(README, 'Grading a class': docker build -t course-grader . then docker run ...); or pass "
    "--allow-unisolated to grade anyway, only notebooks you trust (student code then runs as you)")
"""What to do where kernels cannot be isolated."""


@dataclass(frozen=True)
class Limits:
    """What one kernel may use.

    memory: address space of each process in bytes (4 GiB); processes: processes and threads of
    the kernel's sandbox (256); file_size: the largest file it may write, in bytes (64 MiB);
    tmp, shm: the size of its private /tmp and /dev/shm (256 MiB, 64 MiB).
    """
    memory: int = 4 * 2**30
    processes: int = 256
    file_size: int = 64 * 2**20
    tmp: int = 256 * 2**20
    shm: int = 64 * 2**20

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


# --------------------------------------------------------------------------------------
# Is bubblewrap here, and does it work?
# --------------------------------------------------------------------------------------

def bwrap_path():
    """bubblewrap's executable: $COURSE_BWRAP if set (an empty value: none), else ``bwrap`` on PATH."""
    wanted = os.environ.get("COURSE_BWRAP")
    if wanted is not None:
        return wanted if wanted and os.access(wanted, os.X_OK) else None
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap")
                                          if os.access(p, os.X_OK)), None)


_STATUS = {}


def isolation_status():
    """``(ok, detail)``: whether bubblewrap can run a sandbox here (new user, pid, network, IPC and
    mount namespaces, as ``course grade`` asks for), and what it is or why not (with what to do)."""
    if "status" in _STATUS:
        return _STATUS["status"]
    if not sys.platform.startswith("linux"):
        result = (False, f"kernels can only be isolated on Linux (this is {sys.platform})")
    elif (bwrap := bwrap_path()) is None:
        result = (False, "bubblewrap (bwrap) is not installed")
    else:
        try:
            version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
            # a sandbox of the same shape as a job's, running nothing
            trial = subprocess.run([bwrap, *_namespaces(os.geteuid() == 0), "--die-with-parent", "--new-session",
                                    "--as-pid-1", *_system_view(), "--proc", "/proc", "--dev", "/dev",
                                    "--perms", "1777", *_size(2**20), "--tmpfs", "/tmp", "--mqueue", "/dev/mqueue",
                                    "--perms", "0755", "--dir", "/grading", "--remount-ro", "/", "--", "/bin/sh",
                                    "-c", "exit 0"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            result = (False, f"{bwrap} does not run ({e})")
        else:
            why = trial.stderr.strip().splitlines()[-1] if trial.stderr.strip() else f"exit {trial.returncode}"
            if trial.returncode == 0:
                result = (True, f"{version or 'bubblewrap'} at {bwrap}")
            elif "nknown option" in why or "must be followed" in why:
                result = (False, f"{version or bwrap} is too old ({why}): course grade needs bubblewrap 0.8 or newer "
                                 "(Debian 12, Ubuntu 24.04, Fedora 38 and later have it)")
            else:
                result = (False, f"{bwrap} cannot make a sandbox here ({why}): unprivileged user namespaces are "
                                 "probably disabled (they need sysctl user.max_user_namespaces > 0, and on some "
                                 "systems kernel.unprivileged_userns_clone=1 or an AppArmor profile for bwrap; in a "
                                 "container, a seccomp profile that allows them), or grade as root")
    _STATUS["status"] = result
    return result


class IsolationUnavailable(Exception):
    """Kernels cannot be isolated as asked; the message says why and what to do."""


DETAILS = {
    "bwrap": "a bubblewrap sandbox per job: its own user, pid, network, IPC and mount namespaces, only Python "
             "and the blocked course_lib visible, private /tmp and /dev/shm; nothing a notebook starts outlives it",
    "uid": "NOT ISOLATED: each job's kernels run as an unprivileged user, but see every file any user may read "
           "(the course's reference code too) and share the network",
    "none": "NOT ISOLATED: kernels run as the grader's own user and can read, change and end whatever it can",
}


def choose_isolation(wanted="auto", allow_unisolated=False):
    """``(mode, detail)`` for ``course grade --isolation wanted``: ``bwrap`` when bubblewrap works
    here; else, only with ``allow_unisolated``, ``uid`` as root and ``none`` otherwise. ``uid`` and
    ``none`` can also be asked for by name. Raises ``IsolationUnavailable``."""
    root = os.geteuid() == 0
    if wanted in ("auto", "bwrap"):
        ok, detail = isolation_status()
        if ok:
            return "bwrap", f"{DETAILS['bwrap']} ({detail}{'; kernels as unprivileged users' if root else ''})"
        if wanted == "bwrap" or not allow_unisolated:
            raise IsolationUnavailable(
                f"refusing to grade: student code cannot be isolated here, and unisolated it would run as you "
                f"(read the solutions, the hidden tests and classmates' notebooks, write the gradebook, kill "
                f"your other processes). Why: {detail}")
        wanted = "uid" if root else "none"
    if wanted == "uid" and not root:
        raise IsolationUnavailable("--isolation uid needs root (it runs kernels as other users)")
    if wanted not in DETAILS:
        raise IsolationUnavailable(f"unknown isolation {wanted!r}: auto, bwrap, uid or none")
    return wanted, DETAILS[wanted]


def _options():
    """The options this bwrap knows (from its --help)."""
    if "options" not in _STATUS:
        try:
            said = subprocess.run([bwrap_path(), "--help"], capture_output=True, text=True, timeout=10)
            _STATUS["options"] = set(re.findall(r"--[a-z][a-z0-9-]*", said.stdout + said.stderr))
        except (OSError, TypeError, subprocess.TimeoutExpired):
            _STATUS["options"] = set()
    return _STATUS["options"]


def _size(size):
    """bwrap's size cap of the next tmpfs, where it has one (0.7 and later)."""
    return ["--size", str(size)] if "--size" in _options() else []


def _namespaces(as_root):
    """bwrap's namespace options. As root no user namespace is made (bwrap would map only root into
    it): the host itself then changes to its job's unprivileged user, first thing. Otherwise the
    sandbox may make no user namespace of its own (where bwrap can forbid it, 0.8 and later)."""
    if as_root:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all", "--unshare-user", *(["--disable-userns"] if "--disable-userns" in _options() else [])]


def _system_view():
    args = []
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


# --------------------------------------------------------------------------------------
# What a sandbox shows
# --------------------------------------------------------------------------------------

def _inside(path, folder):
    """Whether ``path`` is ``folder`` or lies below it (both absolute, normalized)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def mount_plan(binds, hidden):
    """The mounts that show ``binds`` (folders, read-only) and nothing of ``hidden``, in order.

    ``[("bind", path) | ("cover", path)]``: a cover (an empty read-only folder) for every hidden
    folder that lies inside a bound one, so that it does not show through it (the course checked
    out under /usr/local, course_lib installed into site-packages); a folder bound inside a cover
    (the virtual environment inside the course's checkout) shows again, since a mount comes after
    those of the folders around it. A hidden folder around a bound one needs nothing: only what
    is bound is there at all.
    """
    binds = sorted({os.path.normpath(b) for b in binds})
    hidden = sorted({os.path.normpath(h) for h in hidden})
    # a folder inside another bound one shows anyway, unless a hidden folder lies between them
    binds = [b for b in binds if not any(
        b != outer and _inside(b, outer) and not any(_inside(b, h) and _inside(h, outer) and h != outer for h in hidden)
        for outer in binds)]
    ops = [("bind", b) for b in binds]
    for h in hidden:
        if h not in binds and any(_inside(h, b) for b in binds):
            ops.append(("cover", h))
    return sorted(ops, key=lambda op: (op[1].count("/") if op[1] != "/" else 0, op[0] == "bind", op[1]))


def python_folders():
    """The folders this Python needs, resolved: its virtual environment (``sys.prefix``), the Python
    that one was made from (``sys.base_prefix``), and the real executable's folder."""
    folders = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    folders.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(f for f in folders if os.path.isdir(f))


def python_executable():
    """This Python's executable, by a path that stays inside the bound folders (a virtual
    environment's ``bin/python`` must be started by its own path, for Python to find the environment)."""
    prefix, executable = os.path.realpath(sys.prefix), os.path.abspath(sys.executable)
    real_bin = os.path.realpath(os.path.dirname(executable))
    if _inside(real_bin, prefix):
        return os.path.join(real_bin, os.path.basename(executable))
    return os.path.realpath(executable)


class Sandbox:
    """A grading run's temporary folder and what kernels see; ``close()`` removes it."""

    def __init__(self, root, lib, hidden, uids, limits, blocked):
        self.root, self.lib, self.hidden, self.uids = root, lib, hidden, uids
        self.limits, self.blocked = limits, blocked   # blocked: the stubbed reference modules
        self.warnings = []

    @classmethod
    def create(cls, hide, jobs, limits=Limits()):
        """hide: folders kernels must not see; jobs: how many kernels at once."""
        _remove_stale()
        root = Path(tempfile.mkdtemp(prefix=PREFIX)).resolve()
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
        from course_lib.paths import course_root

        checkout = PACKAGE.parent if (PACKAGE.parent / "pyproject.toml").is_file() else None
        folders = [PACKAGE, Path(course_instructor.__file__).parent, course_root(), checkout, probe, *hide]
        sandbox.hidden = sorted({os.path.realpath(f) for f in folders if f is not None and Path(f).is_dir()})
        return sandbox

    @property
    def probe(self):
        return self.root / "probe"

    # -- what a job's sandbox shows ------------------------------------------------------

    def binds(self):
        """The folders a kernel host's sandbox shows read-only where they are, besides the system's:
        this Python, and the folders of its module path that hold none of the hidden ones (the
        blocked copy is shown at ``INSIDE_LIB``)."""
        folders = set(python_folders())
        for entry in sys.path:
            entry = os.path.realpath(entry) if entry else None
            if not entry or not os.path.isdir(entry) or any(_inside(entry, f) for f in folders):
                continue
            if any(_inside(entry, h) or _inside(h, entry) for h in self.hidden):
                continue
            if any(_inside(entry, s) for s in ("/proc", "/sys", "/dev", "/tmp", "/var/tmp", "/run")):
                continue
            folders.add(entry)
        return sorted(folders)

    def view(self):
        """bwrap's options for the filesystem of a job's sandbox (see the module's docstring)."""
        limits = self.limits
        args = _system_view()
        etc = [path for path in SYSTEM_FILES if os.path.exists(path)]
        if etc:
            args += ["--perms", "0755", "--dir", "/etc"]
        for path in etc:
            args += ["--ro-bind", path, path]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", *_size(limits.tmp), "--tmpfs", INSIDE_TMP,
                 "--perms", "1777", *_size(limits.shm), "--tmpfs", "/dev/shm",
                 "--mqueue", "/dev/mqueue"]
        system = [p for p in SYSTEM if os.path.isdir(p) and not os.path.islink(p)]
        mounts = {"/": "new", INSIDE_TMP: "new", "/dev": "new", "/proc": "new", **dict.fromkeys(system, "bind")}
        covers = []
        for kind, path in mount_plan(system + self.binds(), self.hidden):
            if kind == "bind" and path in system:
                continue
            for parent in _parents(path):   # made explicitly: bwrap would make them private (0700)
                around = max((m for m in mounts if _inside(parent, m)), key=len)
                if parent != around and mounts[around] != "bind" and parent not in mounts:
                    args += ["--perms", "0755", "--dir", parent]
                    mounts[parent] = "dir"
            if kind == "bind":
                args += ["--ro-bind", path, path]
            else:
                args += ["--perms", "0555", "--tmpfs", path]
                covers.append(path)
            mounts[path] = kind
        args += ["--perms", "0755", "--dir", os.path.dirname(INSIDE_LIB), "--ro-bind", str(self.lib), INSIDE_LIB]
        for path in covers:                 # last: folders bound inside a cover need their mount points
            args += ["--remount-ro", path]
        # and read-only everything but /tmp, /dev/shm and /dev/mqueue: the folders made above belong to
        # the sandbox's user, who must not change what the next kernel of the job finds
        return args + ["--remount-ro", "/dev", "--remount-ro", "/"]

    def kept_in_tmp(self):
        """The folders bound inside the sandbox's /tmp (a virtual environment under /tmp): the host's
        clean-up after each kernel leaves them, and the folders leading to them."""
        return sorted(p for p in self.binds() if _inside(p, INSIDE_TMP) and p != INSIDE_TMP)

    def bwrap_command(self, as_root, info_fd):
        """bwrap and its options, to which the command to run in a job's sandbox is appended; bwrap
        writes the sandbox's pid (``child-pid``) to ``info_fd`` once it is set up."""
        return [bwrap_path(), *_namespaces(as_root), "--die-with-parent", "--new-session", "--as-pid-1",
                *self.view(), "--chdir", INSIDE_LIB, "--info-fd", str(info_fd), "--"]

    def host_env(self, isolated):
        """The kernel host's environment: no PYTHONPATH, the venv's executables first."""
        path = os.pathsep.join([os.path.dirname(python_executable()), "/usr/local/bin", "/usr/bin", "/bin"])
        home = f"{INSIDE_TMP}/host" if isolated else str(self.root)
        return {**KERNEL_ENV, "PATH": path, "HOME": home, "MPLCONFIGDIR": f"{home}/mpl", "TMPDIR": home,
                "COURSE_GRADER_PID": str(os.getpid())}   # whose kernels these are, for whoever looks at them

    def kernel_dir(self, number, uid):
        """A new folder on disk for kernel ``number`` (not isolated), owned by ``uid`` (None: by the grader)."""
        folder = self.root / "kernels" / str(number)
        folder.mkdir(mode=0o700)
        if uid is not None:
            os.chown(folder, uid, uid)
        return folder

    def kernel_env(self, folder, isolated):
        home = str(folder)
        return {**self.host_env(isolated), "HOME": home, "TMPDIR": home, "USER": "student", "LOGNAME": "student",
                "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
                "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.jupyter-data",
                "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime"}

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _parents(path):
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


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
    """``count`` user ids from ``FIRST_UID`` up that no account has and no running process uses (another
    grader's kernels, say)."""
    busy = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            busy.add(int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1]))
        except (OSError, StopIteration, ValueError, IndexError):
            pass
    uids, uid = [], FIRST_UID
    while len(uids) < count:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in busy:
                uids.append(uid)
        uid += 1
    return uids
