"""The grading process's side of students' kernels: start one, run cells, call functions, end it.

``KernelHosts`` keeps one ``KernelHost`` per job: it starts that job's kernel host (``host``: the
warm process kernels are forked from; with bubblewrap, in a sandbox of its own) and hears from it
when a kernel ends and whether everything the kernel started or left is gone. ``Kernel`` is one
kernel:

- ``execute(source, timeout)`` runs a cell and returns its outputs as a notebook stores them
  (what nbval compares), with floods cut at ``OUTPUT_LIMIT`` characters;
- ``serve()`` then ``call(message, timeout)`` ask the kernel's agent to call a function;
- ``kill()`` ends the kernel and everything it started.

A kernel that dies, or overruns a timeout, raises ``KernelDied`` or ``KernelTimeout`` within
``TICK`` seconds, whatever it was doing.
"""

import functools
import itertools
import json
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import zmq
from jupyter_client import BlockingKernelClient
from nbformat import NotebookNode

from .agent import OUTPUT_LIMIT
from .sandbox import INSIDE_KERNEL, python_executable

__all__ = ["KernelHost", "KernelHosts", "Kernel", "CellResult", "KernelDied", "KernelTimeout", "AgentStopped",
           "OUTPUT_LIMIT", "describe_exit"]

TICK = 0.05
"""Seconds between checks for a dead kernel or a passed deadline while waiting."""


SERVE = "__import__('course_instructor.grading.agent', fromlist=['serve']).serve()"

SIGNALS = {signal.SIGSEGV: "a segmentation fault", signal.SIGKILL: "killed (out of memory, or by the grader)",
           signal.SIGABRT: "aborted", signal.SIGBUS: "a bus error", signal.SIGFPE: "a floating-point exception",
           signal.SIGXCPU: "the CPU time limit"}


class KernelDied(Exception):
    """The kernel's process ended; ``str()`` says how."""


class KernelTimeout(Exception):
    """The kernel did not finish in time (it has been killed)."""


class AgentStopped(Exception):
    """The kernel stopped answering properly (the student's code broke the agent or the messaging)."""


def describe_exit(how):
    """Words for how a kernel ended: ``{"signal": 11}`` or ``{"code": 0}``."""
    if "signal" in how:
        sig = how["signal"]
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the kernel died: {SIGNALS.get(sig, name)}"
    return f"the kernel exited (exit code {how['code']})"


# --------------------------------------------------------------------------------------
# The kernel hosts
# --------------------------------------------------------------------------------------

