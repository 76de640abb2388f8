"""``python -m bench`` works from any directory once derive is installed (issue 14): the bench
package ships with derive (pyproject.toml's package list), and a missing PyTorch is named."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_bench_is_one_of_the_packages_pip_installs():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    found = find_packages(where=ROOT, include=include)
    assert "bench" in found and "derive" in found, found


def test_python_m_bench_runs_outside_the_repository(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "python -m bench" in done.stdout and "--quick" in done.stdout


def test_a_missing_pytorch_is_named_with_the_extra_to_install(tmp_path):
    code = "import sys; sys.modules['torch'] = None; from bench.__main__ import main; main(['--quick'])"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "pip install 'derive[torch]'" in done.stderr, done.stderr


def test_only_and_dtypes_filter_the_rows_and_name_what_is_allowed(capsys):
    import pytest

    from bench.__main__ import main

    for argv, said in ((["--only", "no such row"], "matches no row"), (["--dtypes", "float16"], "the dtypes are float64, float32")):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2 and said in capsys.readouterr().err


def test_memory_bound_is_read_off_the_code_that_runs():
    from bench.summary import memory_bound

    assert memory_bound("relu", "quadratic", "delta") and memory_bound("identity", "mse", "loss")
    assert not memory_bound("sigmoid", "bce", "delta")  # exp
    assert not memory_bound("gelu", "quadratic", "loss")  # the normal CDF
    assert not memory_bound("softmax", "quadratic", "delta")  # the softmax rows
    assert not memory_bound("softmax", "cce[index]", "loss")


def test_the_summary_counts_each_floor_and_names_the_misses():
    from bench.summary import Result, Summary

    s = Summary(threads=2)
    s.add(Result("a+b loss", "float32", "large", 2.0, 1.0, 0.5, 0.3, True))  # 2x torch, 4x floor
    s.add(Result("c+d delta", "float32", "large", 1.0, 1.0, 0.5, 0.1, True))  # at torch, 2x floor: meets both
    s.add(Result("e+f delta", "float32", "1e3", 1.0, 3.0, 0.1, 0.0, False))
    text = s.report()
    assert "at or below PyTorch, large float32: 1/2; misses: a+b loss float32 2.00" in text
    assert "at or below PyTorch, 1e3 float32: 1/1" in text
    assert "within 2x the floor, large: 1/2; misses (x floor): a+b loss float32 4.00" in text
    assert "at most 0.3 MB (a+b loss float32 large)" in text


def test_a_row_sum_as_a_dot_is_no_transcendental_work():
    from bench.summary import memory_bound

    for loss in ("quadratic", "sse", "mse"):  # their row sums print as rows.row_dot / rows.row_sum
        assert memory_bound("relu", loss, "loss") and memory_bound("softsign", loss, "loss"), loss
