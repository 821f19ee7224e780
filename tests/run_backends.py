"""Runs the test suite once per Keras backend, each in its own processes, and prints one
summary with the pass/fail counts of each backend.

Keras reads KERAS_BACKEND once, at import, so a backend cannot change inside a process.
To keep both cores busy until the end, each backend's test files are split into
`--shards` groups of about equal cost (the durations of the previous run's JUnit files
when present, else those of `tests/durations.json`, which `--save-durations` writes from
a full run so that a fresh clone shards well too, else file sizes), and the longest jobs
start first, `--jobs` at a time.

Tests may report what they measured with pytest's `record_property("measured: <what>", value)`;
those values end up in one table, a column per backend (also `outputs/tests/measured.json`).

Usage: python tests/run_backends.py [--backends jax,tensorflow,torch] [--jobs N] [--shards N]
       [pytest args]; given explicit test paths, each backend runs them in one process.
Exit status: 0 when every backend passed, 1 otherwise.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")


def counts(junit_paths):
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    found = False
    for path in junit_paths:
        if not path.exists():
            continue
        found = True
        root = ET.parse(path).getroot()
        for suite in [root] if root.tag == "testsuite" else list(root):
            for key in total:
                total[key] += int(suite.get(key, 0))
    if not found:
        return None
    total["passed"] = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    total["failed"] = total["failures"] + total["errors"]
    return total


def measured(junit_paths):
    """`{what: value}` of the `measured: ...` properties recorded by the tests."""
    values = {}
    for path in junit_paths:
        if not path.exists():
            continue
        for prop in ET.parse(path).getroot().iter("property"):
            name = prop.get("name", "")
            if name.startswith("measured:"):
                values[name[len("measured:"):].strip()] = prop.get("value")
    return values


def print_measured(table, out):
    backends = list(table)
    keys = list(dict.fromkeys(k for b in backends for k in table[b]))
    if not keys:
        return
    (out / "measured.json").write_text(json.dumps(table, indent=2) + "\n")
    width = max(len(k) for k in keys)
    print(f"\n{'measured':<{width}}  " + "  ".join(f"{b:>10}" for b in backends))
    for key in keys:
        print(f"{key:<{width}}  " + "  ".join(f"{table[b].get(key, '-'):>10}" for b in backends))


DURATIONS = ROOT / "tests" / "durations.json"


def junit_costs(backend, out):
    """Seconds per test file (module name) in the previous full run's JUnit files."""
    costs = {}
    for path in out.glob(f"junit-{backend}-[0-9]*.xml"):
        try:
            for case in ET.parse(path).getroot().iter("testcase"):
                module = (case.get("classname") or "").split(".")[-1]
                costs[module] = costs.get(module, 0.0) + float(case.get("time", 0))
        except ET.ParseError:
            continue
    return costs


def file_costs(backend, files, out):
    """Seconds per test file from the previous full run's JUnit files, else from
    tests/durations.json, else bytes / 1000."""
    costs = junit_costs(backend, out)
    if not costs and DURATIONS.is_file():
        costs = json.loads(DURATIONS.read_text()).get(backend, {})
    return {f: costs.get(f.stem, f.stat().st_size / 1000.0) for f in files}


