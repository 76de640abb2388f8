"""The derive command: list, show, errors."""

import subprocess
import sys

import pytest

from derive.catalogue import pairings, valid_pairings
from derive.cli import main


def test_list_prints_the_matrix_reasons_and_every_delta(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    invalid = [(act, lo, why) for act, lo, why in pairings() if why]
    assert f"{len(valid_pairings())} valid, {len(invalid)} invalid" in out
    for act, lo, why in invalid:
        assert f"{act} + {lo}: {why}" in out
    assert "sigmoid + bce: a[j] - y[j]   (canonical: a - y)" in out
    assert out.count("(canonical: a - y)") == 3


def test_show_prints_the_steps(capsys):
    assert main(["show", "sigmoid", "quadratic"]) == 0
    out = capsys.readouterr().out
    for heading in ("1. dense layer", "2. activation", "cost derivative", "chain rule", "weight gradient"):
        assert heading in out
    assert "σ(z[j])" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["show", "relu", "bce"], "relu's range [0, oo) is not inside (0, 1), which bce needs"),
        (["show", "swish", "bce"], "unknown activation 'swish'; known activations: identity, sigmoid"),
        (["show", "sigmoid", "xent"], "unknown loss 'xent'; known losses: quadratic, sse"),
    ],
)
def test_errors_exit_2_with_the_reason(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "derive.cli", "show", "identity", "quadratic"],
                            capture_output=True, text=True, check=True)
    assert "canonical" in result.stdout
