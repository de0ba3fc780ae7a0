"""One experiment: a data set, a network and a backend, glued together for the command line.

This is where numpy data (:mod:`nnkit.data`) become arrays of the chosen namespace — features
normalised, samples in columns, labels one-hot — and where parameters go back to numpy for
checkpoints and plots. The maths stays in :mod:`nnkit.model`, :mod:`nnkit.optim` and :mod:`nnkit.train`.
"""

from __future__ import annotations

import os

import numpy as np

from nnkit import checkpoint, data, files, memory, model, optim, train
from nnkit.backends import namespace, to_numpy
from nnkit.files import quoted

# Copies of the parameters an optimiser keeps besides them (momentum's v, Adam's m and s).
_OPTIMIZER_STATE = {"gd": 0, "sgd": 0, "momentum": 1, "adam": 2}


def memory_needed(sizes: list[int], dtype: str, samples: int, optimizer: str | None = None) -> int:
    """Bytes, roughly, to train a network of layer ``sizes`` with ``optimizer`` (or only to run it,
    when None) on ``samples`` samples at once: the parameters (and, training, their gradients,
    their next values and the optimiser's state), and three activations per unit and sample."""
    parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    copies = 1 if optimizer is None else 3 + _OPTIMIZER_STATE[optimizer]
    return np.dtype(dtype).itemsize * (copies * parameters + 3 * samples * sum(sizes[1:]))


