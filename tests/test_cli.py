"""The derive command: list, show, errors."""

import os
import subprocess
import sys

import pytest

from derive.symbolic.catalogue import pairings, valid_pairings
from derive.symbolic.pairing import derive_pair
from derive.cli import main


def test_list_prints_the_matrix_reasons_and_every_delta(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    invalid = [(act, lo, why) for act, lo, why in pairings() if why]
    assert f"{len(valid_pairings())} valid, {len(invalid)} invalid" in out
    for act, lo, why in invalid:
        assert f"{act} + {lo}: {why}" in out
    assert "sigmoid + bce: a[j] - y[j]   (canonical: a - y)" in out
    assert out.count("(canonical: a - y)") == sum(derive_pair(a, lo).canonical for a, lo in valid_pairings())


def test_list_prints_deltas_as_show_does(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out.split("delta = dC/dz_j of each valid pairing:")[1]
    assert "Piecewise(" not in out and "Sum(" not in out and "sign(" in out
    assert "δ ≥ │a[j] - y[j]│" in out  # huber's branches (its threshold delta a symbol), drawn as derive show draws them
    assert "───" in out  # mse's 1/n as a fraction bar


def test_version(capsys):
    from derive import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"derive {__version__}"


def test_python_m_derive_is_the_command():
    from derive import __version__

    shown = subprocess.run([sys.executable, "-m", "derive", "show", "identity", "quadratic"],
                           capture_output=True, text=True, check=True)
    assert "canonical" in shown.stdout
    version = subprocess.run([sys.executable, "-m", "derive", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"derive {__version__}"
    failed = subprocess.run([sys.executable, "-m", "derive", "show", "relu", "bce"], capture_output=True, text=True)
    assert failed.returncode == 2 and "invalid pairing relu + bce" in failed.stderr and "Traceback" not in failed.stderr


@pytest.mark.parametrize("command", ["show", "latex"])
def test_swapped_arguments_get_the_hint(command, capsys):
    assert main([command, "bce", "sigmoid"]) == 2
    err = capsys.readouterr().err
    assert "bce is a loss: the activation comes first, sigmoid then bce" in err


@pytest.mark.parametrize("argv, meant", [(["show", "Sigmoid", "bce"], "sigmoid"), (["show", "sigmoid", "BCE"], "bce"),
                                         (["show", "leaky-relu", "sse"], "leaky_relu"), (["show", "sigmod", "bce"], "sigmoid")])
def test_misspelled_names_get_did_you_mean(argv, meant, capsys):
    assert main(argv) == 2
    assert f"(did you mean {meant!r}?)" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [["latex", "sigmoid", "bce"], ["list"], ["show", "softmax", "cce"]])
def test_a_full_disk_is_one_clean_line(command):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "derive", *command], stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["python -m derive: error: cannot write the output: No space left on device"]


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
        (["show", "xyzzy", "bce"], "unknown activation 'xyzzy'; known activations: identity, sigmoid"),
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


@pytest.mark.parametrize("command", [["-m", "derive.cli", "list"], ["-m", "proofs"]])
def test_a_reader_that_leaves_early_is_not_an_error(command):
    """`derive list | head -1`: no BrokenPipeError traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert b"Traceback" not in proc.stderr.read()


def test_show_falls_back_to_ascii_where_stdout_cannot_take_unicode():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "derive.cli", "show", "sigmoid", "bce"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "sigmoid(z[j])" in result.stdout


def test_latex_dash_means_stdout(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["latex", "sigmoid", "bce", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith(r"\documentclass")
    assert not (tmp_path / "-").exists()


def test_report_into_a_file_says_it_is_not_a_folder(tmp_path, capsys):
    target = tmp_path / "report"
    target.write_text("")
    assert main(["report", "--out", str(target)]) == 2
    assert "it is a file, not a folder" in capsys.readouterr().err


def test_show_takes_parameter_values_and_keeps_the_symbol(capsys):
    assert main(["show", "elu", "quadratic", "--param", "alpha=0.5"]) == 0
    out = capsys.readouterr().out
    assert "parameter alpha in (0, oo): 0.5 (given)" in out and "α" in out
    assert main(["show", "leaky_relu", "huber", "--param", "delta=2"]) == 0
    out = capsys.readouterr().out
    assert "parameter slope in [0, 1): 1/100 (default)" in out and "parameter delta in (0, oo): 2.0 (given)" in out


@pytest.mark.parametrize("argv,message", [
    (["show", "elu", "quadratic", "--param", "alpha=-1"], "elu + quadratic's parameter alpha must be in (0, oo), got -1.0"),
    (["show", "elu", "quadratic", "--param", "beta=1"], "unknown parameter 'beta' of elu + quadratic; its parameters: alpha"),
    (["show", "elu", "quadratic", "--param", "alpha=__import__('os')"], "--param takes NAME=NUMBER (alpha=0.5)"),
])
def test_show_refuses_bad_parameters(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
