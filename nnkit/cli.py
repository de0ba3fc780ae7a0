"""``nnkit`` — the command line.

Every subcommand takes ``--json``: the last line of stdout is then one JSON object, and
everything else (progress, prose) goes to stderr. Errors are one line on stderr, exit status 1
(2 for bad options), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

from nnkit.backends import BACKENDS

DEFAULT_EPOCHS = {"gd": 500, "sgd": 40, "momentum": 40, "adam": 40}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except KeyboardInterrupt:
        print("nnkit: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, ArithmeticError) as error:  # DataError, CheckpointError, Diverged…
        print(f"nnkit {args.command}: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr (no usage dump), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnkit", description="A neural network from scratch, down to the BLAS call.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser("train", help="train the network and report its accuracy")
    train.add_argument("--data", default="digits", help="'digits' (bundled, default), a Kaggle-style CSV(.gz) or an MNIST IDX images file")
    train.add_argument("--hidden", type=int, nargs="+", default=[128], metavar="H", help="hidden layer sizes (default: 128)")
    train.add_argument("--epochs", type=_positive_int, help="passes over the training set (default: 500 for gd, else 40)")
    train.add_argument("--batch-size", type=_positive_int, default=32, help="samples per step (default 32; gd uses all)")
    train.add_argument("--optimizer", choices=["gd", "sgd", "momentum", "adam"], default="adam")
    train.add_argument("--lr", type=float, help="learning rate (default per optimizer)")
    train.add_argument("--l2", type=float, default=0.0, help="L2 weight decay λ (loss + λ/2·Σ‖W‖²)")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    train.add_argument("--backend", choices=BACKENDS, default="numpy")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--val-fraction", type=float, default=0.1)
    train.add_argument("--test-fraction", type=float, default=0.2)
    train.add_argument("--out", help="write the model here (.npz, after every epoch, atomically)")
    train.add_argument("--plots", metavar="DIR", help="write PNG figures into DIR")
    train.set_defaults(run=_run_train)

    predict = sub.add_parser("predict", help="classify a data file with a saved model")
    predict.add_argument("--model", required=True, help="a model saved by 'nnkit train --out'")
    predict.add_argument("--data", required=True, help="'digits', a CSV(.gz) or an IDX images file")
    predict.add_argument("--backend", choices=BACKENDS, default="numpy")
    predict.set_defaults(run=_run_predict)

    info = sub.add_parser("info", help="list every BLAS library found, with probed integer width and threads")
    info.set_defaults(run=_run_info)

    explain = sub.add_parser("explain", help="step by step: what np.dot, @ and the BLAS bridge do with two matrices",
                             description="Each operand is ROWSxCOLS[:layout], layout one of C F T sub colsub step rev bcast "
                                         "misaligned, optionally :f32; the second may be A.T (A's transpose, same buffer).")
    explain.add_argument("a", metavar="A", help="e.g. 256x128, 7x4:F, 7x4:sub")
    explain.add_argument("b", metavar="B", help="e.g. 128x64:T, or A.T")
    explain.add_argument("--call", choices=["dot", "matmul", "bridge"], default="dot",
                         help="whose BLAS call the JSON reports (default: np.dot, the seed's)")
    explain.add_argument("--library", help="library for the bridge (a name from 'nnkit info'; default numpy's own)")
    explain.add_argument("--copy", action="store_true", help="let the bridge copy layouts BLAS cannot take")
    explain.set_defaults(run=_run_explain)

    for command in (train, predict, info, explain):
        command.add_argument("--json", action="store_true", help="end stdout with one JSON line")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _say(args, text: str) -> None:
    """Prose for the reader: stdout normally, stderr when stdout is reserved for JSON."""
    print(text, file=sys.stderr if args.json else sys.stdout)


def _run_train(args) -> dict:
    from nnkit import data
    from nnkit.experiment import Experiment

    args.epochs = args.epochs or DEFAULT_EPOCHS[args.optimizer]
    experiment = Experiment.from_args(args)
    splits = data.split(experiment.dataset, val=args.val_fraction, test=args.test_fraction, seed=args.seed)
    _say(args, f"data: {experiment.dataset.source} — {len(splits[0])} train / {len(splits[1])} validation / {len(splits[2])} test samples, "
               f"{experiment.dataset.images.shape[1]} features; network {experiment.sizes}, {args.optimizer}, {args.dtype}, backend {args.backend}")
    start = time.perf_counter()
    history = experiment.fit(splits[0], splits[1], args)
    seconds = time.perf_counter() - start
    result = experiment.evaluate(splits)
    n_train = len(splits[0])
    result.update(
        epochs=len(history.loss), seconds=round(seconds, 3),
        samples_per_second=round(len(history.loss) * n_train / seconds, 1),
        backend=args.backend, dtype=args.dtype, layer_sizes=experiment.sizes, optimizer=args.optimizer,
        lr=experiment.lr, batch_size=experiment.batch_size, seed=args.seed, final_loss=history.loss[-1],
        model=args.out, plots=experiment.write_plots(args.plots, history, splits[2]) if args.plots else None,
    )
    _say(args, f"test accuracy {result['test_accuracy']:.2%} (train {result['train_accuracy']:.2%}, "
               f"validation {result['val_accuracy']:.2%}) after {result['epochs']} epochs in {seconds:.1f} s")
    return result


def _run_predict(args) -> dict:
    from nnkit import checkpoint, data
    from nnkit.experiment import Experiment

    params, meta = checkpoint.load(args.model)
    dataset = data.load(args.data)
    experiment = Experiment.from_checkpoint(params, meta, dataset, args.backend)
    predictions = experiment.predict(dataset)
    counts = {str(c): int((predictions == c).sum()) for c in meta["classes"]}
    result = {"n": len(dataset), "predictions": counts, "model": args.model, "data": dataset.source}
    if dataset.labels is not None:
        result["accuracy"] = float((predictions == dataset.labels).mean())
        _say(args, f"accuracy {result['accuracy']:.2%} on {len(dataset)} samples of {dataset.source}")
    else:
        _say(args, f"predicted {len(dataset)} unlabelled samples of {dataset.source}: {counts}")
    return result


def _run_info(args) -> dict:
    from nnkit.backends import libraries
    from nnkit.backends.cpu import cpu_info

    found = [lib.info() for lib in libraries.find_libraries()]
    cpu = cpu_info()
    _say(args, f"CPU: {cpu['model']}, {cpu['logical_cores']} logical cores, SIMD: {', '.join(cpu['simd']) or 'none found'}")
    for lib in found:
        _say(args, f"{lib['name']:<18} {lib['version'] or '?':<16} {lib['int_width']}-bit ints (probed)  "
                   f"threads {lib['num_threads']}  {lib['path']}")
        _say(args, f"{'':<18} symbols: {', '.join(lib['symbols'].values())}; threads: {lib['threads_how']}")
    return {"libraries": found, "cpu": cpu}


def _run_explain(args) -> dict:
    import numpy as np

    from nnkit import specs
    from nnkit.backends import dgemm, explain

    A, B = specs.operands(args.a, args.b)
    predictions = {"dot": explain.predict_dot(A, B), "matmul": explain.predict_matmul(A, B)}
    result = {"A": _describe(A), "B": _describe(B), **{k: p.to_dict() for k, p in predictions.items()}}
    try:
        plan = dgemm.plan(A, B, library=args.library, copy=args.copy)
    except dgemm.BridgeError as error:
        _say(args, f"the bridge refuses: {error}")
        for label, text in explain.numpy_summaries(A, B):
            _say(args, f"{label}: {text}")
        result["bridge"] = {"refused": str(error)}
    else:
        _say(args, "The BLAS bridge, step by step:\n" + str(plan))
        C = plan.run()
        difference = float(np.max(np.abs(C - np.dot(A, B)), initial=0.0))
        _say(args, f"{len(plan.steps) + 1}. result: C {C.shape} written at {C.__array_interface__['data'][0]:#x}; "
                   f"largest difference from np.dot: {difference:.3g}" + (" (bit for bit equal)" if difference == 0 else ""))
        result["bridge"] = {**plan.to_dict(), "max_abs_difference_from_np_dot": difference}
    chosen = result["bridge"].get("call", {}) if args.call == "bridge" else (predictions[args.call].calls[:1] or [None])[0]
    call = chosen if isinstance(chosen, dict) else (chosen.to_dict() if chosen else {"routine": None})
    copies = result["bridge"].get("copies", []) if args.call == "bridge" else predictions[args.call].copies
    return {**{k: call.get(k) for k in ("routine", "order", "transa", "transb", "m", "n", "k", "lda", "ldb", "ldc")},
            "copies": copies, "call_of": args.call, **result}


def _describe(x) -> dict:
    from nnkit.backends.layout import describe

    return describe(x).to_dict()
