"""Reference convolution, pooling and spatial normalization layers (notebook 6).

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
    dropblock_forward(x, keep_prob, block_size, mode="train", rng=None) -> (out, cache)
    dropblock_backward(dout, cache) -> dx

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
* float32 in, float32 out: no layer changes the dtype of its input.
* Nothing here mutates its inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .blocks import block

__all__ = [
    "conv_output_size",
    "conv_forward_naive", "conv_backward_naive",
    "max_pool_forward_naive", "max_pool_backward_naive",
    "im2col", "col2im",
    "conv_forward_fast", "conv_backward_fast",
    "max_pool_forward_fast", "max_pool_backward_fast",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
    "dropblock_forward", "dropblock_backward",
]


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


def _conv_shapes(x, w, stride, pad):
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W) and w (F, C, HH, WW); got shapes {x.shape} "
                         f"and {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but the filters w expect "
                         f"{w.shape[1]} (w has shape {w.shape})")
    H_out = conv_output_size(x.shape[2], w.shape[2], stride, pad, "height")
    W_out = conv_output_size(x.shape[3], w.shape[3], stride, pad, "width")
    return H_out, W_out


def _pad(x, pad):
    """x zero-padded by ``pad`` on both sides of its last two axes (x itself for pad 0)."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


# --------------------------------------------------------------------------
# naive layers: one Python loop iteration per output number
# --------------------------------------------------------------------------

