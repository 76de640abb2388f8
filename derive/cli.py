"""The ``derive`` command.

    derive list                      the pairing matrix: valid / invalid (why), delta of each valid pair
    derive show ACTIVATION LOSS      one derivation, step by step
    derive latex ACTIVATION LOSS     the derivation as a standalone LaTeX document
    ... --param NAME=VALUE           (show, latex) a parameter's value: elu's alpha=0.5, huber's delta=2
    derive report [--out DIR]        the full report: DIR/report.tex, figures, DIR/report.pdf
    derive prove                     every theorem (added by the ``proofs`` package)

Other packages add subcommands through the ``derive.commands`` entry-point
group (a callable taking the remaining argv), so ``derive`` never imports them.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import sympy as sp

from derive import __version__
from derive.errors import FormulaError, PairingError, UnknownNameError, swapped
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings, show_set
from derive.symbolic.pairing import derive_pair


def _pretty(expr) -> str:
    return sp.pretty(expr, use_unicode=_unicode_ok(), wrap_line=False)


def _indented(block: str, prefix: str) -> str:
    """``block`` (a pretty-printed expression, several lines) after ``prefix``, its lines aligned."""
    lines = block.splitlines()
    return "\n".join((prefix if k == 0 else " " * len(prefix)) + line for k, line in enumerate(lines))


def _derivation(activation: str, loss: str, params=()):
    """derive_pair, with the swapped-arguments hint where a loss comes first; ``params``: "name=value" strings."""
    error = swapped(activation, loss, ACTIVATIONS, LOSSES)
    if error is not None:
        raise error
    return derive_pair(activation, loss, **dict(_param(text) for text in params))


def _param(text: str) -> tuple[str, float]:
    """'alpha=0.5' -> ('alpha', 0.5): a number, read by float(), never evaluated."""
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ValueError(f"--param takes NAME=NUMBER (alpha=0.5), not {text!r}") from None


def _unicode_ok() -> bool:
    """Whether stdout can take the pretty printer's unicode (not under PYTHONIOENCODING=ascii)."""
    try:
        "σ∂⎛∑".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def cmd_list(args) -> int:
    """The pairing matrix, then delta for every valid pairing."""
    names = list(LOSSES)
    width = max(map(len, ACTIVATIONS)) + 2
    print("pairing matrix (ok = valid; x = invalid, reason below)")
    print(" " * width + "".join(f"{lo:>10}" for lo in names))
    rows = {}
    for act, lo, why in pairings():
        rows.setdefault(act, []).append("ok" if why is None else "x")
    for act, marks in rows.items():
        print(f"{act:<{width}}" + "".join(f"{mk:>10}" for mk in marks))
    valid = [(act, lo) for act, lo, why in pairings() if why is None]
    invalid = [(act, lo, why) for act, lo, why in pairings() if why is not None]
    print(f"\n{len(valid)} valid, {len(invalid)} invalid\n\ninvalid pairings:")
    for act, lo, why in invalid:
        print(f"  {act} + {lo}: {why}")
    print("\ndelta = dC/dz_j of each valid pairing:")
    for act, lo in valid:
        d = derive_pair(act, lo)
        mark = "   (canonical: a - y)" if d.canonical else ""
        print(_indented(_pretty(d.delta) + mark, f"  {act} + {lo}: ") + "\n")
    return 0


def cmd_show(args) -> int:
    """One derivation with its chain-rule steps, in unicode."""
    d = _derivation(args.activation, args.loss, args.param)
    print(f"{d.activation} + {d.loss}\n")
    given = dict(d.values)
    for p in d.params:
        how = "given" if p.name in given else "default"
        print(f"parameter {p.name} in {show_set(p.domain)}: {d.parameters[p.name]} ({how}); a symbol below")
    if d.params:
        print()
    for number, step in enumerate(d.steps, 1):
        print(f"{number}. {step.description}")
        print(_pretty(sp.Eq(step.lhs, step.rhs, evaluate=False)) + "\n")
    for note in d.assumptions:
        print(f"assumed: {note}")
    if d.canonical:
        print("delta = a - y: a canonical pairing")
    return 0


