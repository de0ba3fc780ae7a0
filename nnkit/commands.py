"""What each ``nnkit`` subcommand does (the options are in :mod:`nnkit.cli`).

Each function takes the parsed options, talks to the reader through :func:`say`, and returns the
dict that ``--json`` prints.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time

from nnkit import files, memory
from nnkit import threads as threads_module

DEFAULT_EPOCHS = {"gd": 500, "sgd": 40, "momentum": 40, "adam": 40}


def say(args, text: str) -> None:
    """Prose for the reader: stdout normally, stderr when stdout is reserved for JSON."""
    print(text, file=sys.stderr if args.json else sys.stdout)


def train_defaults(args):
    """``args`` of ``nnkit train`` with the defaults that depend on other options filled in."""
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.optimizer]
    args.dtype = args.dtype or ("float64" if args.backend == "blas" else "float32")  # the bridge is dgemm: float64
    return args


def train(args) -> dict:
    train_defaults(args)
    if args.backend == "blas" and args.dtype != "float64":
        raise ValueError("--backend blas multiplies with dgemm, which is float64: use --dtype float64")
    if args.scheduler and args.backend != "dask":
        raise ValueError(f"--scheduler runs dask's work: use it with --backend dask, not {args.backend}")
    if args.library is not None:
        if args.backend != "blas":
            raise ValueError(f"--library chooses the dgemm of --backend blas, not of {args.backend}")
        from nnkit.backends import bridged

        bridged.LIBRARY = _check_library(args.library)
    _check_outputs(args)
    for option, path in (("--data", args.data), ("--test-data", args.test_data)):
        _check_input(option, path)
    if not args.scheduler:
        return _train(args)
    from nnkit import cluster

    with cluster.connect(args.scheduler) as client:
        say(args, f"dask: {len(client.scheduler_info()['workers'])} workers at {client.scheduler.address}")
        return _train(args)


def _train(args) -> dict:
    from nnkit.experiment import Experiment
    from nnkit.tutorials import fit  # every line within 118 columns

    experiment = Experiment.from_args(args)
    train_set, val_set, test_set = splits = experiment.splits(args)
    say(args, fit(f"data: {train_set.source} — {len(train_set)} train / {len(val_set)} validation / {len(test_set)} test "
                  f"samples{' (test: ' + test_set.source + ')' if args.test_data else ''}, {train_set.images.shape[1]} features; "
                  f"network {experiment.sizes}, {args.optimizer}, {args.dtype}, backend {args.backend}"))
    threads = _threads(args, experiment.sizes, len(train_set) if args.optimizer == "gd" else args.batch_size)
    with threads_module.limited(threads.threads):
        start = time.perf_counter()
        history = experiment.fit(train_set, val_set, args)
        seconds = time.perf_counter() - start
        result = experiment.evaluate(splits)
        # the step profile runs under the same BLAS thread limit as the training it describes
        profile = experiment.profile_step(train_set, args) if args.backend == "instrumented" else None
    epochs = len(history.loss)
    result.update(
        epochs=epochs, seconds=round(seconds, 3), samples_per_second=round(epochs * len(train_set) / seconds, 1),
        backend=args.backend, library=args.library, dtype=args.dtype, layer_sizes=experiment.sizes, optimizer=args.optimizer,
        lr=experiment.lr, batch_size=experiment.batch_size, seed=args.seed, final_loss=history.loss[-1],
        model=args.out, plots=experiment.write_plots(args.plots, history, test_set) if args.plots else None,
        history=history.to_dict(),  # per epoch: loss, train/validation accuracy, seconds since start
        threads=threads.to_dict(),
    )
    validation = f", validation {result['val_accuracy']:.2%}" if result["val_accuracy"] is not None else ""
    say(args, f"test accuracy {result['test_accuracy']:.2%} (train {result['train_accuracy']:.2%}{validation}) "
              f"after {epochs} epoch{'s' * (epochs != 1)} in {seconds:.2f} s")
    if result["plots"]:
        say(args, fit(f"figures in {args.plots}: " + ", ".join(os.path.basename(p) for p in result["plots"])))
    if profile is not None:
        result["step_profile"] = _profile(args, profile)
    chance = 1 / train_set.n_classes
    if result["test_accuracy"] < 2 * chance:
        print(f"warning: {result['test_accuracy']:.0%} is about chance ({chance:.0%}): the network did not learn "
              "(try a smaller --lr)", file=sys.stderr)
    return result


def _threads(args, sizes: list[int], batch: int):
    """The BLAS threads for this run (``--threads``, or chosen from the product sizes), said."""
    choice = threads_module.choose(sizes, batch, args.dtype, args.threads)
    say(args, choice.said())
    return choice


def _profile(args, ops) -> dict:
    """Print where one training step spends its time, op by op; return the table and totals."""
    from nnkit.backends.instrumented import report
    from nnkit.tutorials import fit

    rows = report(ops)
    total = {key: sum(r[key] for r in rows) for key in ("count", "seconds", "flops", "bytes_read", "bytes_written")}
    say(args, fit(f"one training step, {total['count']} operations, {total['seconds'] * 1e3:.3f} ms, {total['flops']:,} FLOPs "
                  f"({total['flops'] / total['seconds'] / 1e9:.2f} GFLOP/s), {total['bytes_read'] + total['bytes_written']:,} "
                  "bytes (a model of compulsory traffic: each input read once, each output written once):"))
    say(args, f"  {'op':<18}{'count':>6}{'ms':>9}{'% time':>8}{'FLOPs':>13}{'GFLOP/s':>9}{'bytes*':>12}{'new':>5}{'views':>6}")
    for r in rows:
        say(args, f"  {r['op']:<18}{r['count']:>6}{r['seconds'] * 1e3:>9.3f}{100 * r['seconds'] / total['seconds']:>7.1f}%"
                  f"{r['flops']:>13,}{r['gflops_per_second']:>9.2f}{r['bytes_read'] + r['bytes_written']:>12,}{r['new_buffers']:>5}{r['views']:>6}")
    return {"ops": rows, "total": total}


def _check_outputs(args) -> None:
    """Refuse unusable --out / --plots paths before training, not after it."""
    if args.out is not None:
        files.check_output(args.out, "--out")
    if args.plots is not None:
        if not args.plots:
            raise files.PathError(args.plots, "expected a directory path, got an empty string", option="--plots")
        try:
            os.makedirs(args.plots, exist_ok=True)
        except OSError as error:
            raise files.PathError(args.plots, f"cannot create the directory ({error.strerror})", error.errno, "--plots") from None


def _check_input(option: str, path: str | None) -> None:
    """Refuse an input path that is empty, missing or not a regular file ('digits' is bundled)."""
    if path is not None and path != "digits":
        files.check_input(path, option)


def predict(args) -> dict:
    from nnkit import checkpoint, data
    from nnkit.experiment import Experiment

    if args.csv is not None:
        files.check_output(args.csv, "--csv")
    _check_input("--model", args.model)
    _check_input("--data", args.data)
    with memory.allocating(f"loading --model {files.quoted(args.model)}"):
        params, meta = checkpoint.load(args.model)
    with memory.allocating(f"loading --data {files.quoted(args.data)}"):
        dataset = data.load(args.data)
    experiment = Experiment.from_checkpoint(params, meta, dataset, args.backend)
    with memory.allocating(f"predicting {len(dataset)} samples with a network of layer sizes {meta['layer_sizes']}"):
        predictions = experiment.predict(dataset)
    counts = {str(c): int((predictions == c).sum()) for c in meta["classes"]}
    result = {"n": len(dataset), "predictions": counts, "model": args.model, "data": dataset.source}
    if args.csv:
        result["csv"] = _write_predictions(args.csv, predictions)
    if dataset.labels is not None:
        result["accuracy"] = float((predictions == dataset.labels).mean())
        seen = meta.get("training", {}).get("data") == dataset.source
        say(args, f"accuracy {result['accuracy']:.2%} on {len(dataset)} samples of {dataset.source}"
                  + (" — note: the model was trained on part of this file, so this is not a held-out figure" if seen else ""))
    else:
        say(args, f"predicted {len(dataset)} unlabelled samples of {dataset.source}: {counts}")
    return result


def _write_predictions(path: str, predictions) -> str:
    """Kaggle's submission format, written atomically: ``ImageId,Label`` with ImageId from 1."""
    lines = "".join(f"{i},{int(label)}\n" for i, label in enumerate(predictions, start=1))
    with files.naming("--csv", path):
        files.atomic_write(path, lambda f: f.write(("ImageId,Label\n" + lines).encode()))
    return path


