"""``nnkit`` — the command line: options, checks on them, and dispatch to :mod:`nnkit.commands`.

Every subcommand takes ``--json``: the last line of stdout is then one JSON object, and
everything else (progress, prose) goes to stderr. Errors are one line on stderr, exit status 1
(2 for bad options), never a traceback; Ctrl-C and SIGTERM are one line too, exit status 128 + the
signal (130, 143), at any moment (:mod:`nnkit.interrupts`, installed by :mod:`nnkit.__main__` before
anything else loads).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from typing import Callable, Sequence

from nnkit import __version__, interrupts
from nnkit.backends.namespaces import BACKENDS, PENDING
from nnkit.bench import SUITES


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with interrupts.raising(f"nnkit {args.command}"):
            from nnkit import commands

            result = getattr(commands, args.command)(args)
    except interrupts.Interrupted as stop:
        return interrupts.report(stop.signum)
    except KeyboardInterrupt:  # raised by something else than nnkit's handler (a library's own)
        return interrupts.report(interrupts.signal.SIGINT)
    except BrokenPipeError:  # the reader stopped reading (e.g. `| head`): nothing more to say
        sys.stderr.close()
        return 141
    except (ValueError, OSError, ArithmeticError, MemoryError) as error:  # DataError, CheckpointError, Diverged…
        print(f"nnkit {args.command}: error: {error}", file=sys.stderr)
        if args.json and getattr(error, "result", None) is not None:  # what was done before the error
            print(json.dumps(error.result))
        return getattr(error, "status", 1)  # nnkit trace: the traced script's own status
    if args.json:
        print(json.dumps(result))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr (no usage dump), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_known_args(self, args=None, namespace=None):
        """explain's operands: a shape with a minus sign is named as such (argparse would read it as an option)."""
        if self.prog.endswith(" explain"):
            for arg in args or ():
                if re.fullmatch(r"-[0-9].*", arg):
                    self.error(f"{arg!r}: an operand's lengths are whole numbers ≥ 0, e.g. 3x4 (a leading '-' reads as an option)")
        return super().parse_known_args(args, namespace)