def cmd_latex(args) -> int:
    """One derivation as a standalone LaTeX document, to stdout or ``-o FILE``."""
    from derive.docs.latex import pairing_document

    d = _derivation(args.activation, args.loss, args.param)
    document = pairing_document(d.activation, d.loss, **dict(d.values))
    if args.output in (None, "-"):
        sys.stdout.write(document)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(document)
        except OSError as err:
            print(f"derive: error: cannot write {args.output}: {err.strerror}", file=sys.stderr)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    """The full report into ``--out``; compiled with pdflatex where it is on the PATH."""
    from derive.docs.report import build_report

    try:
        tex, pdf, failed = build_report(args.out)
    except RuntimeError as err:  # pdflatex failed: its log tail says why
        print(f"derive: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        why = "it is a file, not a folder" if os.path.isfile(args.out) else err.strerror or str(err)
        print(f"derive: error: cannot write the report into {args.out}: {why}", file=sys.stderr)
        return 2
    print(pdf if pdf is not None else tex)
    if failed:
        print(f"derive: error: report sections failed: {', '.join(failed)} (noted in the document)", file=sys.stderr)
        return 1
    return 0


def _plugins() -> dict:
    return {ep.name: ep for ep in entry_points(group="derive.commands")}


def build_parser(plugins) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive, print and prove the calculus of neural-network output layers.",
    )
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defs = argparse.ArgumentParser(add_help=False)  # user definitions, for every command (derive.define)
    defs.add_argument("--activation", action="append", default=[], metavar="NAME=FORMULA", dest="define_activation",
                      help="define an activation from a formula in z first, e.g. 'mish=z*tanh(softplus(z))'")
    defs.add_argument("--loss", action="append", default=[], metavar="NAME=TERM", dest="define_loss",
                      help="define a loss (summed over units) from a term in a and y first, e.g. 'l4=(a - y)**4'")
    sub.add_parser("list", help="the pairing matrix and every delta", parents=[defs]).set_defaults(run=cmd_list)
    show = sub.add_parser("show", help="one derivation, step by step", parents=[defs])
    show.set_defaults(run=cmd_show)
    latex = sub.add_parser("latex", help="one derivation as a standalone LaTeX document", parents=[defs])
    for one in (show, latex):
        one.add_argument("activation", help=f"one of: {', '.join(ACTIVATIONS)}")
        one.add_argument("loss", help=f"one of: {', '.join(LOSSES)}")
        one.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                         help="a parameter's value (elu's alpha=0.5, huber's delta=2); the derivation keeps its symbol")
    latex.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (- is stdout)")
    latex.set_defaults(run=cmd_latex)
    report = sub.add_parser("report", help="the full report of every pairing and proof, compiled to PDF", parents=[defs])
    report.add_argument("--out", default="report", metavar="DIR", help="output folder (default: report)")
    report.set_defaults(run=cmd_report)
    for name in plugins:
        package = plugins[name].value.split(":")[0].split(".")[0]
        sub.add_parser(name, help=f"the {package} package's command (derive {name} --help)", add_help=False)
    return parser


def _define(args) -> None:
    """The --activation/--loss NAME=FORMULA definitions, in the catalogue before the command runs."""
    if not (getattr(args, "define_activation", None) or getattr(args, "define_loss", None)):
        return
    from derive.define import define_activation, define_loss

    for kind, define in (("activation", define_activation), ("loss", define_loss)):
        for text in getattr(args, f"define_{kind}"):
            name, eq, formula = text.partition("=")
            if not eq:
                raise FormulaError(text, len(text), f"--{kind} takes NAME=FORMULA", "e.g. 'mish=z*tanh(softplus(z))'")
            define(name.strip(), formula)


def _prog() -> str:
    """The command as typed: derive, or python -m proofs for a package's __main__."""
    path = Path(sys.argv[0])
    return f"python -m {path.parent.name}" if path.name == "__main__.py" else path.name


def reader_may_leave(main, argv=None) -> int:
    """``main(argv)``, quiet when the reader of stdout leaves early (``derive list | head``): not an error;
    one line, exit 1, when stdout cannot be written (``> /dev/full``: no space left on device)."""
    try:
        code = main(argv)
        sys.stdout.flush()  # here, not at exit, where a failed write is a traceback
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        if err.filename is not None:  # a file the command opened: not stdout
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{_prog()}: error: cannot write the output: {err.strerror or err}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return reader_may_leave(_main, sys.argv[1:] if argv is None else argv)


def _main(argv: list[str]) -> int:
    plugins = _plugins()
    if argv and argv[0] in plugins:
        return int(plugins[argv[0]].load()(argv[1:]) or 0)
    args = build_parser(plugins).parse_args(argv)
    try:
        _define(args)
    except ValueError as err:  # a formula outside the whitelist, a taken name: said, not a traceback
        print(f"derive: error: {err}", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except (PairingError, UnknownNameError, ValueError) as err:  # a parameter outside its domain: said too
        print(f"derive: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
