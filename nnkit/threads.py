"""How many BLAS threads training gets: ``--threads N``, or a choice made from the sizes of the
matrix products and the cores other processes use, said with its reason.

OpenBLAS's ``gemm`` (``interface/gemm.c``) asks for a unit of ``65 536 × GEMM_MULTITHREAD_THRESHOLD`` multiply-adds
per thread — 262 144 = 64³ with the build option's default, 4. Since 0.3.27 (OpenBLAS commit a3354a763, "Cap the
number of parallel threads") a product of ``m·n·k`` multiply-adds runs on ``⌊m·n·k ÷ 262 144⌋`` threads, at most the
cores, and on one up to a whole unit: so on one thread while ``m·n·k < 524 288`` (two units; before 0.3.27 it took all
cores from one unit on). That is a necessary condition for a second thread, not a sufficient one: builds with a
small-matrix kernel, such as numpy's SkylakeX one, keep products up to about 100³ on one thread too — tutorial 6
measures where this machine's library switches, for square products; a training step's are thin (two sizes the
network's, one the batch), and rule 3 times them. A second thread that is allowed waits, spinning, for a core — on a
busy machine for a whole time slice, which is how small products become many times slower. So:

1. a busy machine — other processes leave less than ``cores − 0.5`` free over a tenth of a second, so a
   second thread would find no core most of the time: 1 thread. Counted as other processes: the
   kernel's busy ticks (``/proc/stat``) less this process's own (its BLAS helpers spinning after a
   product included). Not counted: ``iowait`` (an idle core) and ``steal`` (time the hypervisor gave
   to other guests: it slows this machine's cores, it is no process a second thread would queue
   behind — rule 3's timing sees what it costs);
2. every product of a training step under 524 288 multiply-adds: 1 thread (OpenBLAS would use one for them
   anyway; allowing two would only let the larger validation products spin one);
3. otherwise the step's products are timed on 1 thread and on all in ``PAIRS`` alternating pairs
   (:func:`nnkit.bench.timing.paired`, each half one run of the products, so that a busy moment cannot stretch
   the choice past a few dozen runs: on an idle 2-core machine a few milliseconds in all), after one warm-up
   pair that is timed and printed but left out — in a fresh process the first timed run on all threads can take
   ~100× the later ones even after an untimed run, and one such pair would widen the spread past any decision;
   the median of the pairs' ratios (all ÷ 1), widened both ways by the pairs' own spread
   (:func:`nnkit.bench.verdicts.spread`), is placed by the book's one rule (:func:`nnkit.bench.verdicts.place`)
   against ``MARKS``, 0.9× and 1×: all cores only when that whole range lies
   below 0.9× — clearly faster; otherwise 1 thread, the cheaper default, and the words say where the range lies:
   wholly at or above 1× — slower; wholly at or above 0.9× (reaching 1× or not) — not clearly faster; reaching
   below 0.9× — not settled. Decided from the median and the spread as printed (3 decimals, a whole percent), so that
   the reason's own figures always show the rule. One timing a side is not enough here: on a 2-vCPU virtual
   machine the same step measured 1.145× in one run and 0.720× in the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from nnkit.bench import verdicts
from nnkit.bench.timing import paired
from nnkit.plots import decimals_text

OPENBLAS_THREAD_UNIT = 65_536 * 4
"""Multiply-adds per thread OpenBLAS's ``gemm`` asks for: ``SMP_THRESHOLD_MIN`` (65 536, real types) ×
``GEMM_MULTITHREAD_THRESHOLD``, a build option whose default is 4 — 64³ (``interface/gemm.c``)."""

OPENBLAS_ONE_THREAD_BELOW = 2 * OPENBLAS_THREAD_UNIT
"""OpenBLAS (0.3.27 on, the default threshold) runs ``gemm`` on one thread while ``m·n·k`` is below this: two units."""

GENERIC_RULE = (f"OpenBLAS 0.3.27 and later, built with the default GEMM_MULTITHREAD_THRESHOLD (4), give a product "
                f"⌊m·n·k ÷ {OPENBLAS_THREAD_UNIT:,}⌋ threads ({OPENBLAS_THREAD_UNIT:,} = 65,536 × 4 = 64³), at most the "
                f"cores, so one while m·n·k < {OPENBLAS_ONE_THREAD_BELOW:,}")
"""The rule nnkit's own threshold follows, carried in full by :attr:`Choice.rule` (tutorial 6 fits it, or another, to
this machine)."""


def openblas_threads(mnk: int, cores: int) -> int:
    """The threads OpenBLAS's generic rule (0.3.27 on, default threshold) gives a ``gemm`` of ``mnk`` multiply-adds
    on ``cores`` cores: one up to a unit, else ``⌊mnk ÷ unit⌋``, at most ``cores`` (builds with a small-matrix
    kernel keep some larger products on one thread)."""
    return 1 if mnk <= OPENBLAS_THREAD_UNIT else max(1, min(cores, mnk // OPENBLAS_THREAD_UNIT))


@dataclass(frozen=True)
class Choice:
    """``threads`` for the BLAS libraries and why: ``reason``, the decision's reason in a few words (the first
    line printed); ``detail``, the figures behind it, one printed line each; ``rule``, OpenBLAS's rule the choice
    follows, said in full (the same on every run, so only ``--json`` carries it; empty where it played no part)."""

    threads: int
    reason: str
    detail: tuple[str, ...] = ()
    rule: str = ""

    def to_dict(self) -> dict:
        return {"threads": self.threads, "reason": self.reason, "detail": list(self.detail), "rule": self.rule}

    def said(self, label: str = "threads:") -> str:
        """The lines printed: ``label N (reason)``, then each of ``detail`` two columns further in — every line
        wrapped at the tutorials' 118 columns (:func:`nnkit.tutorials.fit`)."""
        from nnkit.tutorials import fit

        indent = " " * (len(label) - len(label.lstrip(" ")))
        return fit("\n".join([f"{label} {self.threads} ({self.reason})", *(f"{indent}  {line}" for line in self.detail)]))


