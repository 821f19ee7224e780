"""Every script in examples/ runs end to end in its --fast mode and writes its figure.

Each runs as `__main__` (runpy, with its command line in sys.argv) inside this test
process, on the backend of this run: a fresh process per script would add ~10 s of imports
to each, three backends over. `load_train_publish.py` runs in its own process, as a user
would start it: it sets HF_ENDPOINT before Keras imports huggingface_hub, and publishes to
the local stand-in Hub (tests/hub_server.py), then loads the model back from it.
A new example is tested without new code.
"""

import os
import pathlib
import runpy
import subprocess
import sys

import pytest

from tests.hub_server import HubStandIn

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_examples_exist():
    assert len(EXAMPLES) >= 7, EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_fast_and_writes_its_figure(script, tmp_path, request, monkeypatch, capsys):
    out = tmp_path / "x.png"
    text = script.read_text()
    if "load_mnist" in text:
        monkeypatch.setenv("KERAS_DAE_DATA", os.fspath(request.getfixturevalue("mnist_path").parents[1]))
    argv = [os.fspath(script), "--fast", "--out", os.fspath(out)]
    if "--hub-endpoint" in text:
        stdout = _run_with_hub(argv, tmp_path)
    else:
        import matplotlib.pyplot as plt

        monkeypatch.setattr(sys, "argv", argv)
        monkeypatch.chdir(ROOT)
        try:
            runpy.run_path(os.fspath(script), run_name="__main__")
        finally:
            plt.close("all")
        stdout = capsys.readouterr().out
    assert out.exists() and out.stat().st_size > 0, stdout[-2000:]
    assert not list(tmp_path.glob(".*.tmp")), "a temporary figure was left behind"


def _run_with_hub(argv, tmp_path):
    hub = HubStandIn().start()
    env = {**os.environ, "PYTHONPATH": os.fspath(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "MPLBACKEND": "Agg", "HF_TOKEN": "hf_stand_in_token", "HF_HOME": os.fspath(tmp_path / "hf"),
           "HF_HUB_CACHE": os.fspath(tmp_path / "hf" / "hub"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)
    try:
        proc = subprocess.run([sys.executable, *argv, "--hub-endpoint", hub.url], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        hub.stop()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "published hf://" in proc.stdout and not hub.unhandled, (proc.stdout, hub.unhandled)
    return proc.stdout
