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

The hash, in 64-bit unsigned arithmetic that wraps around:

- the salt of an epoch is ``(epoch * MIX_2) ^ seed``;
- unit ``j`` (counted from 1) of layer ``l`` has the offset
  ``(j * GOLDEN) ^ l``, which decorrelates the units of a row;
- ``bits = key ^ salt ^ offset`` goes through splitmix64's finaliser:
  ``bits ^= bits >> 30; bits *= MIX_1; bits ^= bits >> 27; bits *= MIX_2;
  bits ^= bits >> 31``;
- the unit is kept when its top 53 bits, as a fraction of ``2^53``, are at
  least ``p``.

:class:`Dropout` computes it on the host in NumPy's ``uint64``.
:class:`PortableDropout` computes it where a fit's data live (a GPU, say) in
``int64``, which every array-API library has, whereas unsigned 64-bit support
is patchy (PyTorch's lacks most operators). In two's complement, xor and
multiplication give the same 64 bits in either type, and a logical right
shift by ``s`` is the arithmetic one with the ``s`` copies of the sign bit
masked off; the two classes' masks are therefore equal bit for bit.
"""

from typing import Any, NamedTuple

import numpy as np

__all__ = ["Dropout", "DropoutBatch", "PortableDropout"]

_GOLDEN = 0x9E3779B97F4A7C15
_MIX_1 = 0xBF58476D1CE4E5B9
_MIX_2 = 0x94D049BB133111EB
_UINT64 = 2**64


def _salt(epoch, seed):
    """The epoch's salt ``(epoch * MIX_2) ^ seed`` modulo ``2^64``, as an int."""
    return ((int(epoch) * _MIX_2) % _UINT64) ^ int(seed)


def _unit_offsets(widths):
    """Each hidden layer's unit offsets ``(j * GOLDEN) ^ layer``, uint64."""
    return [
        (np.arange(1, width + 1, dtype=np.uint64) * np.uint64(_GOLDEN))
        ^ np.uint64(layer)
        for layer, width in enumerate(widths)
    ]


def _threshold(rate):
    """The least top-53-bit value of a kept unit: ``p * 2^53``, rounded down."""
    return int(rate * 2.0**53)


def _as_int64(value):
    """The int64 value with the 64 bits of the unsigned ``value``."""
    value %= _UINT64
    return value - _UINT64 if value >= _UINT64 // 2 else value


def _logical_shift(bits, shift):
    """``bits >> shift`` on uint64 bits held as int64.

    The arithmetic shift copies the sign bit into the top ``shift`` bits; the
    mask clears them, which leaves a non-negative int64.
    """
    return (bits >> shift) & ((1 << (64 - shift)) - 1)


class Dropout:
    """Draws inverted-dropout masks for the hidden layers, on the host.

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
    """

    def __init__(self, rates, seed, widths, batch_size):
        self.rates = tuple(float(r) for r in rates)
        self.seed = np.uint64(seed)
        widest = max(widths, default=1)
        self._bits = np.empty(batch_size * widest, dtype=np.uint64)
        self._shifted = np.empty(batch_size * widest, dtype=np.uint64)
        self._unit_offsets = _unit_offsets(widths)

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
        salt = np.uint64(_salt(epoch, self.seed))
        # The uint64 products wrap around, as the hash intends.
        with np.errstate(over="ignore"):
            np.bitwise_xor(keys[:, None] ^ salt, self._unit_offsets[layer], out=bits)
            for shift, factor in ((30, _MIX_1), (27, _MIX_2)):
                np.right_shift(bits, np.uint64(shift), out=shifted)
                bits ^= shifted
                bits *= np.uint64(factor)
            np.right_shift(bits, np.uint64(31), out=shifted)
            bits ^= shifted
        rate = self.rates[layer]
        np.right_shift(bits, np.uint64(11), out=bits)
        np.greater_equal(bits, np.uint64(_threshold(rate)), out=out)
        out *= 1.0 / (1.0 - rate)
        return out


class PortableDropout:
    """The masks of :class:`Dropout`, computed in an array space (a GPU, say).

    The hash runs in the namespace's int64 arithmetic, so a batch's masks are
    computed where its rows are, and equal :class:`Dropout`'s bit for bit.

    Parameters
    ----------
    rates : sequence of float
        Drop probability of each hidden layer, in [0, 1).
    seed : int
        Seed mixed into every key, drawn from the estimator's
        ``random_state``.
    widths : sequence of int
        Units of each hidden layer.
    dtype : numpy dtype
        Floating dtype of the masks.
    space : ArraySpace
        Namespace and device of the keys and the masks.
    """

    def __init__(self, rates, seed, widths, dtype, space):
        self.rates = tuple(float(r) for r in rates)
        self.seed = int(seed)
        self.space = space
        self.dtype = space.dtype(dtype)
        self._unit_offsets = [
            space.asarray(offsets.view(np.int64)) for offsets in _unit_offsets(widths)
        ]

    def keys_in_space(self, keys):
        """Host row keys (uint64) as int64 keys of the same bits in the space."""
        return self.space.asarray(np.asarray(keys, dtype=np.uint64).view(np.int64))

    def mask(self, layer, keys, epoch):
        """The scaled mask (0 or ``1 / (1 - p)``) of one layer.

        Parameters
        ----------
        layer : int
            Hidden-layer index.
        keys : array of shape (n,), dtype int64
            Row keys of the batch, from :meth:`keys_in_space`.
        epoch : int
            Epoch counter; every epoch draws new masks.

        Returns
        -------
        mask : array of shape (n, width)
        """
        # Constants go in as Python ints within int64's range, which every
        # namespace takes as int64 scalars.
        bits = keys[:, None] ^ _as_int64(_salt(epoch, self.seed))
        bits = bits ^ self._unit_offsets[layer]
        for shift, factor in ((30, _MIX_1), (27, _MIX_2)):
            bits = (bits ^ _logical_shift(bits, shift)) * _as_int64(factor)
        bits = bits ^ _logical_shift(bits, 31)
        rate = self.rates[layer]
        kept = _logical_shift(bits, 11) >= _threshold(rate)
        return self.space.xp.astype(kept, self.dtype) * (1.0 / (1.0 - rate))


class DropoutBatch(NamedTuple):
    """The dropout of one batch: the masks of its rows in one epoch.

    ``dropout`` is a :class:`Dropout` with host keys (``fill_mask``) or a
    :class:`PortableDropout` with keys in its space (``mask``).
    """

    dropout: Dropout | PortableDropout
    keys: Any
    epoch: int

    def fill_mask(self, layer, out):
        """Write the batch's mask of hidden layer ``layer`` into ``out``."""
        return self.dropout.fill_mask(layer, self.keys, self.epoch, out)

    def mask(self, layer):
        """The batch's mask of hidden layer ``layer``, in the keys' space."""
        return self.dropout.mask(layer, self.keys, self.epoch)