def info(args) -> dict:
    from nnkit.backends import libraries
    from nnkit.backends.cpu import cpu_info

    found = [lib.info() for lib in libraries.find_libraries()]
    cpu = cpu_info()
    say(args, f"CPU: {cpu['model']}, {cpu['logical_cores']} logical cores, SIMD: {', '.join(cpu['simd']) or 'none found'}")
    for lib in found:
        say(args, f"{lib['name']:<18} {lib['version'] or '?':<16} {lib['int_width']}-bit ints (probed)  "
                  f"threads {lib['num_threads']}  {lib['path']}")
        say(args, f"{'':<18} symbols: {', '.join(lib['symbols'].values())}; threads: {lib['threads_how']}")
    return {"libraries": found, "cpu": cpu}


def _check_library(name: str) -> str:
    """``name`` if ``nnkit info`` finds a library so called; a one-line error listing those found otherwise."""
    from nnkit.backends import libraries

    try:
        return libraries.get_library(name).name
    except libraries.LibraryError as error:
        raise ValueError(f"--library: {error}") from None


def explain(args) -> dict:
    from nnkit import specs
    from nnkit.backends import explain as numpy_rules
    from nnkit.backends.layout import describe

    if args.library is not None:
        _check_library(args.library)
    A, B, out = _explain_operands(args, allocate=False)  # the layouts alone: checked before any memory is taken
    if A.ndim != 2 or B.ndim != 2:
        if _explain_memory(args, A, B) <= memory.available():  # built: a phantom out would be read-only
            with memory.allocating(f"building the operands {args.a} and {args.b}"):
                A, B, out = _explain_operands(args, allocate=True)
        return _explain_products(args, A, B, out)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A {A.shape} and B {B.shape} do not fit: (m, k)·(k, n) needs B to have {A.shape[1]} rows")
    need = _explain_memory(args, A, B)
    allocated = need <= memory.available()
    if allocated:
        with memory.allocating(f"building the operands {args.a} and {args.b}"):
            A, B, out = _explain_operands(args, allocate=True)
    say(args, f"0. the operands: A: {_how(args.a)}; B: {_how(args.b)}" + (f"; out: {_how(args.out)}" if out is not None else ""))
    predictions = {"dot": numpy_rules.predict_dot(A, B, out=out), "matmul": numpy_rules.predict_matmul(A, B, out=out)}
    for line in numpy_rules.answers(predictions["dot"], predictions["matmul"], out is not None):
        say(args, line)
    result = {"A": describe(A).to_dict(), "B": describe(B).to_dict(), **{k: p.to_dict() for k, p in predictions.items()}}
    if allocated:
        with memory.allocating(f"running the bridge and np.dot on {args.a} and {args.b}"):
            result["bridge"] = _explain_bridge(args, A, B)
    else:
        why = (f"not run: the operands, the result and np.dot's result need {memory.size(need)}, more than the "
               f"{memory.size(memory.available())} of memory available; A and B are described from their shapes and strides")
        say(args, f"the bridge: {why}")
        result["bridge"] = {"not_run": why}
    if "call" not in result["bridge"] or out is not None:
        for label, text in numpy_rules.numpy_summaries(A, B, out):
            say(args, f"{label}: {text}")
    if args.call == "bridge":
        call, copies = result["bridge"].get("call", {}), result["bridge"].get("copies", [])
        calls = [call] if call else []
    else:
        calls, copies = result[args.call]["calls"], predictions[args.call].copies
        call = calls[0] if calls else {}
    keys = ("routine", "order", "transa", "transb", "m", "n", "k", "lda", "ldb", "ldc")
    return {**{k: call.get(k) for k in keys}, "calls": calls, "copies": copies, "call_of": args.call, **result}


