"""Plausible bugs of notebook 06_cnn (its task module, ``autograder.tasks.cnn``, imports
them): each a one-place substitution in an answer cell that its own test cell, and no
other, must catch.  Instructor-only."""

from __future__ import annotations

from . import Mutant

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_CFN, _CBN = "conv_forward_naive_code", "conv_backward_naive_code"
_PFN, _PBN = "max_pool_forward_naive_code", "max_pool_backward_naive_code"
_I2C, _C2I = "im2col_code", "col2im_code"
_CFF, _CBF = "conv_forward_fast_code", "conv_backward_fast_code"
_PFF, _PBF = "max_pool_forward_fast_code", "max_pool_backward_fast_code"
_SBF, _SBB = "spatial_batchnorm_forward_code", "spatial_batchnorm_backward_code"
_SGF, _SGB = "spatial_groupnorm_forward_code", "spatial_groupnorm_backward_code"
_NET, _HP = "convnet_code", "chosen_hyperparameters_code"

MUTANTS = [
    # naive convolution, forward
    Mutant("conv forward: padding on one side only", "conv_forward_naive", _CFN,
           "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
           "np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))"),
    Mutant("conv forward: stride ignored", "conv_forward_naive", _CFN,
           "window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]",
           "window = x_pad[n, :, i:i + HH, j:j + WW]"),
    Mutant("conv forward: filter flipped (a true convolution)", "conv_forward_naive", _CFN,
           "np.sum(window * w[f])", "np.sum(window * w[f, :, ::-1, ::-1])"),
    Mutant("conv forward: bias added once per window entry", "conv_forward_naive", _CFN,
           "np.sum(window * w[f]) + b[f]", "np.sum(window * w[f] + b[f])"),
    Mutant("conv forward: no error when the windows do not tile", "conv_forward_naive", _CFN,
           "        raise ValueError(f\"filters of", "        print(f\"filters of"),
    # naive convolution, backward
    Mutant("conv backward: dw not summed over the batch and positions", "conv_backward_naive",
           _CBN, "dw[f] += x_pad[n, :, rows, cols]", "dw[f] = x_pad[n, :, rows, cols]"),
    Mutant("conv backward: dx overwritten where windows overlap", "conv_backward_naive", _CBN,
           "dx_pad[n, :, rows, cols] += w[f]", "dx_pad[n, :, rows, cols] = w[f]"),
    Mutant("conv backward: stride ignored for the rows", "conv_backward_naive", _CBN,
           "rows = slice(i * stride, i * stride + HH)", "rows = slice(i, i + HH)"),
    Mutant("conv backward: padding cropped as pad:-pad", "conv_backward_naive", _CBN,
           "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
    Mutant("conv backward: filter flipped in dx", "conv_backward_naive", _CBN,
           "+= w[f] * dout[n, f, i, j]", "+= w[f, :, ::-1, ::-1] * dout[n, f, i, j]"),
    Mutant("conv backward: db averaged", "conv_backward_naive", _CBN,
           "db = np.sum(dout, axis=(0, 2, 3))", "db = np.mean(dout, axis=(0, 2, 3))"),
    # naive pooling, forward
    Mutant("pool forward: average instead of maximum", "max_pool_forward_naive", _PFN,
           "out[n, c, i, j] = np.max(window)", "out[n, c, i, j] = np.mean(window)"),
    Mutant("pool forward: stride ignored", "max_pool_forward_naive", _PFN,
           "window = x[n, c, i * stride:i * stride + pool_height,\n"
           "                               j * stride:j * stride + pool_width]",
           "window = x[n, c, i:i + pool_height, j:j + pool_width]"),
    Mutant("pool forward: window height and width swapped", "max_pool_forward_naive", _PFN,
           "i * stride:i * stride + pool_height,\n"
           "                               j * stride:j * stride + pool_width]",
           "i * stride:i * stride + pool_width,\n"
           "                               j * stride:j * stride + pool_height]"),
    Mutant("pool forward: output height H // pool_height", "max_pool_forward_naive", _PFN,
           "H_out = (H - pool_height) // stride + 1", "H_out = H // pool_height"),
    # naive pooling, backward
    Mutant("pool backward: ties send the gradient to every maximum", "max_pool_backward_naive",
           _PBN, "p, q = np.unravel_index(np.argmax(window), window.shape)\n"
           "                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width] "
           "+= (window == np.max(window)) * dout[n, c, i, j]"),
    Mutant("pool backward: gradient to every element of the window", "max_pool_backward_naive",
           _PBN, "p, q = np.unravel_index(np.argmax(window), window.shape)\n"
           "                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width] "
           "+= dout[n, c, i, j]"),
    Mutant("pool backward: overlapping windows overwrite", "max_pool_backward_naive", _PBN,
           "dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride + p, j * stride + q] = dout[n, c, i, j]"),
    Mutant("pool backward: the maximum of a different window (shape swapped)",
           "max_pool_backward_naive", _PBN, "np.unravel_index(np.argmax(window), window.shape)",
           "np.unravel_index(np.argmax(window), (pool_width, pool_height))"),
    # im2col
    Mutant("im2col: padding on one side only", "im2col", _I2C,
           "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
           "np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))"),
    Mutant("im2col: rows ordered (p, q, c)", "im2col", _I2C,
           "windows.transpose(1, 4, 5, 0, 2, 3)", "windows.transpose(4, 5, 1, 0, 2, 3)"),
    Mutant("im2col: columns ordered (i, j, n)", "im2col", _I2C,
           "windows.transpose(1, 4, 5, 0, 2, 3)", "windows.transpose(1, 4, 5, 2, 3, 0)"),
    Mutant("im2col: stride ignored", "im2col", _I2C,
           "windows = windows[:, :, ::stride, ::stride]",
           "windows = windows[:, :, :H_out, :W_out]"),
    # col2im
    Mutant("col2im: overlaps overwritten instead of added", "col2im", _C2I,
           "q:q + stride * W_out:stride] += (", "q:q + stride * W_out:stride] = ("),
    Mutant("col2im: padding cropped as pad:-pad", "col2im", _C2I,
           "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
    Mutant("col2im: stride ignored", "col2im", _C2I,
           "dx_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride]",
           "dx_pad[:, :, p:p + H_out, q:q + W_out]"),
    Mutant("col2im: field height and width swapped", "col2im", _C2I,
           "cols.reshape(C, field_height, field_width, N, H_out, W_out)",
           "cols.reshape(C, field_width, field_height, N, H_out, W_out)"),
    # fast convolution, forward
    Mutant("conv fast forward: filters flattened in (p, q, c) order", "conv_forward_fast", _CFF,
           "out = w.reshape(F, -1) @ cols", "out = w.transpose(0, 2, 3, 1).reshape(F, -1) @ cols"),
    Mutant("conv fast forward: output reshaped without the transpose", "conv_forward_fast", _CFF,
           "out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)",
           "out = out.reshape(N, F, H_out, W_out)"),
    Mutant("conv fast forward: bias missing", "conv_forward_fast", _CFF,
           "@ cols + b.reshape(F, 1)", "@ cols"),
    Mutant("conv fast forward: filter flipped", "conv_forward_fast", _CFF,
           "out = w.reshape(F, -1) @ cols", "out = w[:, :, ::-1, ::-1].reshape(F, -1) @ cols"),
    # fast convolution, backward
    Mutant("conv fast backward: stride ignored in col2im", "conv_backward_fast", _CBF,
           "dx = col2im(dcols, x.shape, HH, WW, stride, pad)",
           "dx = col2im(dcols, x.shape, HH, WW, 1, pad)"),
    Mutant("conv fast backward: dout flattened without the transpose", "conv_backward_fast",
           _CBF, "dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)",
           "dout_rows = dout.reshape(F, -1)"),
    Mutant("conv fast backward: db of the first image only", "conv_backward_fast", _CBF,
           "db = np.sum(dout, axis=(0, 2, 3))", "db = np.sum(dout[0], axis=(1, 2))"),
    Mutant("conv fast backward: dw as cols @ dout (transposed)", "conv_backward_fast", _CBF,
           "dw = (dout_rows @ cols.T).reshape(w.shape)",
           "dw = (cols @ dout_rows.T).reshape(w.shape)"),
    # fast pooling, forward
    Mutant("pool fast forward: reshape used for overlapping windows", "max_pool_forward_fast",
           _PFF, "if pool_height == pool_width == stride:", "if pool_height == pool_width:"),
    Mutant("pool fast forward: window and position axes mixed up in the reshape",
           "max_pool_forward_fast", _PFF,
           "x.reshape(N, C, H_out, pool_height, W_out, pool_width)",
           "x.reshape(N, C, pool_height, H_out, pool_width, W_out)"),
    Mutant("pool fast forward: output rows and columns swapped", "max_pool_forward_fast", _PFF,
           ".transpose(3, 5, 0, 1, 2, 4)", ".transpose(3, 5, 0, 1, 4, 2)"),
    Mutant("pool fast forward: sum instead of maximum", "max_pool_forward_fast", _PFF,
           "out = np.maximum(out, windows[p, q])", "out = out + windows[p, q]"),
    # fast pooling, backward
    Mutant("pool fast backward: ties send the gradient to every maximum",
           "max_pool_backward_fast", _PBF, "hit = (windows[p, q] == peak) & ~served",
           "hit = windows[p, q] == peak"),
    Mutant("pool fast backward: gradient to every element of the window",
           "max_pool_backward_fast", _PBF, "dwindows[p, q] = hit * dout",
           "dwindows[p, q] = dout"),
    Mutant("pool fast backward: overlapping windows added back with stride 1",
           "max_pool_backward_fast", _PBF, "pool_height, pool_width, stride).reshape(N, C, H, W)",
           "pool_height, pool_width).reshape(N, C, H, W)"),
    Mutant("pool fast backward: served windows forgotten at the next offset",
           "max_pool_backward_fast", _PBF, "served = served | hit", "served = hit"),
    # spatial batch norm
    Mutant("spatial bn forward: statistics over the wrong axes", "spatial_batchnorm_forward",
           _SBF, "rows = x.transpose(0, 2, 3, 1).reshape(-1, C)", "rows = x.reshape(-1, C)"),
    Mutant("spatial bn forward: always train mode", "spatial_batchnorm_forward", _SBF,
           "running_var, mode, eps, momentum)", "running_var, \"train\", eps, momentum)"),
    Mutant("spatial bn forward: momentum not passed on", "spatial_batchnorm_forward", _SBF,
           "running_var, mode, eps, momentum)", "running_var, mode, eps)"),
    Mutant("spatial bn forward: height and width swapped on the way back",
           "spatial_batchnorm_forward", _SBF,
           "out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "out = out_rows.reshape(N, W, H, C).transpose(0, 3, 2, 1)"),
    Mutant("spatial bn backward: dout flattened without the transpose",
           "spatial_batchnorm_backward", _SBB, "drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)",
           "drows = dout.reshape(-1, C)"),
    Mutant("spatial bn backward: dx reshaped without the transpose",
           "spatial_batchnorm_backward", _SBB,
           "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "dx = dx_rows.reshape(N, C, H, W)"),
    Mutant("spatial bn backward: height and width swapped", "spatial_batchnorm_backward", _SBB,
           "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "dx = dx_rows.reshape(N, W, H, C).transpose(0, 3, 2, 1)"),
    # group norm
    Mutant("group norm forward: channels grouped with a stride", "spatial_groupnorm_forward",
           _SGF, "groups = x.reshape(N, G, -1)",
           "groups = x.reshape(N, C // G, G, -1).transpose(0, 2, 1, 3).reshape(N, G, -1)"),
    Mutant("group norm forward: G ignored (layer norm)", "spatial_groupnorm_forward", _SGF,
           "groups = x.reshape(N, G, -1)", "groups = x.reshape(N, 1, -1)"),
    Mutant("group norm forward: unbiased variance", "spatial_groupnorm_forward", _SGF,
           "var = groups.var(axis=2)", "var = groups.var(axis=2, ddof=1)"),
    Mutant("group norm forward: gamma and beta swapped", "spatial_groupnorm_forward", _SGF,
           "out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)",
           "out = beta.reshape(1, C, 1, 1) * x_hat + gamma.reshape(1, C, 1, 1)"),
    Mutant("group norm backward: the mean of dx_hat not subtracted",
           "spatial_groupnorm_backward", _SGB,
           "dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)", "dx = (dx_hat"),
    Mutant("group norm backward: dgamma summed over the batch only",
           "spatial_groupnorm_backward", _SGB, "dgamma = np.sum(dout * x_hat, axis=(0, 2, 3))",
           "dgamma = np.sum(dout * x_hat, axis=0)"),
    Mutant("group norm backward: gamma left out of dx", "spatial_groupnorm_backward", _SGB,
           "dx_hat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, -1)",
           "dx_hat = dout.reshape(N, G, -1)"),
    Mutant("group norm backward: the x_hat term missing", "spatial_groupnorm_backward", _SGB,
           "          - x_hat_groups * (dx_hat * x_hat_groups).mean(axis=2, keepdims=True))",
           "          )"),
    # the network: __init__
    Mutant("convnet init: W2 sized for an unpadded convolution", "convnet_init", _NET,
           "\"W2\": F * (H // 2) * (W // 2)",
           "\"W2\": F * ((H - filter_size + 1) // 2) * ((W - filter_size + 1) // 2)"),
    Mutant("convnet init: random biases", "convnet_init", _NET,
           "self.params[\"b2\"] = np.zeros(hidden_dim)",
           "self.params[\"b2\"] = std[\"W2\"] * rng.standard_normal(hidden_dim)"),
    Mutant("convnet init: He fan-in of a filter without its channels", "convnet_init", _NET,
           "\"W1\": C * filter_size * filter_size", "\"W1\": filter_size * filter_size"),
    Mutant("convnet init: global numpy RNG for W1", "convnet_init", _NET,
           "rng.standard_normal((F, C, filter_size, filter_size))",
           "np.random.standard_normal((F, C, filter_size, filter_size))"),
    Mutant("convnet init: He with the fan-out", "convnet_init", _NET,
           "\"W3\": hidden_dim}", "\"W3\": num_classes}"),
    # the network: loss
    Mutant("convnet loss: no ReLU after the convolution", "convnet_loss", _NET,
           "pooled, pool_cache = max_pool_forward_fast(conv_act,",
           "pooled, pool_cache = max_pool_forward_fast(conv_out,"),
    Mutant("convnet loss: hidden ReLU skipped on the way back", "convnet_loss", _NET,
           "dhidden_in = relu_backward(dhidden, relu2_cache)", "dhidden_in = dhidden"),
    Mutant("convnet loss: regularization gradient of the filters without the 2", "convnet_loss",
           _NET, "\"W1\": dW1 + 2 * self.reg * W1", "\"W1\": dW1 + self.reg * W1"),
    Mutant("convnet loss: filters not regularized", "convnet_loss", _NET,
           "self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2)", "self.reg * (np.sum(W2 * W2)"),
    Mutant("convnet loss: no padding", "convnet_loss", _NET,
           "conv_forward_fast(X, W1, b1, stride=1, pad=pad)",
           "conv_forward_fast(X, W1, b1, stride=1, pad=0)"),
    # chosen hyperparameters
    Mutant("hyperparameters: learning rate 100x too small", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1e-5"),
    Mutant("hyperparameters: learning rate 100x too large", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1e-1"),
    Mutant("hyperparameters: regularization far too strong", "tuned_model", _HP,
           "\"reg\": 1e-4", "\"reg\": 1.0"),
    Mutant("hyperparameters: one filter and two hidden units", "tuned_model", _HP,
           "\"num_filters\": 32, \"filter_size\": 5, \"hidden_dim\": 256",
           "\"num_filters\": 1, \"filter_size\": 5, \"hidden_dim\": 2"),
]

DEMO_BUG = "conv backward: dx overwritten where windows overlap"


def _delegated(cell):
    """The answer cell whose function hands its arguments to what used to be the library's
    copy of it, first thing after its docstring (where ``locals()`` are the arguments)."""
    task = cell.removesuffix("_code")
    return Mutant(f"{task}: delegated to assignments.convolution.{task}", task, cell,
                  '    """\n', '    """\n    _args = dict(locals())\n'
                  f"    from assignments.convolution import {task} as _reference\n"
                  "    return _reference(**_args)\n")


# Each layer answer handed to what used to be the library's copy of it (assignments.convolution
# held notebook 6's answers until issue 19).  The package holds no answer any more, so each
# fails its own cell (tests/test_delegation.py).
DELEGATION_MUTANTS = [_delegated(cell) for cell in (_CFN, _CBN, _PFN, _PBN, _I2C, _C2I, _CFF,
                                                    _CBF, _PFF, _PBF, _SBF, _SBB, _SGF, _SGB)]