def shard(files, costs, n):
    """Greedy longest-first split of `files` into `n` groups of similar total cost."""
    groups = [[0.0, []] for _ in range(max(1, min(n, len(files))))]
    for f in sorted(files, key=lambda f: -costs[f]):
        group = min(groups, key=lambda g: g[0])
        group[0] += costs[f]
        group[1].append(f)
    return [(cost, sorted(fs)) for cost, fs in groups]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("KERAS_DAE_TEST_JOBS", 2)),
                        help="pytest processes at once (default 2: one per core here)")
    parser.add_argument("--shards", type=int, default=2, help="processes per backend (default 2)")
    parser.add_argument("--out", default=str(ROOT / "outputs" / "tests"))
    parser.add_argument("--save-durations", action="store_true",
                        help="write tests/durations.json from this run's JUnit files (a full run)")
    args, pytest_args = parser.parse_known_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    explicit = any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in pytest_args)
    files = sorted((ROOT / "tests").glob("test_*.py"))
    jobs = []  # (estimated cost, backend, shard index, test files)
    for backend in backends:
        if explicit:
            jobs.append((0.0, backend, "selected", []))
            continue
        for i, (cost, group) in enumerate(shard(files, file_costs(backend, files, out), args.shards)):
            jobs.append((cost, backend, i, group))
    jobs.sort(key=lambda j: -j[0])

    # One JAX compilation cache for this run's processes (tests/conftest.py says why), empty at
    # the start so that every run measures the same.
    cache = pathlib.Path(tempfile.mkdtemp(prefix="keras-dae-tests-jax-"))
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.fspath(cache))

    junits = {b: [] for b in backends}
    seconds = {b: 0.0 for b in backends}
    codes = {b: 0 for b in backends}
    running = {}
    start = time.time()
    try:
        while jobs or running:
            while jobs and len(running) < args.jobs:
                _, backend, i, group = jobs.pop(0)
                name = f"{backend}-{i}"
                junit = out / f"junit-{name}.xml"
                junits[backend].append(junit)
                log = open(out / f"pytest-{name}.log", "w")
                env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONUNBUFFERED": "1",
                       "KERAS_DAE_TESTS_FAST_EXIT": "1"}  # tests/conftest.py::pytest_unconfigure
                # The cores are shared by `--jobs` processes: OpenMP pools (torch, BLAS) sized for
                # the whole machine spin against each other (a torch test took 281 s instead of
                # ~30 beside another shard, 2026-12-01).
                env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(args.jobs, 1))))
                cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                       f"--junitxml={junit}", *pytest_args, *(os.fspath(f.relative_to(ROOT)) for f in group)]
                proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                running[name] = (proc, log, backend, time.time())
                print(f"[{name}] started: {' '.join(cmd[1:])}", flush=True)
            time.sleep(1)
            for name, (proc, log, backend, t0) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[name]
                seconds[backend] += time.time() - t0
                # 5: this shard selected no test (e.g. under -m); the backend's total decides
                codes[backend] = codes[backend] or (0 if proc.returncode == 5 else proc.returncode)
                text = (out / f"pytest-{name}.log").read_text()
                print(f"\n===== {name} (exit {proc.returncode}, {time.time() - t0:.0f} s) =====")
                print(text[-6000:] if proc.returncode else "\n".join(text.splitlines()[-3:]), flush=True)
    finally:
        for proc, log, _, _ in running.values():  # interrupted (Ctrl-C): stop the shards too
            proc.terminate()
            proc.wait()
            log.close()
        shutil.rmtree(cache, ignore_errors=True)  # also when interrupted
    print_measured({b: measured(junits[b]) for b in backends}, out)
    print("\nbackend      passed  failed  skipped  seconds")
    total_passed = total_failed = total_skipped = 0
    ok = True
    for name in backends:
        code, c = codes[name], counts(junits[name])
        if c is None:
            c = {"passed": 0, "failed": 1, "skipped": 0}
        # pytest exits 5 when it collected nothing: that is a failure here too
        ok &= code == 0 and c["passed"] > 0
        total_passed += c["passed"]
        total_failed += c["failed"] + (1 if code != 0 and c["failed"] == 0 else 0)
        total_skipped += c["skipped"]
        print(f"{name:<12} {c['passed']:>6}  {c['failed']:>6}  {c['skipped']:>7}  {seconds[name]:>7.0f}")
    print(f"all backends: {time.time() - start:.0f} s wall")
    if args.save_durations and not explicit:
        durations = {b: {k: round(v, 1) for k, v in sorted(junit_costs(b, out).items())} for b in backends}
        tmp = DURATIONS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(durations, indent=1) + "\n")
        os.replace(tmp, DURATIONS)
        print(f"wrote {DURATIONS.relative_to(ROOT)}")
    print(f"total: {total_passed} passed, {total_failed} failed, {total_skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
