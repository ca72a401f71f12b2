"""Grading that is safe without root (issue 12): student kernels in bubblewrap sandboxes.

The pieces on their own (fast, no kernel): grades.csv never starts a formula, symbolic links and
pipes in the class folder get their own status, what a sandbox shows and hides, the refusal to
grade unisolated. Then a hostile class graded by ``course grade`` (a separate process, as an
instructor runs it) twice: as root, and as an ordinary user (a user made for the test when the
tests run as root). Each attacker attacks one exercise and is honest elsewhere:

- ``kills_everyone``: ``os.kill(-1, SIGKILL)`` while its cell runs and while it is called;
- ``finds_reference``: searches the disk for ``course_lib/reference/descent.py`` and ``momentum.py``
  (the checkout's real copies first) and runs what it finds;
- ``copies_classmate``: reads the honest student's notebook from the class folder (and the
  solutions) and runs that answer;
- ``daemon``: a detached process (new session, a new program) that writes invented rows into
  the gradebook for 30 s;
- ``fills_shm``: writes a gigabyte into /dev/shm and /tmp;
- ``sabotages_next``: moves and locks the folders the next kernels of its job need, leaves files
  and System V shared memory behind;
- ``fork_bomb``: forks until it cannot, each child a program that sleeps for a minute;
- ``symlinked`` / ``linked_folder``: a notebook, or the whole student folder, that is a symbolic
  link to a file outside the class folder (the solutions) or to a classmate's folder;
- a student folder named like a spreadsheet formula, and one with a name in three scripts.

It checks: everyone else's grades are unaffected and each attacker gets 0 on the attacked
exercise; a process of the instructor's user started before grading (``sleep 300``) survives; no
student process is left, nothing is left in /dev/shm, the gradebook does not change after
grading; grading the class again (from scratch, into another folder) writes the same bytes.
"""

import csv
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from course_instructor import cells
from course_instructor.grading import host
from course_instructor.grading.records import Record
from course_instructor.grading.notebook import ExerciseResult
from course_instructor.grading.report import FORMULA_STARTS, csv_cell, write_gradebook
from course_instructor.grading.sandbox import Limits, Sandbox, bwrap_path, isolation_status, mount_plan, \
    python_folders
from course_instructor.grading.submission import Note, collect
from course_lib import doctor
from course_lib.paths import course_root

ROOT = course_root()
SOLUTIONS = ROOT / "solutions"
HIDDEN = ROOT / "tests" / "hidden"
NOTEBOOKS = ("01_gradient_descent", "02_momentum")
EXERCISES = sum(1 for name in NOTEBOOKS for cell in cells.read_notebook(SOLUTIONS / f"{name}.ipynb")["cells"]
                if cells.cell_role(cell) == "exercise")
"""The graded functions of the hostile class's notebooks: a row each per student."""
TIMEOUT = 5.0
USER = "course-grade-test"
"""The ordinary user the hostile class is graded as, when the tests run as root (made if missing)."""

FORMULA = "=2+5+cmd|'calc'!A1"
WORLDWIDE = "Zoë Ñandú 李雷"

# --------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_no_csv_cell_starts_a_formula(start):
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell(WORLDWIDE) == WORLDWIDE and csv_cell(3) == 3 and csv_cell("a=b") == "a=b"


