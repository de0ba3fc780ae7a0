"""``nnkit bench``: measurements printed side by side, as medians and ratios from one run.

Each suite is a module with ``run(quick: bool, say, results: dict) -> dict`` (``results`` holds the
suites that ran before it, e.g. the peak); :data:`SUITES` lists them in the order they run. Speed
is measured here, never asserted in tests (these machines are noisy).
"""

SUITES = ["peak", "bandwidth", "overhead", "dgemm_paths", "libraries", "kernels", "training", "time_to_accuracy",
          "instrumentation",
          "dask_scaling"]
