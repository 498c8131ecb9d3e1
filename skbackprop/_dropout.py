"""Inverted dropout with masks keyed on the sample, not on the batch.

During training each hidden unit's output is kept with probability ``1 - p``
and scaled by ``1 / (1 - p)`` (inverted dropout), so prediction, which uses no
mask, needs no rescaling and is deterministic.

Masks come from a counter-based hash of (the row's content, the epoch, the
layer, the unit, a seed drawn from ``random_state``) instead of a stream of
random numbers. A row therefore gets the same mask wherever it sits in a batch,
and repeated rows share it: a sample weight of ``k`` behaves exactly like ``k``
copies of the sample, as scikit-learn's estimator contract requires, and the
masks of an epoch do not depend on the batch size or the shuffling.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["Dropout", "DropoutBatch"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


class Dropout:
    """Draws inverted-dropout masks for the hidden layers.

    Parameters
    ----------
    rates : sequence of float
        Drop probability of each hidden layer, in [0, 1).
    seed : int
        Seed mixed into every key, drawn from the estimator's
        ``random_state``.
    widths : sequence of int
        Units of each hidden layer.
    batch_size : int
        Largest batch.
    dtype : numpy dtype
        Dtype of the masks.
    """

    def __init__(self, rates, seed, widths, batch_size, dtype):
        self.rates = tuple(float(r) for r in rates)
        self.seed = np.uint64(seed)
        widest = max(widths, default=1)
        self._bits = np.empty(batch_size * widest, dtype=np.uint64)
        self._shifted = np.empty(batch_size * widest, dtype=np.uint64)
        # Unit offsets decorrelate the units of a row; layers get their own.
        self._unit_offsets = [
            (np.arange(1, width + 1, dtype=np.uint64) * _GOLDEN) ^ np.uint64(layer)
            for layer, width in enumerate(widths)
        ]

    def fill_mask(self, layer, keys, epoch, out):
        """Write the scaled mask (0 or ``1 / (1 - p)``) of one layer into ``out``.

        Parameters
        ----------
        layer : int
            Hidden-layer index.
        keys : ndarray of shape (n,), dtype uint64
            Row keys of the batch, from :func:`~skbackprop._rows.row_keys`.
        epoch : int
            Epoch counter; every epoch draws new masks.
        out : ndarray of shape (n, width)
            Float buffer for the mask.

        Returns
        -------
        out : ndarray
        """
        n, width = out.shape
        bits = self._bits[: n * width].reshape(n, width)
        shifted = self._shifted[: n * width].reshape(n, width)
        # splitmix64 finaliser of (key, epoch, seed, layer, unit): the uint64
        # arithmetic wraps around, as the hash intends.
        with np.errstate(over="ignore"):
            salt = (np.uint64(epoch) * _MIX_2) ^ self.seed
            np.bitwise_xor(keys[:, None] ^ salt, self._unit_offsets[layer], out=bits)
            for shift, factor in ((30, _MIX_1), (27, _MIX_2)):
                np.right_shift(bits, np.uint64(shift), out=shifted)
                bits ^= shifted
                bits *= factor
            np.right_shift(bits, np.uint64(31), out=shifted)
            bits ^= shifted
        # Keep a unit when its top 53 bits, as a fraction of 2^53, are >= p.
        rate = self.rates[layer]
        np.right_shift(bits, np.uint64(11), out=bits)
        threshold = np.uint64(int(rate * 2.0**53))
        np.greater_equal(bits, threshold, out=out)
        out *= 1.0 / (1.0 - rate)
        return out


class DropoutBatch(NamedTuple):
    """The dropout of one batch: the masks of its rows in one epoch."""

    dropout: Dropout
    keys: np.ndarray
    epoch: int

    def fill_mask(self, layer, out):
        """Write the batch's mask of hidden layer ``layer`` into ``out``."""
        return self.dropout.fill_mask(layer, self.keys, self.epoch, out)
