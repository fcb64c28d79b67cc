"""The convolution layers' contract (notebook 6), and what the course provides beside them.

Notebook 6 asks you to write the convolution and pooling layers (naive and
fast), im2col and col2im, spatial batch norm and group norm: their one home
is the notebook's answer cells.  This module holds the contract they follow,
the output-size rule every one of them checks, and DropBlock, which no
notebook asks for (the notebook's regularization experiment uses it).

Images are ``(N, C, H, W)``: N examples, C channels, height H, width W.
Filters are ``(F, C, HH, WW)``: F filters, each spanning all C input
channels over an HH x WW window.  Every layer keeps the course's contract
(``assignments.layers``): ``forward(x, ...) -> (out, cache)`` and
``backward(dout, cache) -> gradients in the order of forward's inputs``;
hyperparameters are plain keyword arguments.

    conv_forward_naive(x, w, b, stride=1, pad=0) -> (out, cache)
    conv_backward_naive(dout, cache) -> (dx, dw, db)
    conv_forward_fast / conv_backward_fast         the same, on im2col
    max_pool_forward_naive(x, pool_height=2, pool_width=2, stride=2) -> (out, cache)
    max_pool_backward_naive(dout, cache) -> dx
    max_pool_forward_fast / max_pool_backward_fast the same, on reshapes or im2col
    im2col(x, field_height, field_width, stride=1, pad=0) -> cols
    col2im(cols, x_shape, field_height, field_width, stride=1, pad=0) -> dx
    spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, mode="train",
                              eps=1e-5, momentum=0.9) -> (out, cache, (mean, var))
    spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
    spatial_groupnorm_forward(x, gamma, beta, G, eps=1e-5) -> (out, cache)
    spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)

Here:

    conv_output_size(size, field, stride=1, pad=0) -> the output size along one axis
    conv_output_shape(x_shape, w_shape, stride=1, pad=0) -> (N, F, H', W')
    pool_output_shape(x_shape, pool_height=2, pool_width=2, stride=2) -> (N, C, H', W')
    dropblock_forward(x, keep_prob, block_size, mode="train", rng=None) -> (out, cache)

DropBlock's backward pass is dropout's (notebook 5's ``dropout_backward``):
its cache is a scaled mask as dropout's is, and ``dx = dout * mask``.

Caches (fixed, so that each backward pass is tested on caches built by the
checks, and a fast backward accepts a naive forward's cache and vice versa):

    conv (naive and fast)      (x, w, b, stride, pad)
    max pool (naive and fast)  (x, pool_height, pool_width, stride)
    spatial batch norm         (x.shape, cache of batchnorm_forward on the (N*H*W, C) rows)
    spatial group norm         (x, x_hat, mean, var, gamma, G, eps), mean and var (N, G)
    dropblock                  the mask, already scaled (None in test mode)

Conventions:

* A convolution layer computes a cross-correlation (the filter is not
  flipped): ``out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] *
  x_pad[n, c, i * stride + p, j * stride + q]``, with ``x_pad`` zero-padded
  by ``pad`` on all four sides.
* Output size along an axis: ``(size + 2 * pad - field) / stride + 1``; a
  filter, stride and padding whose windows do not tile the padded input
  (a remainder) raise ``ValueError`` instead of silently dropping pixels.
* Max pooling sends each window's upstream gradient to **one** element: the
  first maximum in row-major order of the window (the one ``np.argmax``
  picks).  Overlapping windows (stride < pool size) add their gradients.
* The fast layers never loop over output positions in Python: im2col and
  the fast convolution contain no loop at all; col2im and the fast pool
  loop over the offsets inside a window (fh * fw steps), each step one
  whole-array operation.
* ``im2col`` lays out every receptive field as a column:
  ``cols[(c, p, q), (n, i, j)] = x_pad[n, c, i * stride + p, j * stride + q]``,
  shape ``(C * HH * WW, N * H' * W')``, rows ordered like ``w.reshape(F, -1)``,
  columns example by example and each example's output positions in
  row-major order; so ``w.reshape(F, -1) @ cols`` is the whole convolution
  as one matrix product, of shape ``(F, N * H' * W')``.  ``col2im`` is its
  adjoint: it adds every entry back where it came from (overlaps add up)
  and drops the padding.
* The fast layers keep the dtype of their input (the network trains in
  float32).
* Nothing mutates its inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv_output_size", "conv_output_shape", "pool_output_shape", "dropblock_forward"]


# --------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------

def conv_output_size(size, field, stride=1, pad=0, what="size"):
    """Number of window positions along one axis: (size + 2 pad - field) / stride + 1.

    Raises ValueError when the windows do not tile the padded input exactly
    (the division leaves a remainder), or when the window does not fit.
    ``what`` names the axis in the message ("height", "width").
    """
    size, field, stride, pad = int(size), int(field), int(stride), int(pad)
    if stride < 1 or pad < 0 or field < 1:
        raise ValueError(f"need field >= 1, stride >= 1 and pad >= 0; got field {field}, "
                         f"stride {stride}, pad {pad}")
    span = size + 2 * pad - field
    if span < 0:
        raise ValueError(f"a window of {what} {field} does not fit into the input {what} "
                         f"{size} padded by {pad} on each side")
    if span % stride:
        raise ValueError(
            f"a window of {what} {field} with stride {stride} and padding {pad} does not tile "
            f"the input {what} {size}: ({size} + 2 * {pad} - {field}) / {stride} = "
            f"{span / stride:g} is not a whole number; change the padding or the stride")
    return span // stride + 1


def conv_output_shape(x_shape, w_shape, stride=1, pad=0):
    """(N, F, H', W'): a convolution layer's output shape (ValueError if it does not tile)."""
    N, C, H, W = x_shape
    F, C_w, HH, WW = w_shape
    if C != C_w:
        raise ValueError(f"x has {C} channels but the filters expect {C_w} (w has shape "
                         f"{tuple(w_shape)})")
    return (N, F, conv_output_size(H, HH, stride, pad, "height"),
            conv_output_size(W, WW, stride, pad, "width"))