class KernelHost:
    """One job's warm process kernels are forked from (see ``host``), and what it reports.

    mode: ``bwrap`` (in a sandbox of its own), ``uid`` or ``none`` (see ``sandbox.choose_isolation``).
    """

    def __init__(self, sandbox, slot, mode, preload=(), timeout=120, launch=None):
        self.sandbox, self.slot, self.mode = sandbox, slot, mode
        self.uid = sandbox.uids[slot] if mode in ("bwrap", "uid") else None
        self.alive, self.dirty, self.root = True, False, None
        self.log = sandbox.root / f"host-{slot}.log"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [python_executable(), "-s", "-m", "course_instructor.grading.host", str(theirs.fileno()), mode,
                   "-" if self.uid is None else str(self.uid), str(os.getpid())]
        fds = [theirs.fileno()]
        if mode == "bwrap":
            info, info_writer = os.pipe()
            command = [*sandbox.bwrap_command(os.geteuid() == 0, info_writer), *command]
            fds.append(info_writer)
        with open(self.log, "wb") as log:
            start = functools.partial(subprocess.Popen, command, cwd=sandbox.lib, env=sandbox.host_env(mode == "bwrap"),
                                      pass_fds=fds, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            # bwrap --die-with-parent ends the sandbox when the *thread* that started it ends: ``launch``
            # starts it from a thread that lives as long as the hosts
            self.process = launch(start).result() if launch else start()
        theirs.close()
        self.control, self.lock, self.replies, self.exits = ours, threading.Lock(), queue.Queue(), {}
        try:
            if mode == "bwrap":
                os.close(info_writer)
                self.root = f"/proc/{self._sandbox_pid(info, timeout)}/root"
            threading.Thread(target=self._listen, daemon=True, name=f"kernel-host-{slot}").start()
            self.ready = ready = self._request({"start": {
                "preload": list(preload), "hide": sandbox.hidden, "binds": sandbox.binds(),
                "keep": sandbox.kept_in_tmp()}}, timeout)["ready"]
            if ready.get("problem"):
                raise RuntimeError(f"a kernel's user ({self.uid}) cannot read this Python ({ready['problem']}): "
                                   "install the course where every user can read it, or use bubblewrap")
            if mode == "bwrap" and (ready["visible"] or ready["pid"] != 1):
                raise RuntimeError("the sandbox does not hide what it must: " + (
                    ", ".join(ready["visible"]) if ready["visible"] else "its host is not pid 1 of its own namespace"))
        except BaseException:
            self.close()
            raise

    def _sandbox_pid(self, info, timeout):
        """The pid of the host (bwrap's ``child-pid``), read from bwrap's --info-fd once it is set up."""
        data, deadline = b"", time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([info], [], [], TICK)
                if ready:
                    chunk = os.read(info, 4096)
                    if not chunk:
                        break
                    data += chunk
                elif self.process.poll() is not None:
                    break
        finally:
            os.close(info)
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError, TypeError):
            self.process.kill()
            self.process.wait()
            said = self.log.read_text(errors="replace").strip()
            raise RuntimeError(f"bubblewrap did not start a sandbox: {said or 'no reason given'}") from None

    def paths(self, number):
        """``(inside, outside)``: kernel ``number``'s folder as it sees it, and as the grader reaches it
        (in a sandbox: its private /tmp, through the host's /proc/PID/root; otherwise a folder on disk)."""
        if self.mode == "bwrap":    # one kernel at a time: the same folder for each
            return INSIDE_KERNEL, f"{self.root}{INSIDE_KERNEL}"
        folder = str(self.sandbox.kernel_dir(number, self.uid))
        return folder, folder

    def spec(self, number, inside, connection):
        """How the host must prepare kernel ``number`` (see ``host._prepare``)."""
        sandbox = self.sandbox
        return {"id": number, "dir": inside, "connection": connection, "uid": self.uid,
                "limits": sandbox.limits.as_dict(), "env": sandbox.kernel_env(inside, self.mode == "bwrap")}

    def _listen(self):
        while True:
            try:
                data = self.control.recv(1 << 20)
            except OSError:
                data = b""
            if not data:
                self.alive = False
                self.replies.put(None)
                return
            message = json.loads(data)
            if "exited" in message:
                if not message.get("clean", True):
                    self.dirty = True
                self.exits[message["exited"]] = message
            else:
                self.replies.put(message)

    def _request(self, message, timeout=60, fds=()):
        with self.lock:
            if not self.alive:
                reply = None
            else:
                data = json.dumps(message).encode()
                try:
                    socket.send_fds(self.control, [data], list(fds))
                    reply = self.replies.get(timeout=timeout)
                except (OSError, queue.Empty):
                    reply = None
        if reply is None:
            said = self.log.read_text(errors="replace").strip()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"the kernel host stopped answering ({self.log}){': ' + said if said else ''}")
        return reply

    def preload(self, modules):
        """Import ``modules`` in the host, so that kernels forked later start with them."""
        return self._request({"preload": sorted(modules)}, timeout=300)["preloaded"]

    def spawn(self, spec, channel):
        return self._request({"spawn": spec}, fds=[channel.fileno()])["pid"]

    def kill(self, number):
        """Ask the host to SIGKILL kernel ``number`` (it then ends what the kernel started and reports)."""
        with self.lock:
            try:
                self.control.send(json.dumps({"kill": number}).encode())
            except OSError:
                pass

    def close(self):
        """End the host (it kills any kernel left; its sandbox goes with it) and wait for it."""
        self.alive = False
        try:
            self.control.shutdown(socket.SHUT_RDWR)  # wakes our listener; the host sees the end of its input
        except OSError:
            pass
        self.control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class KernelHosts:
    """One ``KernelHost`` per job, each started again if it dies or could not clean up after a kernel.

    isolation: ``bwrap``, ``uid`` or ``none``; detail: what that means, in words.
    """

    def __init__(self, sandbox, isolation, detail, preload=(), timeout=120):
        self.sandbox, self.isolation, self.detail, self.timeout = sandbox, isolation, detail, timeout
        self.preloaded, self.lock, self.restarts = list(preload), threading.Lock(), 0
        self.hosts = [None] * len(sandbox.uids)
        self.launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-host-launcher")
        try:
            self._each(self._start)
        except Exception:
            self.close()
            raise

    def _each(self, work):
        with ThreadPoolExecutor(max_workers=len(self.hosts)) as pool:
            return list(pool.map(work, range(len(self.hosts))))

    def _start(self, slot):
        host = KernelHost(self.sandbox, slot, self.isolation, self.preloaded, self.timeout, self.launcher.submit)
        threads = host.ready.get("threads", 1)
        if threads > 1 and "threads" not in self.detail:
            self.detail += f"; warning: a kernel host runs {threads} threads before forking"
        self.hosts[slot] = host
        return host

    def get(self, slot):
        """Job ``slot``'s host, a new one if the last one died or could not clean up after its kernel."""
        host = self.hosts[slot]
        if host is None or not host.alive or host.dirty:
            if host is not None:
                host.close()
                with self.lock:
                    self.restarts += 1
            host = self._start(slot)
        return host

    def preload(self, modules):
        """Import ``modules`` in every host (and in hosts started later)."""
        modules = sorted(modules)
        self.preloaded = sorted(set(self.preloaded) | set(modules))
        return min(self._each(lambda slot: self.get(slot).preload(modules)))

    def close(self):
        for host in self.hosts:
            if host is not None:
                host.close()
        self.launcher.shutdown(wait=True)