def _explain_operands(args, allocate: bool):
    """A, B and out (or None) from their specs; an error names the argument it is about."""
    from nnkit import specs

    named = {}
    for label, spec in (("A", args.a), ("B", args.b), ("--out", args.out)):
        if spec is not None:
            try:
                named[label] = specs.operand(spec, named, seed=len(named), allocate=allocate)
            except ValueError as error:
                raise ValueError(f"{label}: {error}") from None
    return named["A"], named["B"], named.get("--out")


def _how(spec: str) -> str:
    from nnkit import specs

    if spec in ("A", "B"):
        return f"{spec} itself, the same buffer"
    if spec == "A.T":
        return "A.T, the transpose of A on the same buffer"
    return specs.how(spec).replace("x = ", "")


def _explain_products(args, A, B, out) -> dict:
    """Vectors and batches: what np.dot and matmul do, every call listed (the bridge takes matrices)."""
    from nnkit.backends import explain as numpy_rules

    predictions = {"dot": numpy_rules.predict_dot(A, B, out=out), "matmul": numpy_rules.predict_matmul(A, B, out=out)}
    bare = predictions if out is None else {"dot": numpy_rules.predict_dot(A, B), "matmul": numpy_rules.predict_matmul(A, B)}
    if all(p.raises for p in bare.values()):  # A and B themselves do not fit: bad input
        raise ValueError(f"A {A.shape} and B {B.shape}: {bare['matmul'].reason[len('numpy raises '):]}" + _transpose_hint(args, A))
    for name, p in predictions.items():
        say(args, f"{name}: {p.reason}" + (f"; {'; '.join(p.copies)}" if p.copies else ""))
        for call in p.calls[:_LISTED]:
            say(args, f"  {call}")
        if p.count > _LISTED:
            say(args, f"  … {p.count} calls in all (--json lists them)")
    chosen = predictions["dot" if args.call == "bridge" else args.call]
    return {"calls": [c.to_dict() for c in chosen.calls], "total_calls": chosen.count, "copies": chosen.copies,
            "call_of": chosen.function, **{k: p.to_dict() for k, p in predictions.items()}}


