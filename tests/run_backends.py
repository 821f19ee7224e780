"""Runs the test suite once per Keras backend, each in its own process, and prints one
summary with the pass/fail counts of each backend.

Keras reads KERAS_BACKEND once, at import, so a backend cannot change inside a process.

Tests may report what they measured with pytest's `record_property("measured: <what>", value)`;
those values end up in one table, a column per backend (also `outputs/tests/measured.json`).

Usage: python tests/run_backends.py [--backends jax,tensorflow,torch] [--jobs N] [pytest args]
Exit status: 0 when every backend passed, 1 otherwise.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")


def counts(junit_path):
    if not junit_path.exists():
        return None
    root = ET.parse(junit_path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
    total["passed"] = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    total["failed"] = total["failures"] + total["errors"]
    return total


def measured(junit_path):
    """`{what: value}` of the `measured: ...` properties recorded by the tests."""
    if not junit_path.exists():
        return {}
    values = {}
    for prop in ET.parse(junit_path).getroot().iter("property"):
        name = prop.get("name", "")
        if name.startswith("measured:"):
            values[name[len("measured:"):].strip()] = prop.get("value")
    return values


def print_measured(backends, out):
    table = {b: measured(out / f"junit-{b}.xml") for b in backends}
    keys = list(dict.fromkeys(k for b in backends for k in table[b]))
    if not keys:
        return
    (out / "measured.json").write_text(json.dumps(table, indent=2) + "\n")
    width = max(len(k) for k in keys)
    print(f"\n{'measured':<{width}}  " + "  ".join(f"{b:>10}" for b in backends))
    for key in keys:
        print(f"{key:<{width}}  " + "  ".join(f"{table[b].get(key, '-'):>10}" for b in backends))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("KERAS_DAE_TEST_JOBS", 2)),
                        help="backends run at once (default 2: one per core here)")
    parser.add_argument("--out", default=str(ROOT / "outputs" / "tests"))
    args, pytest_args = parser.parse_known_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    pending, running, results = list(backends), {}, {}
    start = time.time()
    while pending or running:
        while pending and len(running) < args.jobs:
            name = pending.pop(0)
            junit = out / f"junit-{name}.xml"
            junit.unlink(missing_ok=True)
            log = open(out / f"pytest-{name}.log", "w")
            env = {**os.environ, "KERAS_BACKEND": name, "PYTHONUNBUFFERED": "1"}
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   f"--junitxml={junit}", *pytest_args]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            running[name] = (proc, log, junit, time.time())
            print(f"[{name}] started: {' '.join(cmd[1:])}", flush=True)
        time.sleep(1)
        for name, (proc, log, junit, t0) in list(running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del running[name]
            results[name] = (proc.returncode, counts(junit), time.time() - t0)
            text = (out / f"pytest-{name}.log").read_text()
            print(f"\n===== {name} (exit {proc.returncode}, {time.time() - t0:.0f} s) =====")
            print(text[-6000:] if proc.returncode else "\n".join(text.splitlines()[-3:]), flush=True)

    print_measured(backends, out)
    print("\nbackend      passed  failed  skipped  seconds")
    total_passed = total_failed = total_skipped = 0
    ok = True
    for name in backends:
        code, c, seconds = results[name]
        if c is None:
            c = {"passed": 0, "failed": 1, "skipped": 0}
        # pytest exits 5 when it collected nothing: that is a failure here too
        ok &= code == 0 and c["passed"] > 0
        total_passed += c["passed"]
        total_failed += c["failed"] + (1 if code not in (0,) and c["failed"] == 0 else 0)
        total_skipped += c["skipped"]
        print(f"{name:<12} {c['passed']:>6}  {c['failed']:>6}  {c['skipped']:>7}  {seconds:>7.0f}")
    print(f"all backends: {time.time() - start:.0f} s wall")
    print(f"total: {total_passed} passed, {total_failed} failed, {total_skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