def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Convolution layer, computed one output number at a time.

    Inputs:
    - x: (N, C, H, W) images.
    - w: (F, C, HH, WW) filters.
    - b: (F,) biases.
    - stride: step between neighbouring windows, both directions.
    - pad: zeros added on every side of each image.

    Returns (out, cache): out (N, F, H', W') with H' = (H + 2 pad - HH) / stride + 1
    (same for W'), cache = (x, w, b, stride, pad).
    """
    H_out, W_out = _conv_shapes(x, w, stride, pad)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    x_pad = _pad(x, pad)
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv_backward_naive(dout, cache):
    """Gradients of the convolution layer, one output number at a time.

    Each output number out[n, f, i, j] came from one window of x_pad and the
    filter w[f]: it sends dout[n, f, i, j] * w[f] back to that window and
    dout[n, f, i, j] * window to w[f].  Windows overlap, so both add up.

    Returns (dx (N, C, H, W), dw (F, C, HH, WW), db (F,)).
    """
    x, w, b, stride, pad = cache
    N, F = x.shape[0], w.shape[0]
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    x_pad = _pad(x, pad)
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(x, dout))
    dw = np.zeros(w.shape, dtype=np.result_type(w, dout))
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def _pool_shapes(x, pool_height, pool_width, stride):
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {x.shape}")
    H_out = conv_output_size(x.shape[2], pool_height, stride, 0, "height")
    W_out = conv_output_size(x.shape[3], pool_width, stride, 0, "width")
    return H_out, W_out


def max_pool_forward_naive(x, pool_height=2, pool_width=2, stride=2):
    """Max pooling, one output number at a time.

    Returns (out (N, C, H', W'), cache = (x, pool_height, pool_width, stride)),
    H' = (H - pool_height) / stride + 1 and W' = (W - pool_width) / stride + 1.
    """
    H_out, W_out = _pool_shapes(x, pool_height, pool_width, stride)
    N, C = x.shape[:2]
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + pool_height,
                                               j * stride:j * stride + pool_width])
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward_naive(dout, cache):
    """Gradient of max pooling: each window's dout goes to its first maximum.

    "First" is in row-major order of the window, as ``np.argmax`` counts;
    overlapping windows add their contributions.  Returns dx (N, C, H, W).
    """
    x, pool_height, pool_width, stride = cache
    N, C = x.shape[:2]
    H_out, W_out = dout.shape[2:]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + pool_height,
                               j * stride:j * stride + pool_width]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx


# --------------------------------------------------------------------------
# im2col and col2im
# --------------------------------------------------------------------------

def im2col(x, field_height, field_width, stride=1, pad=0):
    """Every receptive field of x as a column: (N, C, H, W) -> (C * fh * fw, N * H' * W').

    cols[(c, p, q), (n, i, j)] = x_pad[n, c, i * stride + p, j * stride + q]: rows in
    the order of ``w.reshape(F, -1)``, columns example by example, each example's
    output positions in row-major order.  Built from a strided view of the
    padded input; the one copy happens in ``reshape``.
    """
    N, C, H, W = x.shape
    H_out = conv_output_size(H, field_height, stride, pad, "height")
    W_out = conv_output_size(W, field_width, stride, pad, "width")
    windows = sliding_window_view(_pad(x, pad), (field_height, field_width), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]               # (N, C, H', W', fh, fw), a view
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * field_height * field_width,
                                                       N * H_out * W_out)


def col2im(cols, x_shape, field_height, field_width, stride=1, pad=0):
    """The adjoint of im2col: add every entry back to the pixel it came from; drop the padding.

    Inputs: cols (C * fh * fw, N * H' * W'), x_shape = (N, C, H, W).
    Returns dx of shape x_shape.  A pixel covered by k windows receives the
    sum of its k entries.  One whole-array addition per filter offset
    (p, q): the loop runs fh * fw times, never over output positions.  The
    sums are built channel-first, in the order of cols, and the result is a
    transposed view of them.
    """
    N, C, H, W = x_shape
    H_out = conv_output_size(H, field_height, stride, pad, "height")
    W_out = conv_output_size(W, field_width, stride, pad, "width")
    cols6 = cols.reshape(C, field_height, field_width, N, H_out, W_out)
    dx_pad = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)   # channels first,
    for p in range(field_height):                                          # like cols6
        for q in range(field_width):
            dx_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride] += (
                cols6[:, p, q])
    return dx_pad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)


# --------------------------------------------------------------------------
# fast layers
# --------------------------------------------------------------------------

def conv_forward_fast(x, w, b, stride=1, pad=0):
    """Convolution as one matrix product: w.reshape(F, -1) @ im2col(x).

    Same inputs, outputs and cache as ``conv_forward_naive``.
    """
    H_out, W_out = _conv_shapes(x, w, stride, pad)
    N, F = x.shape[0], w.shape[0]
    cols = im2col(x, w.shape[2], w.shape[3], stride, pad)     # (C*HH*WW, N*H'*W')
    out = w.reshape(F, -1) @ cols                              # (F, N*H'*W')
    del cols                                                   # before the output's copy
    out += b.reshape(F, 1)
    out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), (x, w, b, stride, pad)


def conv_backward_fast(dout, cache):
    """Gradients of the convolution from two matrix products and col2im.

    With X = im2col(x) (recomputed: the cache holds only the inputs) and
    D = dout as an (F, N*H'*W') matrix:  dw = D X^T,  dX = w_rows^T D,
    dx = col2im(dX),  db = the sum of dout over n, i, j.
    """
    x, w, b, stride, pad = cache
    F, _, HH, WW = w.shape
    cols = im2col(x, HH, WW, stride, pad)                      # (K, N*P)
    d = dout.transpose(1, 0, 2, 3).reshape(F, -1)              # (F, N*P)
    db = np.sum(dout, axis=(0, 2, 3))
    dw = (d @ cols.T).reshape(w.shape)
    del cols                  # never hold two matrices of im2col's size at once
    dx = col2im(w.reshape(F, -1).T @ d, x.shape, HH, WW, stride, pad)
    return dx, dw, db


def _tiles(pool_height, pool_width, stride):
    """Do the pooling windows tile the input (no overlap, no gap)?"""
    return pool_height == pool_width == stride


def _pool_windows(x, pool_height, pool_width, stride):
    """The pooling windows of x as an array (ph, pw, N, C, H', W').

    Entry [p, q, n, c, i, j] is the element at offset (p, q) of window (i, j)
    of channel c of image n.  A view of x when the windows tile it (a
    reshape); built by im2col otherwise (each channel as a one-channel image).
    """
    N, C, H, W = x.shape
    H_out, W_out = _pool_shapes(x, pool_height, pool_width, stride)
    if _tiles(pool_height, pool_width, stride):
        return x.reshape(N, C, H_out, pool_height, W_out, pool_width).transpose(3, 5, 0, 1, 2, 4)
    cols = im2col(x.reshape(N * C, 1, H, W), pool_height, pool_width, stride)
    return cols.reshape(pool_height, pool_width, N, C, H_out, W_out)


def max_pool_forward_fast(x, pool_height=2, pool_width=2, stride=2):
    """Max pooling on a reshape when the windows tile the input, on im2col otherwise.

    Same inputs, outputs and cache as ``max_pool_forward_naive``.  The loop
    runs over the ph * pw offsets inside a window; each step is one
    whole-array ``np.maximum`` over every window at once.
    """
    windows = _pool_windows(x, pool_height, pool_width, stride)
    out = windows[0, 0].copy()
    for p in range(pool_height):
        for q in range(pool_width):
            np.maximum(out, windows[p, q], out=out)
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward_fast(dout, cache):
    """Gradient of max pooling, one whole-array step per window offset; the naive tie rule.

    The offsets (p, q) are visited in row-major order; at each, the windows
    whose maximum sits there and that have not been served yet receive their
    dout, so a tie goes to the first maximum.  Tiling windows write straight
    into dx through a view; overlapping ones go through col2im, which adds
    up what they send back.
    """
    x, pool_height, pool_width, stride = cache
    N, C, H, W = x.shape
    H_out, W_out = dout.shape[2:]
    windows = _pool_windows(x, pool_height, pool_width, stride)
    peak, _ = max_pool_forward_fast(x, pool_height, pool_width, stride)
    dtype = np.result_type(x, dout)
    tiles = _tiles(pool_height, pool_width, stride)
    if tiles:
        dx = np.zeros((N, C, H_out, pool_height, W_out, pool_width), dtype=dtype)
        dwindows = dx.transpose(3, 5, 0, 1, 2, 4)              # a view: writes land in dx
    else:
        dwindows = np.zeros(windows.shape, dtype=dtype)
    waiting = np.ones(peak.shape, dtype=bool)        # windows whose dout is still to place
    hit = np.empty(peak.shape, dtype=bool)
    for p in range(pool_height):
        for q in range(pool_width):
            np.equal(windows[p, q], peak, out=hit)
            hit &= waiting
            np.multiply(hit, dout, out=dwindows[p, q])
            waiting ^= hit
    if tiles:
        return dx.reshape(N, C, H, W)
    return col2im(dwindows.reshape(pool_height * pool_width, -1), (N * C, 1, H, W), pool_height,
                  pool_width, stride).reshape(N, C, H, W)


# --------------------------------------------------------------------------
# spatial normalization
# --------------------------------------------------------------------------

def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, mode="train",
                              eps=1e-5, momentum=0.9):
    """Batch norm per channel over N, H and W: notebook 5's batch norm on (N*H*W, C) rows.

    Inputs: x (N, C, H, W); gamma, beta, running_mean, running_var (C,).
    Returns (out (N, C, H, W), cache, (next_running_mean, next_running_var)) with
    cache = (x.shape, cache of batchnorm_forward on the rows).
    """
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, bn_cache, running = block("batchnorm_forward")(rows, gamma, beta, running_mean, running_var,
                                               mode, eps, momentum)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), (x.shape, bn_cache), running


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch norm.  Returns (dx (N, C, H, W), dgamma (C,), dbeta (C,))."""
    (N, C, H, W), bn_cache = cache
    rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx, dgamma, dbeta = block("batchnorm_backward_alt")(rows, bn_cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    """Group normalization: each example's channels in G consecutive groups of C / G.

    Every group of every example is normalized over its channels and pixels
    (the same in train and test mode); then each channel is scaled by gamma
    and shifted by beta.  G = 1 is layer norm over (C, H, W); G = C is
    instance norm.

    Inputs: x (N, C, H, W); gamma, beta (C,); G divides C.
    Returns (out (N, C, H, W), cache = (x, x_hat, mean, var, gamma, G, eps)),
    mean and var of shape (N, G).
    """
    N, C, H, W = x.shape
    if G < 1 or C % G:
        raise ValueError(f"the number of groups G = {G} must divide the number of channels "
                         f"C = {C}")
    groups = x.reshape(N, G, -1)
    mean = groups.mean(axis=2)
    var = groups.var(axis=2)
    x_hat = ((groups - mean[:, :, None]) / np.sqrt(var[:, :, None] + eps)).reshape(x.shape)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x, x_hat, mean, var, gamma, G, eps)


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of group norm: layer norm's closed form within each group.

    Returns (dx (N, C, H, W), dgamma (C,), dbeta (C,)).
    """
    x, x_hat, _, var, gamma, G, eps = cache
    N, C = x.shape[:2]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, -1)
    xh = x_hat.reshape(N, G, -1)
    dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
          - xh * (dx_hat * xh).mean(axis=2, keepdims=True)) / np.sqrt(var[:, :, None] + eps)
    return dx.reshape(x.shape), dgamma, dbeta


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
    Returns (out, cache = the scaled mask, or None in test mode).
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


def dropblock_backward(dout, cache):
    """dx = dout * mask (the identity when the forward pass ran in test mode)."""
    mask = cache
    return dout if mask is None else dout * mask