_LISTED = 12  # calls printed per function; --json lists all


def _transpose_hint(args, A) -> str:
    if args.b != "A.T" or A.ndim < 3:
        return ""
    return f" (A.T reverses all of A's axes, as numpy's does; each matrix transposed is {args.a.split(':')[0]}:T's layout)"


def _explain_memory(args, A, B) -> int:
    """Bytes explain takes to build ``A``, ``B`` and ``out`` (the arrays they are cut from), run the
    bridge (its result, and copies of both operands with ``--copy``) and np.dot (its result, and
    copies of operands it cannot take as they are)."""
    from nnkit import specs

    built = sum(specs.nbytes(spec) for spec in (args.a, args.b, args.out) if spec not in (None, "A", "B", "A.T"))
    size = max(A.itemsize, B.itemsize, 8)
    copies = size * (A.size + B.size) * (1 + args.copy)
    result = size * math.prod(A.shape[:-1]) * math.prod(B.shape[:-2] + B.shape[-1:] * (B.ndim > 1))
    return built + copies + 2 * result


def _explain_bridge(args, A, B) -> dict:
    """Plan and run the bridge's call on ``A`` and ``B``, saying each step; compare with np.dot."""
    import numpy as np

    from nnkit.backends import dgemm

    try:
        plan = dgemm.plan(A, B, library=args.library, copy=args.copy)
    except dgemm.BridgeError as error:
        say(args, f"the bridge refuses: {error}")
        return {"refused": str(error)}
    say(args, "The BLAS bridge, step by step:\n" + str(plan))
    C = plan.run()
    expected = np.dot(A, B)
    difference = float(np.max(np.abs(np.subtract(C, expected, out=expected), out=expected), initial=0.0))
    say(args, f"{len(plan.steps) + 1}. result: C {C.shape} written at {C.__array_interface__['data'][0]:#x}; "
              f"largest difference from np.dot: {difference:.3g}" + (" (bit for bit equal)" if difference == 0 else ""))
    return {**plan.to_dict(), "max_abs_difference_from_np_dot": difference}


