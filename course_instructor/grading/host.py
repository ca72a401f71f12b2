"""The kernel host: one warm process per job that forks a fresh kernel for each notebook.

Started once per job (``python -m course_instructor.grading.host FD MODE UID|- GRADER``, in the
sandbox's blocked copy of course_lib), it imports what kernels need (ipykernel, NumPy, the
notebooks' imports) once. Each kernel is then a fork of it: a fresh process in milliseconds instead of a
second of imports. MODE is how kernels are isolated:

- ``bwrap``: the host runs in a bubblewrap sandbox of its own (``sandbox.Sandbox.view``: new
  user, pid, network, IPC, UTS and mount namespaces, only Python and the blocked copy visible,
  private /tmp, /dev/shm and /dev/mqueue), as its pid 1. Started by root, it first becomes its
  job's unprivileged user (UID). It cannot be traced or read by the kernels it forks (not
  dumpable), and as pid 1 of its namespace no kernel can signal it. When a kernel ends, the host
  kills every process left in the sandbox (``kill(-1)`` from pid 1: a detached daemon, a fork
  bomb) and empties /tmp, /dev/shm, /dev/mqueue and System V IPC, so that nothing a notebook
  started or left outlives it, before the next kernel is forked.
- ``uid``: no sandbox; the host runs as root and each kernel as its job's unprivileged user;
  when a kernel ends, every process of that user is killed.
- ``none``: no isolation at all: kernels run as the grader's user (``--allow-unisolated``).

Before it runs anything, a kernel process leaves the host's session, closes every descriptor but
its channel, writes its connection file into its own folder, caps its address space, processes,
file size and core dumps (``uid``: takes its user, can never gain privileges again), then runs
an IPython kernel.

Protocol (a SOCK_SEQPACKET socket, descriptor FD; one JSON object per packet). In:
``{"start": {"preload": [...], "hide": [...], "binds": [...], "keep": [...]}}`` first, then
``{"preload": [...]}``, ``{"spawn": spec}`` (the kernel's channel attached as a descriptor) and
``{"kill": id}``. Out: ``{"ready": {"visible": [...], "pid": n, "uid": n, "threads": n, "problem":
text}}``, ``{"preloaded": n}``,
``{"spawned": id, "pid": pid}``, ``{"exited": id, "code": n, "clean": bool}`` or
``{"exited": id, "signal": n, "clean": bool}`` (clean: nothing of the kernel is left).
"""

import ctypes
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
import traceback

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
IPC_RMID = 0

BASE_PRELOAD = ("numpy", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
                "ipykernel.debugger", "course_instructor.grading.agent")
"""What every kernel needs (ipykernel.debugger imports debugpy: 0.2 s a kernel otherwise); the
notebooks' own imports come with ``preload`` messages."""

IGNORED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGTERM)
"""Signals the host ignores in a sandbox (as its pid 1, a kernel could otherwise end it with them)."""

KERNEL_ARGS = ("--IPKernelApp.capture_fd_output=False", "--HistoryManager.enabled=False",
               "--IPKernelApp.log_level=CRITICAL")

SCRATCH = ("/tmp", "/dev/shm", "/dev/mqueue")
"""What a kernel may write to in a sandbox, emptied after each kernel."""

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option, value):
    """Linux's prctl (elsewhere, where grading is never isolated, nothing)."""
    if not hasattr(_libc, "prctl"):
        return
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl: {os.strerror(errno)}")