def step_products(sizes: list[int], batch: int) -> list[tuple[int, int, int]]:
    """``(m, n, k)`` of every matrix product of one training step of a network with layer sizes
    ``sizes`` on ``batch`` samples: ``W_l @ A`` forward, ``dZ @ A.T`` and ``W_l.T @ dZ`` backward."""
    products = []
    for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        products += [(n_out, batch, n_in), (n_out, n_in, batch)] + ([(n_in, batch, n_out)] if l else [])
    return products


CLEAR_GAIN = 0.9  # all cores only when their time's whole range lies below 90 % of one core's: a tie is noise,
                  # and a second thread is what collapses when the machine gets busy later

SLOWER = 1.0  # a range wholly at or above this: two threads took longer than one

MARKS = (CLEAR_GAIN, SLOWER)

_WORDS = {  # (the region of the range's low end, of its high end, against MARKS) → the verdict, where the range lies
    (0, 0): ("clearly faster", f"all below {CLEAR_GAIN:.2f}×"),
    (0, 1): ("not settled", f"below {SLOWER:.2f}×, spanning {CLEAR_GAIN:.2f}×"),
    (0, 2): ("not settled", f"spanning {CLEAR_GAIN:.2f}× and {SLOWER:.2f}×"),
    (1, 1): ("not clearly faster", f"all at or above {CLEAR_GAIN:.2f}× and below {SLOWER:.2f}×"),
    (1, 2): ("not clearly faster", f"all at or above {CLEAR_GAIN:.2f}×, spanning {SLOWER:.2f}×"),
    (2, 2): ("slower", f"all at or above {SLOWER:.2f}×"),
}

PAIRS = 9  # alternating pairs the choice times: a median and a spread, not one timing a side


FREE_FOR_A_SECOND_THREAD = 1.5  # cores other processes must leave free: one for the caller, most of one more


@dataclass(frozen=True)
class Load:
    """What the cores did over ``seconds``: ``others`` cores used by other processes, ``steal``
    cores the hypervisor held back (given to other guests), of ``cores``; ``source`` says how."""

    others: float
    steal: float
    seconds: float
    cores: int
    source: str = "/proc/stat"
    busiest: tuple[str, float] | None = None  # the other process that used the most, and its cores

    def __str__(self) -> str:
        if self.source != "/proc/stat":
            return f"the one-minute load average less this process: {self.others:.1f} of {self.cores} cores"
        stolen = f", the host held back {self.steal:.1f} more (steal)" if self.steal >= 0.05 else ""
        most = f" ({_busiest_said(self.busiest, self.others)})" if self.busiest and self.others >= 0.05 else ""
        return f"other processes used {self.others:.1f} of {self.cores} cores over {self.seconds:.1f} s{most}{stolen}"


