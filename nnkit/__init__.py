"""nnkit — a neural network from scratch, and the memory and BLAS calls underneath it.

The network (:mod:`nnkit.model`) is written once against the Python array API and runs on
any namespace :mod:`nnkit.backends` supplies. Importing ``nnkit`` loads nothing heavy.
"""

__version__ = "0.1.0"