def pool_output_shape(x_shape, pool_height=2, pool_width=2, stride=2):
    """(N, C, H', W'): the shape of a max pool's output (ValueError if it does not tile)."""
    N, C, H, W = x_shape
    return (N, C, conv_output_size(H, pool_height, stride, 0, "height"),
            conv_output_size(W, pool_width, stride, 0, "width"))


# --------------------------------------------------------------------------
# DropBlock
# --------------------------------------------------------------------------

def dropblock_forward(x, keep_prob, block_size, mode="train", rng=None):
    """DropBlock: drop square blocks of each feature map instead of single units.

    train: block centres are drawn as ``rng.random((N, C, H - bs + 1, W - bs + 1))
    < rate`` with rate = (1 - keep_prob) / bs**2 * H W / ((H - bs + 1)(W - bs + 1)),
    so that about a fraction 1 - keep_prob of the units is dropped; every
    centre drops the bs x bs block whose top-left corner it is; the kept units
    are scaled by (units / kept units) so the mean stays the same.
    test: out = x.
    Returns (out, cache = the scaled mask, or None in test mode), the cache
    dropout's has: notebook 5's dropout_backward is DropBlock's backward pass.
    """
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
    N, C, H, W = x.shape
    if not 1 <= block_size <= min(H, W):
        raise ValueError(f"block_size must lie in 1..{min(H, W)}, got {block_size}")
    if mode == "test":
        return x, None
    if rng is None:
        raise TypeError("dropblock in train mode needs rng=np.random.default_rng(seed)")
    bs = int(block_size)
    rate = (1.0 - keep_prob) / bs ** 2 * H * W / ((H - bs + 1) * (W - bs + 1))
    centres = rng.random((N, C, H - bs + 1, W - bs + 1)) < rate
    spread = np.pad(centres, ((0, 0), (0, 0), (bs - 1, bs - 1), (bs - 1, bs - 1)))
    dropped = sliding_window_view(spread, (bs, bs), axis=(2, 3)).any(axis=(4, 5))
    kept = ~dropped
    scale = kept.size / max(int(kept.sum()), 1)
    mask = kept.astype(x.dtype) * x.dtype.type(scale)
    return x * mask, mask

