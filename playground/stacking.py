"""Which runs the pool trains stacked with others (`stack_group`, in one worker), as a rule in data.

A run stacks when it can (`batched.why_not_batched` is None: no BatchNorm, Dropout or image data; its
device is here), when it trains at the fast pace from a fresh start (no checkpoint, no start_from,
nothing frozen, not started paused: a paused or paced run would leave its stack at once), and when
stacking pays on its device:

- on CUDA always: k runs' kernels become one launch;
- on the CPU only when an epoch has at least MIN_BATCHES_ON_CPU batches. `benchmarks/batching.py` on a
  2-core CPU, one torch thread: the full-batch default spiral is 0.35-0.64x as fast stacked (k runs'
  activations outgrow the caches, vmap's overhead is not amortised), the same runs with batch size 64
  (38 batches an epoch) 1.7x (k = 4), 2.7x (16) and 3.2x (32) as fast;
- and never when an epoch has more than MAX_BATCHES batches: a stacked epoch has no in-epoch progress
  reports, and a pause or stop waits for its end.

Runs with equal keys (`batch_key`: same layers, data, loss, batch size, optimizer type, device) join one
group of at most MAX_STACK runs (`schedule.may_host`); the group trains them stacked while at least
MIN_STACK of them train on, and each alone otherwise (`stack_group`). `$PLAYGROUND_STACK=0` turns stacking off
(`settings.stacking`). Knows nothing about workers or threads: the pool asks it with a config.
"""
from __future__ import annotations

from .budget import sample_counts
from .config import TrainConfig
from .pace import FAST

MAX_STACK = 32  # runs in one stack (the benchmark's largest k; memory grows with k)
MIN_BATCHES_ON_CPU = 4  # a CPU epoch needs this many batches for stacking to pay
MAX_BATCHES = 256  # a longer epoch trains alone (live in-epoch reports, a quick pause)
# A stack trains only while at least this many of its runs train on; fewer train alone. On the CPU
# (benchmarks/batching.py, batch 64) one stacked run is ~0.3x as fast as alone, four 1.2-1.7x.
MIN_STACK = {"cpu": 4, "cuda": 2}


def min_stack(key: tuple) -> int:
    """The fewest runs a stack of `key` (`batched.batch_key`, whose last item is the device) trains."""
    return MIN_STACK["cuda" if key[-1].startswith("cuda") else "cpu"]


def why_not_stacked(config: TrainConfig, options: dict | None = None, initial_state: dict | None = None,
                    paused: bool = False) -> str | None:
    """Why the pool trains this run alone, or None when it may join a stack."""
    from .batched import why_not_batched

    options = options or {}
    if options.get("pace", FAST) != FAST:
        return "only runs at the fast pace stack"
    if initial_state is not None or paused:
        return "a run from a checkpoint or started paused trains alone"
    if config.start_from or config.freeze:  # the stacked path starts fresh and trains every weight
        return "a run that starts from a saved model or freezes layers trains alone"
    problem = why_not_batched(config)
    if problem:
        return problem
    return _batch_problem(config)


def _batch_problem(config: TrainConfig) -> str | None:
    """Whether stacking pays for this run's batch plan on its device."""
    from .batched import batch_key
    from .engine import _batch_starts

    try:
        device = batch_key(config)[-1]
    except ValueError as error:  # its device is missing on this server
        return str(error)
    batches = len(_batch_starts(sample_counts(config)[0], config.batch_size))
    if batches > MAX_BATCHES:
        return f"an epoch of {batches} batches trains alone (over {MAX_BATCHES}: no live in-epoch progress stacked)"
    if not device.startswith("cuda") and batches < MIN_BATCHES_ON_CPU:
        return (f"on the CPU an epoch of {batches} batch(es) is slower stacked "
                f"(stacking pays from {MIN_BATCHES_ON_CPU} batches an epoch)")
    return None


def stack_key(config: TrainConfig, options: dict | None = None, initial_state: dict | None = None,
              paused: bool = False) -> tuple | None:
    """The key of the stacks this run may join, or None when it trains alone."""
    from .batched import batch_key

    if why_not_stacked(config, options, initial_state, paused):
        return None
    return batch_key(config)