def _busiest_said(busiest: tuple[str, float], others: float) -> str:
    """The busiest other process and its share. Its own ticks are counted a whole tick at a time
    (10 ms) over a window of only ``seconds``, so they may come out above ``others`` (all of them,
    counted from /proc/stat): then it used all or nearly all of them, and no number is printed."""
    name, cores = busiest
    return f"most: {name}, {cores:.1f}" if cores < 0.9 * others else f"nearly all of it: {name}"


def load(seconds: float = 0.1) -> Load:
    """The cores other processes used over the next ``seconds``: from ``/proc/stat`` (Linux), the
    busy ticks less this process's own, with ``iowait`` counted idle and ``steal`` apart; elsewhere
    the one-minute load average less the one core this process is running on."""
    cores = os.cpu_count() or 1
    try:
        start, processes, before, mine_before = time.monotonic(), _process_ticks(), _stat_fields(), _own_ticks()
        time.sleep(seconds)
        after, mine_after, later, window = _stat_fields(), _own_ticks(), _process_ticks(), time.monotonic() - start
    except OSError:
        return Load(max(0.0, os.getloadavg()[0] - 1), 0.0, 60.0, cores, "load average")
    seen = ticks_to_load([a - b for a, b in zip(after, before)], mine_after - mine_before, seconds, cores)
    used = {pid: (name, ticks - processes[pid][1]) for pid, (name, ticks) in later.items() if pid in processes}
    pid, (name, ticks) = max(used.items(), key=lambda item: item[1][1], default=(0, ("", 0)))
    return seen if not ticks else dataclasses.replace(
        seen, busiest=(f"{name} (pid {pid})", ticks / os.sysconf("SC_CLK_TCK") / window))


def ticks_to_load(delta: list[int], mine: float, seconds: float, cores: int) -> Load:
    """:class:`Load` from the change of ``/proc/stat``'s first eight fields (user nice system idle
    iowait irq softirq steal, in ticks of all ``cores``) and this process's own ``mine`` ticks."""
    user, nice, system, idle, iowait, irq, softirq, steal = delta[:8]
    busy = user + nice + system + irq + softirq
    total = max(busy + idle + iowait + steal, 1)
    others = max(0.0, busy - max(mine, 0.0))
    return Load(cores * others / total, cores * steal / total, seconds, cores)


def _own_ticks() -> float:
    """Clock ticks of CPU this process (all its threads) has used."""
    times = os.times()
    return (times.user + times.system) * os.sysconf("SC_CLK_TCK")


def _process_ticks() -> dict[int, tuple[str, int]]:
    """Every other process's name and clock ticks of CPU used so far (/proc/PID/stat); unreadable ones left out."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    head, _, tail = stat.read().rpartition(")")
            except OSError:
                continue
            fields = tail.split()
            found[int(entry)] = (head.partition("(")[2], int(fields[11]) + int(fields[12]))  # utime + stime
    return found


def _stat_fields() -> list[int]:
    """The first eight fields of /proc/stat's ``cpu`` line: ticks of all CPUs since boot."""
    with open("/proc/stat") as stat:
        return [int(v) for v in stat.readline().split()[1:9]]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; all the machine's where that is not known)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def choose(sizes: list[int], batch: int, dtype: str = "float32", requested: int | None = None) -> Choice:
    """The threads to train a network of layer ``sizes`` with minibatches of ``batch`` in ``dtype``:
    ``requested`` (``--threads``) if given, else by the rules of this module's docstring."""
    cores = usable_cores()
    if requested is not None:
        more = f", more than the {cores} core{'s' * (cores > 1)} this process may use: threads will take turns" if requested > cores else ""
        return Choice(requested, f"--threads {requested}{more}")
    if cores < 2:
        return Choice(1, "one core available")
    seen = load()
    if seen.cores - seen.others < FREE_FOR_A_SECOND_THREAD:
        return Choice(1, "no core is free for a second BLAS thread: it would share one", (str(seen),))
    m, n, k = max(step_products(sizes, batch), key=lambda p: p[0] * p[1] * p[2])
    mnk = m * n * k
    if openblas_threads(mnk, cores) == 1:  # m·n·k < OPENBLAS_ONE_THREAD_BELOW, as cores ≥ 2
        return Choice(1, f"every product of a step is under {OPENBLAS_ONE_THREAD_BELOW:,} multiply-adds: "
                         f"OpenBLAS runs it on one thread",
                      (f"the largest: {m}·{n}·{k} = {mnk:,} multiply-adds (rule: --json)",), GENERIC_RULE)
    pairs = time_products(step_products(sizes, batch), dtype, cores)
    threads, said = decide(pairs["ratios"], cores)
    return Choice(threads, said, (
        f"medians {decimals_text(pairs['plain'] * 1e6, 0, 3)} µs on 1 thread, {decimals_text(pairs['other'] * 1e6, 0, 3)} µs on {cores} "
        f"(their own quotient {pairs['other'] / pairs['plain']:.3f}×), pairs spread {_spread(pairs['ratios']):.0%}{_warm_up_said(pairs.get('warm_up'))}; {seen}",
        f"timed: OpenBLAS may run the largest, {m}·{n}·{k} = {mnk:,} multiply-adds, on {openblas_threads(mnk, cores)} "
        f"threads (rule: --json)"), GENERIC_RULE)


