"""The kernel host: one warm process that forks a fresh, isolated kernel for each notebook.

Started once per grading run (``python -m course_instructor.grading.host FD`` in the sandbox, where
``course_lib`` is the copy whose graded functions are blocked), it imports what kernels need
(ipykernel, NumPy, the notebooks' imports) once. Each kernel is then a fork of it: a fresh
process in milliseconds instead of a second of imports. Before it runs anything, a kernel
process

1. leaves the host's session and closes every descriptor but its channel;
2. with namespaces: enters new mount, pid, network and IPC namespaces as pid 1 of its own
   (a small process outside waits for it and dies the way it died), so no process it starts
   can outlive it or see any other process; mounts an empty read-only tmpfs over each hidden
   folder (the course's sources, solutions and tests, the submissions, the gradebook) and a
   fresh small one over /tmp and /dev/shm; reaches no network;
3. caps its address space, processes, file size and core dumps;
4. takes its slot's unprivileged user when the host runs as root, can never gain privileges
   again, and dies with its parent;
5. runs an IPython kernel on the connection file in its own folder.

Protocol (a SOCK_SEQPACKET socket, descriptor FD; one JSON object per packet). In:
``{"start": {"preload": [...], "isolation": level, "sandbox": folder, "trial": spec}}`` first, then
``{"preload": [...]}`` and ``{"spawn": spec}`` (the kernel's channel attached as a descriptor).
Out: ``{"ready": {"isolation": level, "detail": text}}``, ``{"preloaded": n}``,
``{"spawned": id, "pid": pid}``, ``{"exited": id, "code": n}`` or ``{"exited": id, "signal": n}``.
"""

import ctypes
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import traceback

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

BASE_PRELOAD = ("numpy", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
                "ipykernel.debugger", "course_instructor.grading.agent")
"""What every kernel needs (ipykernel.debugger imports debugpy: 0.2 s a kernel otherwise); the
notebooks' own imports come with ``preload`` messages."""

DETAILS = {
    "namespaces": "own mount, pid, network and IPC namespaces; an unprivileged user per job",
    "uid": "an unprivileged user per job (no namespaces: kernels can read what that user can)",
    "session": "isolation turned off: kernels run as the grader's user",
}

KERNEL_ARGS = ("--IPKernelApp.capture_fd_output=False", "--HistoryManager.enabled=False",
               "--IPKernelApp.log_level=CRITICAL")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags):
    _check(_libc.unshare(flags), "unshare")


def _bytes(text):
    return None if text is None else text.encode()


def mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(_bytes(source), _bytes(target), _bytes(fstype), ctypes.c_ulong(flags), _bytes(data)),
           f"mount {target}")


def prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


# --------------------------------------------------------------------------------------
# In the kernel's process
# --------------------------------------------------------------------------------------