# --------------------------------------------------------------------------------------
# One kernel
# --------------------------------------------------------------------------------------

@dataclass
class CellResult:
    """What running one cell gave: its outputs (nbformat output dicts) and its error, if any."""
    outputs: list = field(default_factory=list)
    error: tuple | None = None  # (ename, evalue)
    dropped: int = 0             # characters of output cut


class _Outputs:
    """Collects a cell's IOPub messages into notebook outputs, keeping at most ``limit`` characters."""

    def __init__(self, limit=OUTPUT_LIMIT):
        self.result, self.room = CellResult(), limit

    def _fits(self, text):
        kept = text[:max(self.room, 0)]
        self.room -= len(kept)
        self.result.dropped += len(text) - len(kept)
        return kept

    def add(self, msg):
        kind, content = msg["msg_type"], msg["content"]
        outputs = self.result.outputs
        if kind == "stream":
            text = self._fits(content["text"])
            if text:
                outputs.append(NotebookNode(output_type="stream", name=content["name"], text=text))
        elif kind in ("display_data", "execute_result"):
            size = sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in content["data"].values())
            if size <= self.room:
                self.room -= size
                output = NotebookNode(output_type=kind, data=content["data"], metadata=content.get("metadata", {}))
                if kind == "execute_result":
                    output.execution_count = content.get("execution_count")
                outputs.append(output)
            else:
                self.result.dropped += size
        elif kind == "error":
            self.result.error = (content["ename"], self._fits(content["evalue"]))
            outputs.append(NotebookNode(output_type="error", ename=content["ename"], evalue=self.result.error[1],
                                        traceback=[self._fits(line) for line in content["traceback"][-20:]]))
        elif kind == "clear_output":
            outputs.clear()

    def finish(self):
        if self.result.dropped:
            self.result.outputs.append(NotebookNode(
                output_type="stream", name="stdout",
                text=f"\n[grading: {self.result.dropped:,} more characters of output were cut]\n"))
        return self.result