def test_the_gradebook_writes_names_that_look_like_formulas_as_text(tmp_path):
    result = ExerciseResult("numerical_gradient", "passed", 4, 4, "-4 is not the score")
    records = [Record(name, "01_gradient_descent", "d", "f", [result]) for name in (FORMULA, WORLDWIDE, "@home")]
    write_gradebook(tmp_path, records, [Note("+x", "-rm.ipynb", "extra_file", "=1")])
    text = (tmp_path / "grades.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    students = {row[0] for row in rows[1:]}
    assert students == {"'" + FORMULA, WORLDWIDE, "'@home", "'+x"}
    assert (tmp_path / "feedback" / f"{FORMULA}.md").exists() and (tmp_path / "feedback" / f"{WORLDWIDE}.md").exists()


def test_links_pipes_and_odd_names_in_the_class_folder(tmp_path):
    outside = tmp_path / "outside.ipynb"
    outside.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    subs = tmp_path / "subs"
    for student in ("linker", "piper", "honest"):
        (subs / student).mkdir(parents=True)
    (subs / "linker" / "01_gradient_descent.ipynb").symlink_to(outside)
    (subs / "linker" / "02_momentum (1).ipynb").symlink_to(outside)
    os.mkfifo(subs / "piper" / "01_gradient_descent.ipynb")
    (subs / "honest" / "01_gradient_descent.ipynb").write_bytes(outside.read_bytes())
    (subs / "copycat").symlink_to(subs / "honest")
    os.mkdir(os.fsencode(subs) + b"/caf\xe9")   # a folder name that is not UTF-8
    students, submissions, notes = collect(subs, ["01_gradient_descent", "02_momentum"])
    status = {}
    for sub in submissions:
        sub.read()
        status[(sub.student, sub.notebook)] = (sub.status, sub.message)
    assert status[("linker", "01_gradient_descent")][0] == "not_regular_file"
    assert "symbolic link to " in status[("linker", "01_gradient_descent")][1]
    assert status[("piper", "01_gradient_descent")][0] == "not_regular_file"
    assert "named pipe" in status[("piper", "01_gradient_descent")][1]
    assert status[("copycat", "01_gradient_descent")][0] == "not_regular_file"
    assert status[("copycat", "02_momentum")][0] == "not_regular_file"
    assert status[("honest", "01_gradient_descent")][0] is None
    assert ("linker", "02_momentum (1).ipynb", "not_regular_file") in {(n.student, n.file, n.status) for n in notes}
    assert any(n.status == "bad_folder_name" for n in notes)
    digests = {s.current_digest() for s in submissions if s.student in ("linker", "copycat")}
    assert all(d.startswith(("not_regular_file:", "missing")) for d in digests)


def test_a_sandbox_hides_folders_inside_shown_ones_and_shows_the_venv_again():
    plan = mount_plan(["/usr", "/usr/local/course/.venv", "/opt/py"],
                      ["/usr/local/course", "/usr/local/course/.venv/lib/site-packages/course_lib", "/home/me",
                       "/opt"])
    assert plan == [("bind", "/usr"), ("bind", "/opt/py"), ("cover", "/usr/local/course"),
                    ("bind", "/usr/local/course/.venv"),
                    ("cover", "/usr/local/course/.venv/lib/site-packages/course_lib")]


def test_a_sandbox_shows_this_python_but_not_the_course_around_it():
    box = Sandbox.create([], 1)
    try:
        binds, view = box.binds(), box.view()
        assert os.path.realpath(sys.prefix) in binds and ["--ro-bind", str(box.lib), "/grading/lib"] == \
            view[view.index(str(box.lib)) - 1:view.index(str(box.lib)) + 2]
        assert all(not (b == str(ROOT) or str(ROOT).startswith(b + "/")) for b in binds if b != "/")
        assert os.path.realpath(ROOT) in box.hidden and str(Path(cells.__file__).resolve().parent) in box.hidden
        assert "--tmpfs" in view and "/dev/shm" in view and "--size" in view and "--mqueue" in view
    finally:
        box.close()


def test_the_host_empties_scratch_folders_but_what_is_mounted_there(tmp_path):
    kept = tmp_path / "ci" / ".venv"
    (kept / "lib").mkdir(parents=True)
    (tmp_path / "ci" / "junk").write_text("x")
    locked = tmp_path / "locked" / "deeper"
    locked.mkdir(parents=True)
    (locked / "f").write_text("x")
    os.chmod(locked, 0)
    modes = host._modes([str(tmp_path)], keep=(str(kept),))
    assert set(modes) == {str(tmp_path), str(tmp_path / "ci")}
    os.chmod(tmp_path / "ci", 0o700)
    assert host._empty(str(tmp_path), keep=(str(kept),), modes=modes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ci"] and os.listdir(tmp_path / "ci") == [".venv"]
    assert stat.S_IMODE((tmp_path / "ci").stat().st_mode) == modes[str(tmp_path / "ci")]
    (tmp_path / "ci" / ".venv").rename(tmp_path / "moved")
    assert not host._empty(str(tmp_path), keep=(str(kept),), modes=modes)   # what must stay has gone


def test_a_kernel_host_that_could_not_clean_up_is_started_again():
    if not isolation_status()[0]:
        pytest.skip(f"needs bubblewrap to isolate kernels ({isolation_status()[1]}): apt-get install bubblewrap")
    from course_instructor.grading.kernel import Kernel, KernelHosts
    from course_instructor.grading.sandbox import choose_isolation

    box = Sandbox.create([], 1)
    hosts = KernelHosts(box, *choose_isolation("bwrap"))
    try:
        first = hosts.get(0)
        kernel = Kernel(hosts, 0)
        printed = kernel.execute("import os\nprint(os.getpid(), os.getcwd(), len(os.listdir('/proc')))", 30)
        kernel.kill()
        pid, cwd, _ = printed.outputs[0]["text"].split()
        assert int(pid) > 1 and cwd == "/tmp/kernel" and first.exits[kernel.number]["clean"]
        first.dirty = True     # as when a kernel left what the host could not remove
        kernel = Kernel(hosts, 0)
        assert hosts.restarts == 1 and hosts.get(0) is not first and not first.alive
        assert kernel.execute("print(1 + 1)", 30).outputs[0]["text"] == "2\n"
        kernel.kill()
    finally:
        hosts.close()
        box.close()


def test_course_grade_refuses_to_grade_unisolated_and_says_what_to_do(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    env = {**os.environ, "COURSE_BWRAP": "", "COURSE_PROGRESS": "0"}
    result = subprocess.run([sys.executable, "-m", "course_lib.cli", "grade", str(tmp_path / "subs"), "--out",
                             str(tmp_path / "grades"), "--solutions", str(SOLUTIONS)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2, result.stderr
    assert "refusing to grade" in result.stderr and "apt-get install bubblewrap" in result.stderr
    assert "--allow-unisolated" in result.stderr and "container" in result.stderr
    assert not (tmp_path / "grades" / "grades.csv").exists()


def test_course_doctor_says_whether_grading_is_isolated(monkeypatch):
    check = doctor.check_grading_isolation()
    assert check.name == "grading isolation" and not check.required and check.ok == isolation_status()[0]
    from course_instructor.grading import sandbox

    monkeypatch.setattr(sandbox, "_STATUS", {})
    monkeypatch.setenv("COURSE_BWRAP", "")
    check = doctor.check_grading_isolation()
    assert not check.ok and "bubblewrap" in check.detail and "apt-get install bubblewrap" in check.fix
    sandbox._STATUS.clear()


# --------------------------------------------------------------------------------------
# The hostile class
# --------------------------------------------------------------------------------------

def _source(solutions, notebook, exercise):
    nb = cells.read_notebook(solutions / f"{notebook}.ipynb")
    return next(c["source"] for c in nb["cells"] if c.get("id") == f"exercise-{exercise}")


def _student(folder, solutions, notebook, changes=None):
    nb = cells.read_notebook(solutions / f"{notebook}.ipynb")
    for cell in nb["cells"]:
        for exercise, source in (changes or {}).items():
            if cell.get("id") == f"exercise-{exercise}":
                cell["source"] = source
    folder.mkdir(parents=True, exist_ok=True)
    cells.write_notebook(nb, folder / f"{notebook}.ipynb")


KILLS_EVERYONE = '''import os, signal

def _kill_everyone():
    if os.getuid() != 0 and os.geteuid() != 0:   # never as real root (the test's own safety net)
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass

_kill_everyone()

def gradient_descent(grad, x0, learning_rate, num_steps):
    _kill_everyone()
    return None
'''

FINDS_REFERENCE = '''import os, time

def _find(name, first, budget=2.0):
    """Real reference modules on this disk: the checkout's first, then anywhere, for ``budget`` s."""
    found, start = [], time.monotonic()
    for top in [os.path.dirname(first), "/work", "/root", "/home", "/tmp", "/var", "/opt", "/srv", "/usr/local", "/"]:
        for folder, dirs, files in os.walk(top):
            if folder.startswith(("/proc", "/sys", "/dev")) or time.monotonic() - start > budget:
                dirs[:] = []
                continue
            if folder.endswith(os.path.join("course_lib", "reference")) and name in files:
                path = os.path.join(folder, name)
                try:
                    with open(path) as f:
                        if "ReferenceUnavailable" not in f.read():
                            found.append(path)
                except OSError:
                    pass
    return found

FOUND = _find({module!r}, {real!r})
print("found:", FOUND)

def {function}{signature}:
    for path in FOUND:
        namespace = {{}}
        with open(path) as f:
            exec(f.read(), namespace)
        return namespace[{function!r}]{arguments}
    return None
'''

COPIES_CLASSMATE = '''import json

def gradient_descent(grad, x0, learning_rate, num_steps):
    for path in {paths!r}:
        try:
            with open(path) as f:
                cells = json.load(f)["cells"]
        except OSError:
            continue
        source = next("".join(c["source"]) for c in cells if c.get("id") == "exercise-gradient_descent")
        namespace = {{"np": np}}
        exec(source, namespace)
        return namespace["gradient_descent"](grad, x0, learning_rate, num_steps)
    return None
'''

DAEMON = '''import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", {ticker!r}, {marker!r}, {gradebook!r}])
    os._exit(0)
for _ in range(500):
    if os.path.exists({marker!r}):
        print("the daemon is ticking")
        break
    time.sleep(0.01)
'''

TICKER = '''import sys, time
FORGED = "forged,01_gradient_descent,numerical_gradient,999,4,passed,forged\\n"
for _ in range(300):
    for path, line in [(sys.argv[1], "tick\\n"), (sys.argv[2], FORGED)]:
        try:
            with open(path, "a") as f:
                f.write(line)
        except OSError:
            pass
    time.sleep(0.1)
'''

FILLS_SHM = '''import os
written = 0
for folder in ("/dev/shm", "/tmp"):
    for i in range(64):                      # 64 files of 16 MiB: a gigabyte, if nothing stops it
        try:
            with open(os.path.join(folder, f"{marker}-{{i}}"), "wb") as f:
                f.write(bytes(16 * 2**20))
            written += 16
        except OSError:
            break
print(f"wrote {{written}} MiB")
'''

SABOTAGES_NEXT = '''import ctypes, glob, os

for path in ["/grading", *glob.glob("/tmp/*")]:    # where this job's next kernels find course_lib
    for act in (lambda: os.rename(path, path + "-moved"), lambda: os.chmod(path + "-moved", 0),
                lambda: os.chmod(path, 0)):
        try:
            act()
        except OSError:
            pass
try:
    ctypes.CDLL(None).shmget(0, 1 << 20, 0o1000 | 0o600)   # System V shared memory outlives its process
except (OSError, AttributeError):
    pass
for folder in ("/dev/shm", "/tmp", "/"):
    try:
        with open(os.path.join(folder, "left-for-the-next-one"), "w") as f:
            f.write("x")
        os.chmod(folder, 0)
    except OSError:
        pass

def gradient_descent(grad, x0, learning_rate, num_steps):
    return None
'''

FORK_BOMB = '''import os

FORKS = 0
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 60", {marker!r}])
        finally:
            os._exit(0)
    FORKS += 1
print(f"forked {{FORKS}} times")

def gradient_descent(grad, x0, learning_rate, num_steps):
    return None
'''

EXPECTED = {
    "kills_everyone": {"gradient_descent": ("failed", 0)},
    "sabotages_next": {"gradient_descent": ("failed", 0)},
    "fork_bomb": {"gradient_descent": ("failed", 0)},
    "finds_reference": {"numerical_gradient": ("failed", 0), "sgd": ("failed", 0)},
    "copies_classmate": {"gradient_descent": ("failed", 0)},
    "symlinked": {"numerical_gradient": ("not_regular_file", 0), "gradient_descent": ("not_regular_file", 0)},
    "linked_folder": {"*": ("not_regular_file", 0)},
}
"""The attacked exercises ("*": every one); every other exercise of a submitted notebook must get full marks."""


def build_class(work, solutions, marker, gradebook):
    subs = work / "subs"
    gd, opt = NOTEBOOKS
    real_descent = str(ROOT / "course_lib" / "reference" / "descent.py")
    real_momentum = str(ROOT / "course_lib" / "reference" / "momentum.py")
    _student(subs / "honest", solutions, gd)
    _student(subs / "honest", solutions, opt)
    _student(subs / "kills_everyone", solutions, gd, {"gradient_descent": KILLS_EVERYONE})
    _student(subs / "sabotages_next", solutions, gd, {"gradient_descent": SABOTAGES_NEXT})
    _student(subs / "fork_bomb", solutions, gd, {"gradient_descent": FORK_BOMB.format(marker=marker)})
    _student(subs / "finds_reference", solutions, gd, {"numerical_gradient": FINDS_REFERENCE.format(
        module="descent.py", real=real_descent, function="numerical_gradient", signature="(f, x, h=1e-5)",
        arguments="(f, x, h)")})
    _student(subs / "finds_reference", solutions, opt, {"sgd": FINDS_REFERENCE.format(
        module="momentum.py", real=real_momentum, function="sgd", signature="(w, dw, config=None)",
        arguments="(w, dw, config)")})
    classmate = [str(subs / "honest" / f"{gd}.ipynb"), str(solutions / f"{gd}.ipynb"), str(SOLUTIONS / f"{gd}.ipynb")]
    _student(subs / "copies_classmate", solutions, gd, {"gradient_descent": COPIES_CLASSMATE.format(paths=classmate)})
    daemon = DAEMON.format(ticker=TICKER, marker=f"/tmp/{marker}", gradebook=str(gradebook))
    _student(subs / "daemon", solutions, gd,
             {"numerical_gradient": daemon + _source(solutions, gd, "numerical_gradient")})
    _student(subs / "fills_shm", solutions, gd,
             {"gradient_descent": FILLS_SHM.format(marker=marker) + _source(solutions, gd, "gradient_descent")})
    (subs / "symlinked").mkdir(parents=True)
    (subs / "symlinked" / f"{gd}.ipynb").symlink_to(solutions / f"{gd}.ipynb")   # outside the class folder
    (subs / "linked_folder").symlink_to(subs / "honest")
    _student(subs / FORMULA, solutions, gd)
    _student(subs / WORLDWIDE, solutions, gd)
    return subs


def _blocked_ancestors(folders, uid):
    """``{folder another user may not enter: [folders of ``folders`` below it]}``."""
    blocked = {}
    for folder in folders:
        parts = Path(folder).parts
        for i in range(2, len(parts) + 1):
            ancestor = str(Path(*parts[:i]))
            mode = os.stat(ancestor)
            if not mode.st_mode & 0o001 and mode.st_uid != uid:
                blocked.setdefault(ancestor, []).append(folder)
                break
    return blocked


def _exposing(folders, uid):
    """A command prefix (run as root) for a private mount namespace in which ``folders`` (this
    Python under /root, say) are reachable by the user ``uid``: each folder on their way that
    others may not enter becomes an empty tmpfs in which only they show again. The test's own
    scaffolding, so that an ordinary user can run this checkout's virtual environment."""
    blocked = _blocked_ancestors(folders, uid)
    if not blocked:
        return []
    script, kept = ["set -eu", "stash=$(mktemp -d)"], []
    for ancestor, below in blocked.items():
        for folder in below:
            script += [f'mkdir -p "$stash/{len(kept)}"', f'mount --bind {shlex.quote(folder)} "$stash/{len(kept)}"']
            kept.append((ancestor, folder))
    for ancestor in blocked:
        script.append(f"mount -t tmpfs -o mode=0755,size=1m course-grade-test {shlex.quote(ancestor)}")
    for i, (ancestor, folder) in enumerate(kept):
        script += [f"mkdir -p {shlex.quote(folder)}", f'mount --bind "$stash/{i}" {shlex.quote(folder)}']
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "\n".join(script), "sh"]


def _as_user(uid, gid):
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def _instructor(mode):
    """``(prefix, owner)``: how to run a command as the instructor of ``mode``, and whose files."""
    me = os.geteuid()
    if mode == "root":
        if me != 0:
            pytest.skip("grading as root needs the tests to run as root")
        return [], (0, 0)
    if me != 0:
        return [], (me, os.getegid())
    for tool in ("useradd", "setpriv", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"grading as an ordinary user from root needs {tool} (util-linux, passwd)")
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
                        USER], check=True, capture_output=True)
        entry = pwd.getpwnam(USER)
    uid, gid = entry.pw_uid, entry.pw_gid
    prefix = _exposing([*python_folders(), str(ROOT)], uid) + _as_user(uid, gid)
    trial = subprocess.run([*prefix, bwrap_path(), "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if trial.returncode:
        pytest.skip(f"an ordinary user cannot make a bubblewrap sandbox here: {trial.stderr.strip()}")
    return prefix, (uid, gid)


def _processes_naming(text):
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def _chown_tree(folder, owner):
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, *owner)


@pytest.fixture(scope="module", params=["root", "user"], ids=["as root", "as an ordinary user"])
def graded(request):
    if not isolation_status()[0]:
        pytest.skip(f"needs bubblewrap to isolate kernels ({isolation_status()[1]}): apt-get install bubblewrap")
    prefix, owner = _instructor(request.param)
    work = Path(tempfile.mkdtemp(prefix="course-grade-hostile-"))
    work.chmod(0o755)
    marker = f"course-grade-attack-{uuid.uuid4().hex}"
    solutions = work / "solutions"
    solutions.mkdir()
    for name in NOTEBOOKS:
        shutil.copyfile(SOLUTIONS / f"{name}.ipynb", solutions / f"{name}.ipynb")
    gradebook = work / "grades" / "grades.csv"
    subs = build_class(work, solutions, marker, gradebook)
    (work / "home").mkdir()
    _chown_tree(work, owner)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"), "LANG": "C.UTF-8",
           "COURSE_PROGRESS": "0"}
    sentinel = subprocess.Popen([*(_as_user(*owner) if owner[0] != os.geteuid() else []), "sleep", "300"])

    def grade(out):
        return subprocess.run([*prefix, sys.executable, "-m", "course_lib.cli", "grade", str(subs), "--out", str(out),
                               "--solutions", str(solutions), "--hidden-tests", str(HIDDEN), "--jobs", "2",
                               "--timeout", str(TIMEOUT)], capture_output=True, text=True, env=env, cwd=work,
                              timeout=900)

    try:
        first = grade(work / "grades")
        written = gradebook.read_bytes() if gradebook.exists() else b""
        time.sleep(1)   # a daemon still alive would write meanwhile
        after = {"gradebook": gradebook.read_bytes() if gradebook.exists() else b"",
                 "survivors": _processes_naming(marker),
                 "shm": [p.name for p in Path("/dev/shm").iterdir() if marker in p.name],
                 "tmp": [p.name for p in Path(tempfile.gettempdir()).iterdir() if marker in p.name],
                 "sentinel": sentinel.poll()}
        again = grade(work / "again")
        after["sentinel_after_rerun"] = sentinel.poll()
        with open(gradebook, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        yield {"mode": request.param, "first": first, "again": again, "rows": rows, "written": written,
               "after": after, "work": work, "subs": subs}
    finally:
        sentinel.kill()
        sentinel.wait()
        for pid in _processes_naming(marker):   # only if isolation failed
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)


def _scores(rows, student):
    return {r["exercise"]: (r["status"], int(r["score"]), int(r["max_score"])) for r in rows
            if r["student"] == student and r["exercise"]}


def test_the_grader_finishes_and_says_kernels_were_isolated(graded):
    for run in (graded["first"], graded["again"]):
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Isolation: bwrap" in run.stdout and "NOT ISOLATED" not in run.stdout


def test_the_honest_student_gets_full_marks(graded):
    scores = _scores(graded["rows"], "honest")
    assert len(scores) == EXERCISES and all((s, n) == ("passed", m) for s, n, m in scores.values()), scores


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_an_attacker_gets_0_on_the_attack_and_keeps_the_rest(graded, student):
    scores, expected = _scores(graded["rows"], student), EXPECTED[student]
    assert set(expected) - {"*"} <= set(scores) and scores
    for exercise, (status, score, max_score) in scores.items():
        if exercise in expected or "*" in expected:
            assert (status, score) == expected.get(exercise, expected.get("*")), (exercise, status, score)
        elif status != "missing_notebook":
            assert (status, score) == ("passed", max_score), (exercise, status)


@pytest.mark.parametrize("student", ["daemon", "fills_shm", FORMULA, WORLDWIDE])
def test_harmless_tricks_and_odd_names_keep_full_marks(graded, student):
    name = "'" + student if student.startswith(FORMULA_STARTS) else student   # as grades.csv writes it
    scores = _scores(graded["rows"], name)
    submitted = {e: s for e, s in scores.items() if s[0] != "missing_notebook"}
    assert len(submitted) == 2 and all((s, n) == ("passed", m) for s, n, m in submitted.values()), scores


def test_the_instructors_other_processes_survive(graded):
    assert graded["after"]["sentinel"] is None and graded["after"]["sentinel_after_rerun"] is None


def test_nothing_a_student_started_or_wrote_outlives_grading(graded):
    after, work = graded["after"], graded["work"]
    ran = (work / "grades" / "records" / "daemon" / "01_gradient_descent.ipynb").read_text()
    assert "the daemon is ticking" in ran, "the daemon never started"
    assert after["survivors"] == [], "a student's process outlived grading"
    assert after["gradebook"] == graded["written"], "the gradebook changed after grading"
    assert after["shm"] == [] and after["tmp"] == [], "a student's files were left in /dev/shm or /tmp"
    filled = (work / "grades" / "records" / "fills_shm" / "01_gradient_descent.ipynb").read_text()
    wrote = int(re.search(r"wrote (\d+) MiB", filled).group(1))
    assert wrote <= (Limits().tmp + Limits().shm) // 2**20
    bombed = (work / "grades" / "records" / "fork_bomb" / "01_gradient_descent.ipynb").read_text()
    assert 0 < int(re.search(r"forked (\d+) times", bombed).group(1)) < Limits().processes


def test_no_forged_rows_and_every_student_exercise_once(graded):
    rows = graded["rows"]
    assert "forged" not in {r["student"] for r in rows} and all(int(r["score"]) <= int(r["max_score"]) for r in rows)
    keys = [(r["student"], r["notebook"], r["exercise"]) for r in rows if r["exercise"]]
    assert len(keys) == len(set(keys)) == EXERCISES * len(list(graded["subs"].iterdir()))


def test_names_are_written_as_text_in_any_language(graded):
    rows, work = graded["rows"], graded["work"]
    assert all(not cell.startswith(FORMULA_STARTS) for r in rows for cell in r.values())
    assert {"'" + FORMULA, WORLDWIDE} <= {r["student"] for r in rows}
    assert (work / "grades" / "feedback" / f"{FORMULA}.md").exists()
    assert (work / "grades" / "feedback" / f"{WORLDWIDE}.md").read_text(encoding="utf-8").startswith(
        f"# Feedback for {WORLDWIDE}")


def test_grading_again_from_scratch_writes_the_same_gradebook(graded):
    work = graded["work"]
    assert (work / "again" / "grades.csv").read_bytes() == (work / "grades" / "grades.csv").read_bytes()
    for feedback in (work / "grades" / "feedback").iterdir():
        assert (work / "again" / "feedback" / feedback.name).read_bytes() == feedback.read_bytes(), feedback.name