def number(kind: Callable, low: float, high: float = math.inf, *, low_open: bool = False, what: str = "") -> Callable:
    """An argparse type: a finite ``kind`` value in [low, high) (or (low, high) with ``low_open``)."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < low or (low_open and value == low) or value >= high:
            bounds = f"{'>' if low_open else '≥'} {low}" + (f" and < {high}" if high != math.inf else "")
            raise argparse.ArgumentTypeError(f"expected {what or kind.__name__} {bounds}, got {text!r}")
        return value

    convert.__name__ = what or kind.__name__
    return convert


class _DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default after its help, unless there is none (None, False) or the help
    already says it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnkit", description="A neural network from scratch, down to the BLAS call.")
    parser.add_argument("--version", action="version", version=f"nnkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    formatter = _DefaultsShown
    backend_help = "array namespace: " + ", ".join(f"{b}{' (not yet)' if b in PENDING else ''}" for b in BACKENDS)

    train = sub.add_parser("train", help="train the network and report its accuracy", formatter_class=formatter)
    train.add_argument("--data", default="digits", help="'digits' (bundled), a Kaggle-style CSV(.gz) or an MNIST IDX images file")
    train.add_argument("--test-data", metavar="PATH", help="a separate test file (e.g. MNIST's t10k); default: split --data")
    train.add_argument("--hidden", type=number(int, 1, what="a layer size"), nargs="+", default=[128], metavar="H", help="hidden layer sizes")
    train.add_argument("--epochs", type=number(int, 1, what="a whole number"), help="passes over the training set (default: 500 for gd, else 40)")
    train.add_argument("--batch-size", type=number(int, 1, what="a whole number"), default=128, help="samples per step (gd uses all)")
    train.add_argument("--optimizer", choices=["gd", "sgd", "momentum", "adam"], default="adam",
                       help="gd: the seed's full-batch gradient descent (every step sees every sample); sgd, momentum, "
                            "adam: minibatches of --batch-size")
    train.add_argument("--lr", type=number(float, 0, low_open=True, what="a learning rate"), help="learning rate (default: gd 0.5, sgd 0.1, momentum 0.05, adam 0.01)")
    train.add_argument("--l2", type=number(float, 0, what="a weight decay"), default=0.0, help="L2 weight decay λ (loss + λ/2·Σ‖W‖²)")
    train.add_argument("--dtype", choices=["float32", "float64"],
                       help="floating-point type of the data and parameters (4 or 8 bytes a number; default float32, "
                            "float64 with --backend blas: dgemm)")
    train.add_argument("--backend", choices=BACKENDS, default="numpy", help=backend_help)
    train.add_argument("--library", help="--backend blas: the BLAS whose dgemm multiplies (a name from 'nnkit info', "
                                         "e.g. nnkit for nnkit's own; default numpy's own)")
    train.add_argument("--seed", type=number(int, 0, what="a seed"), default=0,
                       help="seeds the data split, the initial weights and the shuffles: one seed, one result")
    train.add_argument("--val-fraction", type=number(float, 0, 1, what="a fraction"), default=0.1, help="share of --data for validation (0: none)")
    train.add_argument("--test-fraction", type=number(float, 0, 1, low_open=True, what="a fraction"), default=0.2, help="share of --data for testing (ignored with --test-data)")
    train.add_argument("--chunk-size", type=number(int, 1, what="a whole number"), default=10_000,
                       help="dask: samples per chunk of the data")
    train.add_argument("--scheduler", metavar="ADDRESS|local",
                       help="dask: 'local' starts a 2-worker LocalCluster on loopback; an address connects to a running scheduler")
    train.add_argument("--out", help="write the model here (.npz, after every epoch, atomically)")
    train.add_argument("--plots", metavar="DIR", help="write PNG figures into DIR (created if missing): curves.png, "
                       "confusion.png, predictions.png, weights.png; their paths are printed at the end")
    _threads_option(train)

    predict = sub.add_parser("predict", help="classify a data file with a saved model", formatter_class=formatter)
    predict.add_argument("--model", required=True, help="a model saved by 'nnkit train --out'")
    predict.add_argument("--data", required=True, help="'digits', a CSV(.gz) or an IDX images file")
    predict.add_argument("--csv", metavar="PATH", help="also write one prediction per sample (ImageId,Label — Kaggle's submission format)")
    predict.add_argument("--backend", choices=BACKENDS, default="numpy", help=backend_help)

    sub.add_parser("info", help="list every BLAS library found, with probed integer width and threads")

    explain = sub.add_parser("explain", help="step by step: what np.dot, @ and the BLAS bridge do with two matrices",
                             description="Each operand is a shape (7, 7x4, 2x7x4…) then :layout (C F T sub colsub step stepN rev "
                                         "bcast misaligned) and :dtype (f16 f32 f64 c64 c128 i32 i64); the second may be A or "
                                         "A.T (A itself, or its transpose on the same buffer: numpy's A.T, all axes reversed, "
                                         "so for a batch 2x7x4 it is 4x7x2 — each matrix transposed is the :T layout). "
                                         "--json lists every call.")
    explain.add_argument("a", metavar="A", help="e.g. 256x128, 7x4:F, 7x4:sub, 7, 2x7x4:c128")
    explain.add_argument("b", metavar="B", help="e.g. 128x64:T, 4x3:step3, or A.T (A's transpose on its own buffer)")
    explain.add_argument("--call", choices=["dot", "matmul", "bridge"], default="dot",
                         help="whose BLAS call the JSON reports (default: np.dot, the seed's)")
    explain.add_argument("--out", metavar="SPEC", help="np.dot's and matmul's out=: a spec (7x3:F), or A or B (that operand's own buffer)")
    explain.add_argument("--library", help="library for the bridge (a name from 'nnkit info'; default numpy's own)")
    explain.add_argument("--copy", action="store_true", help="let the bridge copy layouts BLAS cannot take")

    trace = sub.add_parser("trace", help="run a Python script and list every BLAS call numpy made in it")
    trace.add_argument("script", metavar="SCRIPT", help="a Python file, run as __main__")
    trace.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script")

    tutorial = sub.add_parser("tutorial", help="list the tutorials, or run one (its numbers come from this machine)")
    tutorial.add_argument("name", nargs="?", help="a number (5) or part of a name (np-dot); none: list them")
    tutorial.add_argument("--quick", action="store_true", help="small sizes (what the test suite runs)")
    _threads_option(tutorial, "default: the libraries' own")

    bench = sub.add_parser("bench", help="measure: medians and ratios, side by side in one run")
    bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats (under a minute)")
    bench.add_argument("--plots", metavar="DIR", help="write PNG figures into DIR")
    _threads_option(bench, "default: the libraries' own, and training as 'nnkit train' chooses")
    bench.add_argument("--suite", action="append", choices=SUITES, metavar="NAME",
                       help=f"run only this suite (repeatable): {', '.join(SUITES)}; default: all, in that order")
    bench.add_argument("--data", default="digits",
                       help="time_to_accuracy's data: 'digits' (bundled) or a CSV/IDX file as for train (default: digits)")
    bench.add_argument("--threshold", type=number(float, 0.0, 1.0, low_open=True, what="a validation accuracy"),
                       default=0.97, help="time_to_accuracy's target validation accuracy (default: 0.97)")

    for command in sub.choices.values():
        command.add_argument("--json", action="store_true", help="end stdout with one JSON line")
    return parser


def _threads_option(command: argparse.ArgumentParser, default: str = "default: chosen from the product sizes and the idle cores") -> None:
    command.add_argument("--threads", type=number(int, 1, what="a thread count"), metavar="N",
                         help=f"BLAS threads (threadpoolctl), {default}")
