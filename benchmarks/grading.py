"""Benchmark of ``course grade``: a class of N students (30) x every notebook in solutions/.

    python benchmarks/grading.py [--students 30] [--jobs 1 2] [--timeout 10]

Every student hands in the solutions (the slowest case: every hidden test runs). For each
--jobs value it grades the class into a fresh folder and prints:

- seconds per student-notebook, wall time of the grading step (the target: <= 0.7 s with
  --jobs 2 on 2 cores), and the whole run's wall time including the fixed start-up (loading
  the instructor's copy, the sandbox, the kernel host, grading the solutions twice);
- CPU seconds per student-notebook (the grader, the kernel host and every kernel);
- where the grading step's time went, summed over notebooks (kernel start, setup cells,
  exercise and check cells, hidden tests) and per notebook.

Timings depend on the machine's load: report them as measured, with the load average.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from course_instructor.grading.run import Options, grade_class
from course_lib.paths import course_root


def build_class(folder, students, solutions):
    notebooks = sorted(solutions.glob("*.ipynb"))
    for i in range(students):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copyfile(notebook, student / notebook.name)
    return len(notebooks)


def cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(subs, jobs, timeout, notebooks):
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as out:
        cpu, start = cpu_seconds(), time.perf_counter()
        run = grade_class(Options(subs, Path(out) / "grades", jobs=jobs, timeout=timeout))
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    graded = len(run.records)
    grading = run.step_seconds["grade_submissions"]
    print(f"\n--jobs {jobs}: {graded} student-notebooks ({notebooks} notebooks), isolation {run.host.isolation}")
    print(f"  grading step       {grading:7.1f} s  = {grading / graded:.3f} s per student-notebook (wall)")
    steps = ", ".join(f"{name} {s:.1f}" for name, s in run.step_seconds.items() if name != "grade_submissions")
    ending = wall - sum(run.step_seconds.values())
    print(f"  whole run          {wall:7.1f} s  (the rest: {steps}; ending the host {ending:.1f})")
    print(f"  CPU, all processes {cpu:7.1f} s  = {cpu / graded:.3f} s per student-notebook (whole run)")
    total = sum(run.seconds.values())
    print("  inside the grading step, summed over notebooks (wall time in each job):")
    for activity, seconds in run.seconds.most_common():
        print(f"    {activity:<26} {seconds:7.1f} s  {seconds / graded:.3f} s/notebook  {100 * seconds / total:4.1f}%")
    return grading / graded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    os.environ["COURSE_PROGRESS"] = "0"
    solutions = course_root() / "solutions"
    with tempfile.TemporaryDirectory(prefix="grading-class-") as folder:
        subs = Path(folder) / "subs"
        notebooks = build_class(subs, args.students, solutions)
        print(f"{args.students} students x {notebooks} notebooks; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f} at the start")
        for jobs in args.jobs:
            measure(subs, jobs, args.timeout, notebooks)
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