def _warm_up_said(ratio: float | None) -> str:
    """The warm-up pair's ratio (all ÷ 1), said as left out of the choice; nothing where none was timed."""
    return "" if ratio is None else f" (a warm-up pair before them, left out: {decimals_text(ratio, 2, 3)}×)"


def _spread(ratios: list[float]) -> float:
    """The pairs' spread as the choice reads and prints it: a whole percent."""
    return round(verdicts.spread(ratios), 2)


def decide(ratios: list[float], cores: int) -> tuple[int, str]:
    """The threads and the words for the pairs' ``ratios`` (time on ``cores`` threads ÷ time on 1, one per pair):
    their median (3 decimals) widened by their spread (a whole percent), as printed, placed against ``MARKS`` — all
    cores only when the whole range lies below ``CLEAR_GAIN``; the words say where each end of it lies."""
    ratio, noise = round(statistics.median(ratios), 3), _spread(ratios)
    region, (low, high) = verdicts.place(ratio, MARKS, noise=noise)
    verdict, side = _WORDS[verdicts.place(low, MARKS)[0], verdicts.place(high, MARKS)[0]]
    return cores if region == 0 else 1, (
        f"{verdict}: {cores} threads ÷ 1 = {ratio:.3f}× the time, the median ratio of {len(ratios)} pairs, range "
        f"{verdicts.span(low, high, MARKS)}, {side}")


def time_products(products: list[tuple[int, int, int]], dtype: str, threads: int, pairs: int = PAIRS) -> dict:
    """All ``products`` (random ``dtype`` matrices) timed on 1 thread and on ``threads`` in ``pairs`` alternating
    pairs, one run of them a side: :func:`nnkit.bench.timing.paired`'s dict (``plain`` 1 thread, ``other``
    all, seconds per run of the products; ``ratios`` all ÷ 1, one per pair), and ``warm_up``, the ratio of one
    pair timed before them and left out. Each switch to all threads runs the products once untimed first, so the
    pool is awake when the clock starts; even so, in a fresh process the first timed run on all threads can take
    ~100× the later ones (the pool's first work), so the first pair is a warm-up: timed, shown, not counted."""
    from threadpoolctl import ThreadpoolController

    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=dtype), rng.random((k, n), dtype=dtype)) for m, n, k in products]
    controller = ThreadpoolController()

    def run() -> None:
        for A, B in operands:
            A @ B

    @contextlib.contextmanager
    def on_all():
        with controller.limit(limits=threads):
            run()
            yield

    with controller.limit(limits=1):
        first = paired(run, run, 1, min_time=0.0, around_other=on_all)
        return {**paired(run, run, pairs, min_time=0.0, around_other=on_all), "warm_up": first["ratio"]}


@contextlib.contextmanager
def limited(threads: int):
    """Every BLAS library threadpoolctl finds held to ``threads`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield
