"""The grading process's side of students' kernels: start one, run cells, call functions, end it.

``KernelHost`` starts the kernel host (``host``: the warm process kernels are forked from) and
hears from it when a kernel ends. ``Kernel`` is one kernel:

- ``execute(source, timeout)`` runs a cell and returns its outputs as a notebook stores them
  (what nbval compares), with floods cut at ``OUTPUT_LIMIT`` characters;
- ``serve()`` then ``call(message, timeout)`` ask the kernel's agent to call a function;
- ``kill()`` ends the kernel and everything it started.

A kernel that dies, or overruns a timeout, raises ``KernelDied`` or ``KernelTimeout`` within
``TICK`` seconds, whatever it was doing.
"""

import itertools
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import BlockingKernelClient
from nbformat import NotebookNode

from .agent import OUTPUT_LIMIT

__all__ = ["KernelHost", "Kernel", "CellResult", "KernelDied", "KernelTimeout", "AgentStopped",
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
# The kernel host
# --------------------------------------------------------------------------------------

class KernelHost:
    """The warm process kernels are forked from (see ``host``), and what it reports."""

    def __init__(self, sandbox, isolation="auto", preload=(), timeout=120):
        self.sandbox = sandbox
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(sandbox.root / "host.log", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-s", "-m", "course_instructor.grading.host", str(theirs.fileno())],
                cwd=sandbox.lib, env=sandbox.host_env(), pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        theirs.close()
        self.control, self.lock, self.replies, self.exits = ours, threading.Lock(), queue.Queue(), {}
        threading.Thread(target=self._listen, daemon=True, name="kernel-host").start()
        trial = {**self.spec("trial", sandbox.uids[0], None), "hide": [*sandbox.hidden, str(sandbox.probe)]}
        ready = self._request({"start": {"preload": list(preload), "isolation": isolation,
                                         "sandbox": str(sandbox.root), "trial": trial}}, timeout)["ready"]
        self.isolation, self.detail = ready["isolation"], ready["detail"]

    def uid(self, slot):
        """The user job ``slot``'s kernels run as (None: the grader's own, without uid isolation)."""
        return None if self.isolation == "session" else self.sandbox.uids[slot]

    def spec(self, number, uid, connection_file):
        """How the host must prepare kernel ``number`` (see ``host._prepare``); makes its folder."""
        sandbox, folder = self.sandbox, self.sandbox.kernel_dir(number, uid)
        return {"id": number, "dir": str(folder), "connection_file": connection_file, "uid": uid, "gid": uid,
                "namespaces": getattr(self, "isolation", None) == "namespaces", "hide": sandbox.hidden,
                "limits": sandbox.limits.as_dict(), "env": sandbox.kernel_env(folder)}

    def _listen(self):
        while True:
            try:
                data = self.control.recv(1 << 20)
            except OSError:
                data = b""
            if not data:
                self.replies.put(None)
                return
            message = json.loads(data)
            if "exited" in message:
                self.exits[message["exited"]] = message
            else:
                self.replies.put(message)

    def _request(self, message, timeout=60, fds=()):
        with self.lock:
            data = json.dumps(message).encode()
            socket.send_fds(self.control, [data], list(fds))
            try:
                reply = self.replies.get(timeout=timeout)
            except queue.Empty:
                reply = None
        if reply is None:
            raise RuntimeError(f"the kernel host stopped answering; see {self.sandbox.root / 'host.log'}")
        return reply

    def preload(self, modules):
        """Import ``modules`` in the host, so that kernels forked later start with them."""
        return self._request({"preload": sorted(modules)}, timeout=300)["preloaded"]

    def spawn(self, spec, channel):
        return self._request({"spawn": spec}, fds=[channel.fileno()])["pid"]

    def close(self):
        """End the host (it kills any kernel left) and wait for it."""
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
    """One student kernel, forked by ``host`` for job ``slot``; it starts at once (``startup`` seconds at most)."""

    _numbers = itertools.count()

    def __init__(self, host, slot, startup=60):
        self.host, self.number, self.killed, self.serving = host, next(self._numbers), False, None
        self.uid = host.uid(slot)
        self.folder = host.sandbox.root / "kernels" / str(self.number)
        connection = self.folder / "connection.json"
        spec = host.spec(self.number, self.uid, str(connection))
        info = {"transport": "ipc", "ip": str(self.folder / "k"), "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": secrets.token_hex(16),
                "signature_scheme": "hmac-sha256", "kernel_name": "python3"}
        connection.write_text(json.dumps(info))
        if self.uid is not None:
            os.chown(connection, self.uid, self.uid)
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.pid = host.spawn(spec, theirs)
        finally:
            theirs.close()
        self.client = BlockingKernelClient()
        self.client.load_connection_info(info)
        self.client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        self.shell, self.iopub = self.client.shell_channel, self.client.iopub_channel
        self._ready(time.monotonic() + startup)

    # -- waiting ------------------------------------------------------------------------

    def _check(self, deadline, what):
        how = self.host.exits.get(self.number)
        if how is not None:
            self.kill()
            raise KernelDied(describe_exit(how))
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
        """End the kernel and every process it started; remove its folder."""
        if self.killed:
            return
        self.killed = True
        if self.host.isolation == "namespaces":
            _signal(os.kill, self.pid, signal.SIGTERM)  # the process outside kills the namespace, then exits
            self._ended(5)
        for kill in (os.kill, os.killpg):
            _signal(kill, self.pid, signal.SIGKILL)
        if self.uid is not None and self.host.isolation == "uid":
            _kill_user(self.uid)
        self._ended(5)
        self.client.stop_channels()
        self.channel.close()
        shutil.rmtree(self.folder, ignore_errors=True)


    def _ended(self, seconds):
        deadline = time.monotonic() + seconds
        while self.number not in self.host.exits and time.monotonic() < deadline:
            time.sleep(0.002)


def _signal(kill, pid, sig):
    try:
        kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_user(uid):
    """SIGKILL every process of ``uid`` (a job's own user: only its kernel and what that started)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uids = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
            if int(uids.split()[1]) == uid:
                os.kill(int(status.parent.name), signal.SIGKILL)
        except (OSError, StopIteration, ValueError):
            pass
