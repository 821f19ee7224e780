"""keras_dae.utils: atomic writes and the marked blocks the benchmarks rewrite."""

import json

import numpy as np
import pytest

from keras_dae.utils import atomic_save, atomic_write, marked_block, replace_block, write_results


def test_atomic_write_bytes_text_and_callable(tmp_path):
    assert atomic_write(tmp_path / "a" / "b.txt", "σ = 0.1\n").read_text(encoding="utf-8") == "σ = 0.1\n"
    assert atomic_write(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    path = atomic_write(tmp_path / "c.npz", lambda f: np.savez(f, x=np.arange(3)))
    assert path.name == "c.npz" and np.load(path, allow_pickle=False)["x"].tolist() == [0, 1, 2]  # no ".npz" appended
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.bin", "b.txt", "c.npz"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "results.json", "old")

    def fail(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]
    with pytest.raises(TypeError, match="Received: int"):
        atomic_write(path, 3)


def test_atomic_save_keeps_the_suffix_keras_needs_and_the_old_file_on_failure(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = atomic_save(tmp_path / "best.weights.h5", model.save_weights)  # Keras refuses other suffixes
    model.load_weights(path)
    before = path.read_bytes()

    def fail(tmp):
        model.save_weights(tmp)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        atomic_save(path, fail)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["best.weights.h5"]


def test_replace_block_keeps_the_rest_of_the_file(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\n{marked_block('table', 'old')}\n\ntail\n", encoding="utf-8")
    replace_block(path, "table", "| a |\n|---|\n")
    assert path.read_text() == "# Title\n\n<!-- table:begin -->\n| a |\n|---|\n<!-- table:end -->\n\ntail\n"
    with pytest.raises(ValueError, match="other:begin"):
        replace_block(path, "other", "x")
    assert replace_block(path, "other", "x", missing_ok=True) is None
    assert replace_block(tmp_path / "missing.md", "table", "x", missing_ok=True) is None
    path.write_text(marked_block("table", "1") + marked_block("table", "2"))
    with pytest.raises(ValueError, match="found 2 begin"):
        replace_block(path, "table", "x")


def test_write_results_writes_json_markdown_and_the_quoting_blocks(tmp_path):
    quoting = tmp_path / "README.md"
    quoting.write_text(f"intro\n{marked_block('probe', 'old')}\n")
    written = write_results(tmp_path / "results" / "probe", {"accuracy": 0.9}, "| 90 % |\n",
                            tag="probe", quoted_in=(quoting, tmp_path / "card-without-block.md"))
    assert [p.name for p in written] == ["probe.json", "probe.md", "README.md"]
    assert json.loads((tmp_path / "results" / "probe.json").read_text()) == {"accuracy": 0.9}
    assert quoting.read_text() == "intro\n<!-- probe:begin -->\n| 90 % |\n<!-- probe:end -->\n"