class Kernel:
    """One student kernel, forked by job ``slot``'s host; it starts at once (``startup`` seconds at most)."""

    _numbers = itertools.count()

    def __init__(self, hosts, slot, startup=60):
        self.hosts, self.number, self.killed, self.serving = hosts, next(self._numbers), False, None
        self.host = host = hosts.get(slot)
        inside, self.folder = host.paths(self.number)
        key = secrets.token_hex(16)
        info = {"transport": "ipc", "ip": f"{inside}/k", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                "control_port": 4, "hb_port": 5, "key": key, "signature_scheme": "hmac-sha256",
                "kernel_name": "python3"}
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.pid = host.spawn(host.spec(self.number, inside, info), theirs)
        finally:
            theirs.close()
        self.client = BlockingKernelClient()
        self.client.load_connection_info({**info, "ip": f"{self.folder}/k"})
        self.client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        self.shell, self.iopub = self.client.shell_channel, self.client.iopub_channel
        self._ready(time.monotonic() + startup)

    # -- waiting ------------------------------------------------------------------------

    def _check(self, deadline, what):
        how = self.host.exits.get(self.number)
        if how is not None:
            self.kill()
            raise KernelDied(describe_exit(how))
        if not self.host.alive:
            self.kill()
            raise KernelDied("the kernel died with its host")
        if time.monotonic() > deadline:
            self.kill()
            raise KernelTimeout(what)

    def _messages(self, channel):
        while channel.msg_ready():
            yield channel.get_msg(timeout=0)

    def _wait(self, deadline, what, on_iopub, on_shell, done):
        """Dispatch messages until ``done()``; raise as soon as the kernel dies or the deadline passes."""
        poller = zmq.Poller()
        poller.register(self.shell.socket, zmq.POLLIN)
        poller.register(self.iopub.socket, zmq.POLLIN)
        while not done():
            self._check(deadline, what)
            poller.poll(TICK * 1000)
            try:
                for msg in self._messages(self.iopub):
                    on_iopub(msg)
                for msg in self._messages(self.shell):
                    on_shell(msg)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                self.kill()
                raise AgentStopped(f"the kernel sent a malformed message ({type(e).__name__}): its code broke "
                                   "the kernel's messaging") from None

    def _ready(self, deadline):
        """Wait until the kernel answers and its IOPub messages reach us: ask for kernel_info every
        ``TICK`` until the status of one of the requests arrives on IOPub (the first may be lost
        while the subscription settles)."""
        asked, ready = set(), []

        def iopub(msg):
            ready.append(msg["parent_header"].get("msg_id") in asked)

        while not any(ready):
            asked.add(self.client.kernel_info())
            until = time.monotonic() + TICK * 2
            self._wait(deadline, "the kernel did not start", iopub, lambda msg: None,
                       lambda: any(ready) or time.monotonic() > until)

    # -- cells ----------------------------------------------------------------------------

    def execute(self, source, timeout):
        """Run one cell; its ``CellResult``. Raises KernelDied or KernelTimeout (the kernel is then dead)."""
        msg_id = self.client.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
        outputs, state = _Outputs(), {"reply": False, "idle": False}

        def iopub(msg):
            if msg["parent_header"].get("msg_id") != msg_id:
                return
            if msg["msg_type"] == "status":
                state["idle"] |= msg["content"]["execution_state"] == "idle"
            else:
                outputs.add(msg)

        def shell(msg):
            state["reply"] |= msg["parent_header"].get("msg_id") == msg_id

        self._wait(time.monotonic() + timeout, f"a cell ran longer than {timeout:g} s", iopub, shell,
                   lambda: state["reply"] and state["idle"])
        return outputs.finish()

    # -- calls ----------------------------------------------------------------------------

    def serve(self):
        """Start the agent (one silent cell that answers calls until the kernel ends)."""
        self.serving = self.client.execute(SERVE, silent=True, store_history=False, allow_stdin=False)

    def call(self, message, timeout):
        """Send one request to the agent; its reply (bytes). Output printed meanwhile is dropped."""
        deadline = time.monotonic() + timeout
        what = f"a call ran longer than {timeout:g} s"
        self.channel.settimeout(timeout)
        try:
            self.channel.sendall(struct.pack(">Q", len(message)) + message)
        except OSError:
            self._check(deadline, what)
            raise AgentStopped("the kernel stopped answering calls") from None
        head = self._receive(8, deadline, what)
        return self._receive(struct.unpack(">Q", head)[0], deadline, what)

    def _receive(self, size, deadline, what):
        chunks, left = [], size
        self.channel.settimeout(TICK)
        while left:
            try:
                chunk = self.channel.recv(min(left, 1 << 20))
            except TimeoutError:
                self._check(deadline, what)
                self._drop_output()
                continue
            if not chunk:
                self._check(deadline, what)
                raise AgentStopped("the kernel closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _drop_output(self):
        """Read and drop what the kernel printed; notice when the agent's cell has ended."""
        try:
            for _ in self._messages(self.iopub):
                pass
            ended = any(msg["parent_header"].get("msg_id") == self.serving for msg in self._messages(self.shell))
        except (KeyError, TypeError, ValueError, AttributeError):
            ended = True
        if ended:
            self.kill()
            raise AgentStopped("the kernel stopped answering calls (its code broke the grading agent)")

    # -- the end --------------------------------------------------------------------------

    def kill(self):
        """End the kernel and every process it started (the host does, and reports); remove its folder."""
        if self.killed:
            return
        self.killed = True
        self.host.kill(self.number)
        self._ended(10)
        self.client.stop_channels()
        self.channel.close()
        if self.host.mode != "bwrap":
            shutil.rmtree(self.folder, ignore_errors=True)

    def _ended(self, seconds):
        deadline = time.monotonic() + seconds
        while self.number not in self.host.exits and self.host.alive and time.monotonic() < deadline:
            time.sleep(0.002)
        if self.number not in self.host.exits:
            self.host.dirty = True     # it did not say the kernel ended: start the job's host again
