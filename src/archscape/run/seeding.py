"""The one seeding scheme of archscape runs.

Every trial draws from its own generators, derived from the study seed, the
optimizer's label and the trial index only::

    SeedSequence(seed, spawn_key=(crc32(label), trial))  ->  spawn(2)  ->  (optimizer, noise)

So trial *i* of an optimizer follows the same trajectory run alone, in a
batch, serially, in parallel or resumed, and adding another optimizer to a
study changes none of the others.  The optimizer generator drives every
random choice of the strategy; the noise generator draws, per evaluation and
in order, the one uniform number that picks the benchmark's training seed.
"""

from __future__ import annotations

import zlib

import numpy as np


def label_key(label: str) -> int:
    """A stable 32-bit number for an optimizer label (``hash()`` is salted per process)."""
    return zlib.crc32(label.encode("utf-8"))


def trial_generators(seed: int, label: str, trial: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(optimizer generator, noise generator) of one trial."""
    root = np.random.SeedSequence(seed, spawn_key=(label_key(label), trial))
    opt_seq, noise_seq = root.spawn(2)
    return np.random.default_rng(opt_seq), np.random.default_rng(noise_seq)