def _isolate_namespaces(hide, cover):
    """Enter new namespaces; returns in the kernel (pid 1 inside); the process outside never returns.

    hide: folders to cover with an empty read-only tmpfs. cover: ``[(folder, tmpfs options,
    [kept, ...])]``, folders to replace by a fresh tmpfs in which only the ``kept`` folders below
    them appear again (bind mounts): /tmp and /dev/shm (private and small; the sandbox kept),
    and folders the kernel's user may not enter that hold what it needs (Python under /root).
    """
    unshare(NAMESPACES)
    pid = os.fork()
    if pid:
        _mirror(pid)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for folder, options, kept in cover:
        handles = {path: os.open(path, os.O_PATH) for path in kept}
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for path, handle in handles.items():
            os.makedirs(path, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
            os.close(handle)
    for path in hide:
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")


PRIVATE = {"/tmp": "size=256m,mode=1777", "/dev/shm": "size=64m,mode=1777"}
"""Shared scratch folders each kernel gets a fresh, small copy of: nothing it leaves there lasts."""


def covered(needed, sandbox):
    """``[(folder, options, kept)]`` for ``_isolate_namespaces``: the private scratch folders, keeping
    the needed folders and the sandbox below them, and for each folder of ``needed`` another user
    cannot reach, the first folder on its path that others may not enter (no o+x), keeping the
    needed folders below it."""
    found = {}
    for path in needed:
        parts = os.path.abspath(path).split(os.sep)
        for i in range(2, len(parts) + 1):
            ancestor = os.sep.join(parts[:i])
            if not os.stat(ancestor).st_mode & 0o001:
                found.setdefault(ancestor, ["size=64k,mode=0755", set()])[1].add(os.path.abspath(path))
                break
    for folder, options in PRIVATE.items():
        if os.path.isdir(folder) and folder not in found:
            # what kernels need below a private folder shows through it (Python itself may live
            # under /tmp, e.g. a CI checkout's virtual environment)
            below = {os.path.abspath(p) for p in [*needed, sandbox] if os.path.abspath(p).startswith(folder + os.sep)}
            found[folder] = [options, below]
    return [(folder, options, sorted(p for p in kept if not any(p.startswith(q + os.sep) for q in kept)))
            for folder, (options, kept) in sorted(found.items())]


def _mirror(pid):
    """Outside the namespaces: wait for the kernel and end the same way (exit code or signal).

    SIGTERM here kills the kernel, pid 1 of its namespace, so every process inside dies with it;
    the wait returns once they all have: then nothing of the kernel is left."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _limit(limits):
    import resource

    for name, value in (("RLIMIT_AS", limits.get("memory")), ("RLIMIT_NPROC", limits.get("processes")),
                        ("RLIMIT_FSIZE", limits.get("file_size")), ("RLIMIT_CORE", 0)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def _become(uid, gid):
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def _prepare(spec):
    """Isolate this (new) process as ``spec`` says, up to and including taking the kernel's user."""
    os.setsid()
    if spec["namespaces"]:
        _isolate_namespaces(spec["hide"], spec["cover"])
    _limit(spec["limits"])
    _become(spec["uid"], spec["gid"])
    os.chdir(spec["dir"])
    os.environ.clear()
    os.environ.update(spec["env"])
    tempfile.tempdir = None


def _kernel(spec, channel):
    """The body of a kernel's process; never returns."""
    code = 1
    try:
        log = os.open(os.path.join(spec["dir"], "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        for target, source in ((0, null), (1, log), (2, log), (3, channel)):
            os.dup2(source, target)
        os.closerange(4, os.sysconf("SC_OPEN_MAX"))
        _prepare(spec)
        from course_instructor.grading import agent
        from ipykernel.kernelapp import IPKernelApp

        agent.CHANNEL_FD = 3
        app = IPKernelApp.instance()
        app.initialize(["-f", spec["connection_file"], *KERNEL_ARGS])
        agent.cap_output(app.shell)
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001 (report anything, then leave)
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def _trial(spec):
    """Exit 0 when a process prepared by ``spec`` can read the standard library and not the probe."""
    code = 2
    try:
        _prepare(spec)
        os.listdir(os.path.dirname(os.__file__))
        code = 3 if spec["namespaces"] and any(os.listdir(p) for p in spec["hide"] if os.path.isdir(p)) else 0
    except BaseException:  # noqa: BLE001
        pass
    os._exit(code)


# --------------------------------------------------------------------------------------
# In the host
# --------------------------------------------------------------------------------------

class Host:
    """The host's loop: answer the grading process, fork kernels, report how each one ended."""

    def __init__(self, control):
        self.control = control
        self.children = {}  # pid -> kernel id
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def send(self, message):
        self.control.send(json.dumps(message).encode())

    def preload(self, modules):
        loaded = 0
        for name in modules:
            try:
                importlib.import_module(name)
                loaded += 1
            except BaseException:  # noqa: BLE001 (a module that does not import is simply not preloaded)
                pass
        return loaded

    def start(self, config):
        self.preload(BASE_PRELOAD + tuple(config.get("preload", ())))
        self.cover = covered([p for p in sys.path if os.path.isdir(p)] + [config["sandbox"]], config["sandbox"])
        level, detail = self.isolation(config["isolation"], config["trial"])
        threads = threading.active_count()
        if threads > 1:
            detail += f"; warning: the host runs {threads} threads before forking"
        self.send({"ready": {"isolation": level, "detail": detail}})

    def isolation(self, wanted, trial):
        """The strongest level that works, up to ``wanted``: namespaces, uid or session.

        ``trial`` is a kernel spec (for the first job, hiding a probe folder): each level is
        tried on a throwaway process before a kernel depends on it.
        """
        levels = {"auto": ["namespaces", "uid"], "namespaces": ["namespaces"], "uid": ["uid"]}.get(wanted, [])
        for level in levels if os.geteuid() == 0 else []:
            spec = {**trial, "namespaces": level == "namespaces", "cover": self.cover}
            pid = os.fork()
            if pid == 0:
                _trial(spec)
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                return level, DETAILS[level]
        if wanted != "session" and os.geteuid() == 0:
            return "session", ("no isolation worked here (namespaces refused, or an unprivileged user cannot read "
                               "this Python): kernels run as the grader's user")
        return "session", DETAILS["session"] if wanted == "session" else "not root: kernels run as the grader's user"

    def spawn(self, spec, channel):
        spec = {**spec, "cover": self.cover}
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.control.close()
            _kernel(spec, channel)
        os.close(channel)
        self.children[pid] = spec["id"]
        self.send({"spawned": spec["id"], "pid": pid})

    def reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            kernel = self.children.pop(pid, None)
            if kernel is not None:
                how = ({"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
                       else {"code": os.waitstatus_to_exitcode(status)})
                self.send({"exited": kernel, **how})

    def run(self):
        while True:
            ready, _, _ = select.select([self.control, self.wake_read], [], [])
            if self.wake_read in ready:
                os.read(self.wake_read, 4096)
                self.reap()
            if self.control in ready:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 4)
                if not data:
                    break
                message = json.loads(data)
                if "spawn" in message:
                    self.spawn(message["spawn"], fds[0])
                elif "preload" in message:
                    self.send({"preloaded": self.preload(message["preload"])})
                elif "start" in message:
                    self.start(message["start"])
        for pid in self.children:
            _kill(pid)


def _kill(pid):
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    sys.path[:] = [os.getcwd() if p in ("", ".") else p for p in sys.path]
    control = socket.socket(fileno=int(argv[0]))
    Host(control).run()


if __name__ == "__main__":
    main()