def trace(args) -> dict:
    from nnkit.trace_command import trace as run

    return run(args, say)


def bench(args) -> dict:
    import importlib

    from nnkit.bench import SUITES

    from nnkit.backends.cpu import cpu_info
    from nnkit.backends.libraries import find_libraries

    cpu = cpu_info()
    setup = {"cpu": cpu, "libraries": [{k: lib.info()[k] for k in ("name", "version", "num_threads", "architecture")}
                                       for lib in find_libraries()]}
    say(args, f"CPU {cpu['model']}, {cpu['logical_cores']} logical cores, SIMD {', '.join(cpu['simd'])}; "
              f"OPENBLAS_CORETYPE={cpu['openblas_coretype'] or '(not set)'}")
    say(args, "libraries: " + "; ".join(f"{l['name']} {l['version']} ({l['num_threads']} threads"
                                         + (f", kernel {l['architecture']}" if l["architecture"] else "") + ")" for l in setup["libraries"]))
    results = {}
    with threads_module.limited(args.threads) if args.threads else contextlib.nullcontext():
        for name in [suite for suite in SUITES if suite in (args.suite or SUITES)]:
            say(args, f"== {name}")
            options = ({"threads": args.threads, "data_spec": args.data, "threshold": args.threshold}
                       if name == "time_to_accuracy" else {})  # the one suite that trains
            results[name] = importlib.import_module(f"nnkit.bench.{name}").run(args.quick, lambda text: say(args, text), results,
                                                                               **options)
    from nnkit.bench import peak

    results["peak_check"] = peak.check(results, lambda text: say(args, text))
    if args.plots:
        from nnkit.bench import plots

        results["plots"] = plots.write(results, args.plots)
        say(args, "figures: " + ", ".join(results["plots"]))
    return {"setup": setup, **results}


def tutorial(args) -> dict:
    from nnkit import tutorials

    if not args.name:
        for path in tutorials.available():
            title = next((line[2:] for line in path.read_text().splitlines() if line.startswith("# ")), path.stem)
            say(args, f"{path.stem[:2].lstrip('0'):>2}  {title}   ({path.relative_to(tutorials.FOLDER.parent)})")
        return {"tutorials": [p.stem for p in tutorials.available()]}
    path = tutorials.find(args.name)
    say(args, f"running {path.relative_to(tutorials.FOLDER.parent)} — figures go to tutorials/out/{path.stem}/")
    stream = sys.stderr if args.json else sys.stdout
    with threads_module.limited(args.threads) if args.threads else contextlib.nullcontext():
        tutorials.run(path, quick=args.quick, echo=lambda text: say(args, tutorials.fit(text)), threads=args.threads,
                      text=lambda markdown: say(args, tutorials.render(markdown, color=stream.isatty())))
    return {"tutorial": path.stem, "ok": True}