class Experiment:
    """A network of layer sizes ``sizes`` on backend ``backend`` for data shaped like ``dataset``."""

    def __init__(self, dataset: data.Dataset, backend: str, dtype: str, sizes: list[int], params=None, seed: int = 0,
                 chunk_size: int = 10_000):
        self.dataset, self.backend, self.dtype_name, self.sizes = dataset, backend, dtype, list(sizes)
        self.xp = namespace(backend)
        self.dtype = getattr(self.xp, dtype)
        n_pixels = dataset.images.shape[1]
        if n_pixels != self.sizes[0]:
            raise data.DataError(f"{quoted(dataset.source)}: {n_pixels} pixels per image, but the model expects {self.sizes[0]}")
        self.rng = np.random.default_rng(seed)
        self.chunk_size = chunk_size
        self._features: dict[int, tuple] = {}
        if params is None:
            self.params = model.init(self.sizes, self.xp, self.rng, self.dtype)
        else:
            self.params = {k: self.xp.asarray(v) for k, v in params.items()}

    @classmethod
    def from_args(cls, args) -> "Experiment":
        with memory.allocating(f"loading --data {quoted(args.data)}"):
            dataset = data.load_labelled(args.data)
        sizes = [dataset.images.shape[1], *args.hidden, dataset.n_classes]
        memory.require(memory_needed(sizes, args.dtype, len(dataset), args.optimizer),
                       f"--hidden {' '.join(map(str, args.hidden))}: training layer sizes {sizes} with {args.optimizer} "
                       f"on {len(dataset)} samples ({args.dtype})")
        with memory.allocating(f"initialising a network of layer sizes {sizes}"):
            return cls(dataset, args.backend, args.dtype, sizes, seed=args.seed, chunk_size=args.chunk_size)

    def splits(self, args) -> tuple[data.Dataset, data.Dataset, data.Dataset]:
        """Train / validation / test sets: all cut from ``--data``, or the test set from ``--test-data``."""
        ds = self.dataset
        test_fraction = 0.0 if args.test_data else args.test_fraction
        try:
            parts = data.split(ds, val=args.val_fraction, test=test_fraction, seed=args.seed)
        except ValueError as error:
            raise data.DataError(f"{quoted(ds.source)}: cannot split {len(ds)} samples with --val-fraction {args.val_fraction}"
                                 f" and --test-fraction {test_fraction}: {error}") from None
        if not args.test_data:
            return parts
        with memory.allocating(f"loading --test-data {quoted(args.test_data)}"):
            test = data.load(args.test_data)
        if test.labels is None or test.images.shape[1] != ds.images.shape[1]:
            raise data.DataError(f"{quoted(test.source)}: expected labelled images of {ds.images.shape[1]} pixels like {quoted(ds.source)}")
        return parts[0], parts[1], test

    @classmethod
    def from_checkpoint(cls, params: dict, meta: dict, dataset: data.Dataset, backend: str) -> "Experiment":
        sizes = meta["layer_sizes"]
        memory.require(memory_needed(sizes, meta["dtype"], len(dataset)),
                       f"running layer sizes {sizes} on {len(dataset)} samples of {quoted(dataset.source)}")
        return cls(dataset, backend, meta["dtype"], sizes, params=params)

    def features(self, ds: data.Dataset):
        """``(n_pixels, n)`` array in this namespace: samples in columns, pixels in [0, 1] — the
        transpose of the ``(n, n_pixels)`` normalised images, a view, not a copy.

        In memory each sample stays one contiguous row (the array is Fortran-ordered), so the
        per-epoch shuffle gathers whole rows and each batch ``X[:, i:j]`` is one contiguous block;
        ``W @ X`` reads it as it is (BLAS's transpose flag). Made once per data set and kept."""
        if id(ds) not in self._features:  # the cache holds ds too, so its id cannot be reused
            rows = data.normalise(ds.images, ds.pixel_max, self.dtype_name)
            self._features[id(ds)] = (ds, self.to_namespace(rows, samples_axis=0).T)
        return self._features[id(ds)][1]

    def to_namespace(self, values: np.ndarray, samples_axis: int = -1):
        """A numpy array in this experiment's namespace; for dask, chunked along ``samples_axis``
        into blocks of ``chunk_size`` and persisted — sent to the workers once, where every step
        then finds it (otherwise each step's graph would carry the whole data set again)."""
        if self.backend != "dask":
            return self.xp.asarray(values)
        import dask.array as da

        chunks = list(values.shape)
        chunks[samples_axis] = self.chunk_size
        return da.from_array(values, chunks=tuple(chunks)).persist()

    def labels(self, ds: data.Dataset):
        return self.to_namespace(ds.labels)

    def fit(self, train_set: data.Dataset, val_set: data.Dataset, args) -> train.History:
        """Train with the options of ``nnkit train``; save a checkpoint after every good epoch.

        If training diverges, the checkpoint on disk is the one of the last good epoch."""
        self.lr = args.lr if args.lr is not None else optim.DEFAULT_LR[args.optimizer]
        self.batch_size = len(train_set) if args.optimizer == "gd" else args.batch_size
        Y = data.one_hot(self.labels(train_set), train_set.n_classes, dtype=self.dtype)
        if self.backend == "dask":
            Y = Y.persist()
        save = (lambda epoch, params, history: self.save(args.out, params, args, history)) if args.out else None
        validation = (self.features(val_set), self.labels(val_set)) if len(val_set) else None
        optimizer = optim.make(args.optimizer, self.lr)
        if self.backend == "dask":
            optimizer = _PersistingState(optimizer)
        try:
            self.params, history = train.fit(
                self.params, self.features(train_set), Y, optimizer,
                epochs=args.epochs, batch_size=self.batch_size, rng=self.rng, l2=args.l2,
                validation=validation, on_epoch=save, materialise=self._materialise(),
            )
        except train.Diverged as error:
            if args.out:
                kept = f"{args.out} holds the model of epoch {error.epoch - 1}" if error.epoch > 1 else f"nothing was written to {args.out}"
                error.args = (f"{error}; {kept}",)
            raise
        return history

    def profile_step(self, train_set: data.Dataset, args) -> list:
        """Record one training step (the first ``batch_size`` samples, a fresh optimizer, the result
        thrown away) on the instrumented backend; return the recorded operations. An unrecorded
        step runs first, so the record does not include BLAS waking its threads."""
        xp = self.xp
        n = min(self.batch_size, len(train_set))
        X = self.features(train_set)[:, :n]
        Y = data.one_hot(xp.asarray(train_set.labels[:n]), train_set.n_classes, dtype=self.dtype)
        train.train_step(self.params, X, Y, optim.make(args.optimizer, self.lr), args.l2)
        with xp.recording() as ops:
            train.train_step(self.params, X, Y, optim.make(args.optimizer, self.lr), args.l2)
        return ops

    def _materialise(self):
        """dask: compute each step's results together and keep them on the workers."""
        if self.backend != "dask":
            return None
        import dask

        return lambda *arrays: dask.persist(*arrays)

    def predict(self, ds: data.Dataset) -> np.ndarray:
        """Predicted class of every sample, as a numpy ``(n,)`` int array."""
        return np.asarray(to_numpy(model.predict(self.params, self.features(ds))), dtype=np.int64)

    def accuracy(self, ds: data.Dataset) -> float | None:
        return float((self.predict(ds) == ds.labels).mean()) if len(ds) else None

    def evaluate(self, splits) -> dict:
        names = ("train_accuracy", "val_accuracy", "test_accuracy")
        result = {name: self.accuracy(ds) for name, ds in zip(names, splits)}
        result.update(n_train=len(splits[0]), n_val=len(splits[1]), n_test=len(splits[2]))
        return result

    def meta(self) -> dict:
        ds = self.dataset
        return {
            "layer_sizes": self.sizes, "dtype": self.dtype_name, "classes": list(range(ds.n_classes)),
            "normalisation": {"kind": "divide by the format's largest pixel value", "pixel_max": ds.pixel_max},
            "image_shape": list(ds.image_shape),
        }

    def save(self, path: str, params, args, history: train.History) -> None:
        meta = self.meta()
        meta["training"] = {"data": self.dataset.source, "optimizer": args.optimizer, "lr": self.lr, "l2": args.l2,
                            "batch_size": self.batch_size, "seed": args.seed, "backend": self.backend,
                            "epochs_done": len(history.loss), "history": history.to_dict()}
        with files.naming("--out", path):
            checkpoint.save(path, {k: np.asarray(to_numpy(v)) for k, v in params.items()}, meta)

    def write_plots(self, directory: str, history: train.History, test_set: data.Dataset) -> list[str]:
        """Write the PNG figures of a finished run into ``directory``; return their paths."""
        from nnkit import plots

        os.makedirs(directory, exist_ok=True)
        predictions = self.predict(test_set)
        W1 = np.asarray(to_numpy(self.params["W1"]))
        with files.naming("--plots", directory):
            return [
                plots.training_curves(history, os.path.join(directory, "curves.png")),
                plots.confusion_matrix(test_set.labels, predictions, os.path.join(directory, "confusion.png")),
                plots.sample_predictions(test_set, predictions, os.path.join(directory, "predictions.png")),
                plots.first_layer_weights(W1, test_set.image_shape, os.path.join(directory, "weights.png")),
            ]


class _PersistingState:
    """An optimiser whose running averages (momentum's v, Adam's m and s) are persisted after each
    step on dask — left lazy, each step would recompute every earlier gradient."""

    def __init__(self, inner):
        self.inner = inner

    def step(self, params, grads):
        import dask

        new = self.inner.step(params, grads)
        for name in ("v", "m", "s"):
            state = getattr(self.inner, name, None)
            if isinstance(state, dict):  # one array per parameter (momentum's v)
                setattr(self.inner, name, dict(zip(state, dask.persist(*state.values()))))
            elif state is not None:  # one vector for all of them (Adam's m and s)
                setattr(self.inner, name, dask.persist(state)[0])
        return new