def become(uid):
    """Take the unprivileged user ``uid`` for good (every id, no groups): any capability is lost."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


# --------------------------------------------------------------------------------------
# In the kernel's process
# --------------------------------------------------------------------------------------

def _limit(limits, processes):
    import resource

    for name, value in (("RLIMIT_AS", limits.get("memory")), ("RLIMIT_FSIZE", limits.get("file_size")),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits.get("processes") if processes else None)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def _prepare(spec, mode):
    """Make this (new) process the kernel ``spec`` describes, up to its user and folder."""
    os.setsid()
    # processes are counted per user: in a sandbox, only its own; unisolated, all of the grader's
    _limit(spec["limits"], processes=mode != "none")
    if mode == "uid":
        become(spec["uid"])
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    elif mode == "bwrap":
        prctl(PR_SET_DUMPABLE, 1)   # the host is not; the kernel is an ordinary process of its sandbox
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # after become(): a change of user clears it
    fd = os.open(os.path.join(spec["dir"], "connection.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, json.dumps(spec["connection"]).encode())
    os.close(fd)
    os.chdir(spec["dir"])
    os.environ.clear()
    os.environ.update(spec["env"])
    tempfile.tempdir = None


def _kernel(spec, channel, mode):
    """The body of a kernel's process; never returns."""
    code = 1
    try:
        if channel != 3:
            os.dup2(channel, 3)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.closerange(4, os.sysconf("SC_OPEN_MAX"))
        os.makedirs(spec["dir"], mode=0o700, exist_ok=True)
        log = os.open(os.path.join(spec["dir"], "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        _prepare(spec, mode)
        from course_instructor.grading import agent
        from ipykernel.kernelapp import IPKernelApp

        agent.CHANNEL_FD = 3
        app = IPKernelApp.instance()
        app.initialize(["-f", os.path.join(spec["dir"], "connection.json"), *KERNEL_ARGS])
        agent.cap_output(app.shell)
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001 (report anything, then leave)
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


# --------------------------------------------------------------------------------------
# Clean-up after a kernel
# --------------------------------------------------------------------------------------

def _remove(path):
    """Remove a file or a folder tree, whatever its permissions (the kernel was the same user)."""
    if os.path.isdir(path) and not os.path.islink(path):
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def _modes(folders, keep=()):
    """``{folder: mode}`` of ``folders`` and of the folders inside them leading to the ``keep`` paths."""
    modes = {}
    for folder in folders:
        paths = [folder] + [p for k in keep if k.startswith(folder + "/")
                            for p in _leading(folder, k)]
        for path in paths:
            try:
                modes[path] = stat.S_IMODE(os.lstat(path).st_mode)
            except OSError:
                pass
    return modes


def _leading(folder, path):
    parts = path[len(folder) + 1:].split("/")[:-1]
    return [folder + "/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _empty(folder, keep=(), modes=None):
    """Remove everything in ``folder`` but the ``keep`` paths (and the folders leading to them), and
    give those folders back their ``modes``; whether all of that worked and the kept paths are
    still there."""
    if not os.path.isdir(folder) or os.path.islink(folder):
        return not os.path.lexists(folder)
    clean = True
    wanted = (modes or {}).get(folder)
    try:
        if wanted is not None and stat.S_IMODE(os.lstat(folder).st_mode) != wanted:
            os.chmod(folder, wanted)
    except OSError:
        clean = False
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    for name in names:
        path = os.path.join(folder, name)
        if path in keep:
            continue
        try:
            if any(k.startswith(path + "/") for k in keep) and os.path.isdir(path) and not os.path.islink(path):
                clean &= _empty(path, keep, modes)
            else:
                _remove(path)
        except (OSError, RecursionError):
            clean = False
    return clean and all(os.path.isdir(k) for k in keep if k.startswith(folder + "/"))


def _remove_ipc():
    """Remove every System V shared memory segment, semaphore set and message queue of the sandbox's
    IPC namespace; whether none is left."""
    calls = {"shm": lambda i: _libc.shmctl(i, IPC_RMID, None), "sem": lambda i: _libc.semctl(i, 0, IPC_RMID),
             "msg": lambda i: _libc.msgctl(i, IPC_RMID, None)}
    left = 0
    for kind, remove in calls.items():
        for attempt in range(2):
            try:
                with open(f"/proc/sysvipc/{kind}") as f:
                    ids = [int(line.split()[1]) for line in f.read().splitlines()[1:] if line.strip()]
            except (OSError, ValueError, IndexError):
                ids = []
            if attempt:
                left += len(ids)
            for ident in ids:
                remove(ident)
    return left == 0


def _kill_user(uid):
    """SIGKILL every process of ``uid`` (a job's own user: only its kernel and what that started),
    until none is left; whether none is."""
    for _ in range(100):
        found = False
        for status in os.listdir("/proc"):
            if not status.isdigit():
                continue
            try:
                with open(f"/proc/{status}/status") as f:
                    uids = next(line for line in f if line.startswith("Uid:"))
                if int(uids.split()[1]) == uid:
                    os.kill(int(status), signal.SIGKILL)
                    found = True
            except (OSError, StopIteration, ValueError):
                pass
        if not found:
            return True
        time.sleep(0.005)
    return False


# --------------------------------------------------------------------------------------
# In the host
# --------------------------------------------------------------------------------------

class Host:
    """The host's loop: answer the grading process, fork kernels, report how each one ended."""

    def __init__(self, control, mode, uid):
        self.control, self.mode, self.uid = control, mode, uid
        self.children = {}  # pid -> kernel id
        self.keep, self.modes = (), {}
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
        self.keep = tuple(config.get("keep", ()))
        self.modes = _modes(SCRATCH, self.keep) if self.mode == "bwrap" else {}   # as they are before any kernel
        binds = config.get("binds", [])
        visible = [p for p in config.get("hide", []) if _shows(p, binds)]
        self.send({"ready": {"visible": visible, "pid": os.getpid(), "uid": os.getuid(),
                             "threads": threading.active_count(), "problem": self.trial()}})

    def trial(self):
        """uid: whether a kernel's user can read this Python (None) or what it cannot read."""
        if self.mode != "uid" or self.uid is None:
            return None
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            problem = b""
            try:
                become(self.uid)
                for module in ("os", "json", "numpy", "ipykernel"):
                    spec = importlib.util.find_spec(module)
                    if spec and spec.origin and os.path.isfile(spec.origin):
                        open(spec.origin, "rb").close()
            except BaseException as e:  # noqa: BLE001
                problem = f"{type(e).__name__}: {e}".encode()
            os.write(write, problem)
            os._exit(0)
        os.close(write)
        problem = os.read(read, 4096).decode()
        os.close(read)
        os.waitpid(pid, 0)
        return problem or None

    def spawn(self, spec, channel):
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for sig in IGNORED:
                signal.signal(sig, signal.SIG_DFL)
            self.control.close()
            _kernel(spec, channel, self.mode)
        os.close(channel)
        self.children[pid] = spec
        self.send({"spawned": spec["id"], "pid": pid})

    def kill(self, number):
        for pid, spec in self.children.items():
            if spec["id"] == number:
                _signal(pid)

    def reap(self):
        ended = []
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            spec = self.children.pop(pid, None)
            if spec is not None:
                ended.append((spec, {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
                              else {"code": os.waitstatus_to_exitcode(status)}))
        if ended:
            clean = self.clean(ended[-1][0])
            for spec, how in ended:
                self.send({"exited": spec["id"], **how, "clean": clean})

    def clean(self, spec):
        """Once a kernel has ended: end what it started and remove what it left; whether that worked."""
        if self.children:       # another kernel still runs (never, one kernel at a time per job)
            return True
        if self.mode == "bwrap":
            return self._clean_sandbox()
        if self.mode == "uid":
            return _kill_user(spec["uid"])
        return True

    def _clean_sandbox(self):
        if os.getpid() != 1:
            return False
        for _ in range(10000):
            try:
                os.kill(-1, signal.SIGKILL)  # from pid 1: every other process of the sandbox
            except ProcessLookupError:
                pass
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                pass
        else:
            return False
        clean = all([_empty(folder, self.keep, self.modes) for folder in SCRATCH] + [_remove_ipc()])
        return clean and not _children_left()

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
                elif "kill" in message:
                    self.kill(message["kill"])
                elif "preload" in message:
                    self.send({"preloaded": self.preload(message["preload"])})
                elif "start" in message:
                    self.start(message["start"])
        for pid in self.children:
            _signal(pid)


def _shows(path, binds=()):
    """Whether a folder that must be hidden shows anything here but the way to a folder bound
    inside it (the virtual environment inside the course's checkout)."""
    try:
        if not os.path.lexists(path):
            return False
        if not os.path.isdir(path) or os.path.islink(path):
            return True
        return any(not any(b == entry or b.startswith(entry + "/") for b in binds)
                   for entry in (os.path.join(path, name) for name in os.listdir(path)))
    except OSError:
        return False


def _children_left():
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def _signal(pid):
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[0]))
    mode = argv[1] if len(argv) > 1 else "none"
    uid = int(argv[2]) if len(argv) > 2 and argv[2] != "-" else None
    grader = int(argv[3]) if len(argv) > 3 else None
    if mode == "bwrap":
        if uid is not None and os.geteuid() == 0:
            become(uid)                       # the sandbox was made by root: now its job's user, for good
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_DUMPABLE, 0)             # kernels (the same user) can neither trace nor read the host
        for sig in (signal.SIGINT, *IGNORED):
            signal.signal(sig, signal.SIG_IGN)   # pid 1 receives only the signals it handles
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if mode != "bwrap" and grader is not None and os.getppid() != grader:
        os._exit(1)                           # the grader died before the line above: nobody would end us
    sys.path[:] = [os.getcwd() if p in ("", ".") else p for p in sys.path]
    Host(control, mode, uid).run()


if __name__ == "__main__":
    main()
