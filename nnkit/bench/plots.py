"""PNG figures of a benchmark run (matplotlib, Agg): one per suite that has something to draw."""

from __future__ import annotations

import os

from nnkit.plots import _figure, _save


def write(results: dict, directory: str) -> list[str]:
    """Write the figures for ``results`` (as ``nnkit bench --json`` returns them) into ``directory``."""
    os.makedirs(directory, exist_ok=True)
    drawers = {"dgemm_paths": dgemm_paths, "libraries": libraries, "overhead": overhead, "training": training}
    return [drawers[name](results[name], results.get("peak"), os.path.join(directory, f"{name}.png"))
            for name in drawers if name in results]


def dgemm_paths(result: dict, peak: dict | None, path: str) -> str:
    layouts = sorted({r["layout"] for r in result["rows"]}, key=["C", "F", "transposed", "row-sub"].index)
    threads = sorted({r["threads"] for r in result["rows"]})
    fig, axes = _figure(len(threads), len(layouts), figsize=(3.2 * len(layouts), 3.2 * len(threads)), squeeze=False, sharey=True)
    for i, t in enumerate(threads):
        for j, layout in enumerate(layouts):
            ax, rows = axes[i][j], [r for r in result["rows"] if r["threads"] == t and r["layout"] == layout]
            for road in result["paths"]:
                ax.plot([r["n"] for r in rows], [r[f"{road} GFLOP/s"] for r in rows], marker="o", label=road)
            if peak:
                ax.axhline(peak["one_thread" if t == 1 else "all_threads"]["gflops"], color="grey", ls="--", label="measured peak")
            ax.set(xscale="log", xlabel="N (N×N · N×N)", title=f"{layout}, {t} thread{'s' * (t > 1)}")
            ax.grid(alpha=0.3)
        axes[i][0].set_ylabel("GFLOP/s (2N³ / median time)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("One product, four roads to numpy's OpenBLAS")
    return _save(fig, path)


def libraries(result: dict, peak: dict | None, path: str) -> str:
    sizes = sorted({r["n"] for r in result["rows"]})
    names = list(dict.fromkeys(r["library"] for r in result["rows"]))
    fig, ax = _figure(figsize=(8, 4))
    width = 0.8 / len(sizes)
    for i, n in enumerate(sizes):
        values = [next(r["GFLOP/s"] for r in result["rows"] if r["n"] == n and r["library"] == name) for name in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=f"N = {n}")
    if peak:
        ax.axhline(peak["all_threads"]["gflops"], color="grey", ls="--", label="measured peak, all cores")
        ax.axhline(peak["one_thread"]["gflops"], color="grey", ls=":", label="measured peak, 1 core")
    ax.set(xticks=[x + width * (len(sizes) - 1) / 2 for x in range(len(names))], xticklabels=names,
           ylabel="GFLOP/s", title="dgemm through the bridge, each library with its default threads")
    ax.legend(fontsize=8)
    return _save(fig, path)


def overhead(result: dict, peak: dict | None, path: str) -> str:
    fig, ax = _figure(figsize=(7, 4))
    roads = [k[:-3] for k in result["rows"][0] if k.endswith(" µs")]
    for road in roads:
        ax.plot([r["n"] for r in result["rows"]], [r[f"{road} µs"] for r in result["rows"]], marker="o", label=road)
    ax.set(xscale="log", yscale="log", xlabel="N (N×N · N×N)", ylabel="µs per call (median)", title="The cost of one call on tiny matrices")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def training(result: dict, peak: dict | None, path: str) -> str:
    fig, ax = _figure(figsize=(7, 4))
    rows = result["minibatch"]
    names = [k[: -len(" samples/s")] for k in rows[0] if k.endswith(" samples/s")]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ax.bar([x + i * width for x in range(len(rows))], [r[f"{name} samples/s"] for r in rows], width, label=name)
    ax.set(xticks=[x + width * (len(names) - 1) / 2 for x in range(len(rows))], xticklabels=[r["dtype"] for r in rows],
           ylabel="samples per second", title="784-128-10 training steps, batch 256")
    ax.legend(fontsize=8)
    return _save(fig, path)
