"""Notebook 6's library: the convolution layers, the reference convnet and the helpers."""

import numpy as np
import pytest

from assignments import convolution as conv
from assignments.cases import CheckFailed
from assignments.convnet import FrozenLayers, ThreeLayerConvNet, input_gradient
from assignments.gradcheck import (assert_gradients_close, check_model_gradients,
                                   eval_numerical_gradient_array)
from assignments.notebooks import cnn, cnn_fast, cnn_model, cnn_plots
from assignments.solver import Solver
from assignments.stat_checks import verify_gaussian
from course_answers import blocks_of


@pytest.fixture(autouse=True)
def earlier_answers():
    """The library's notebook-6 code is made of notebooks 3 to 5's answers (the building
    blocks, as notebook 6's course_blocks.py gives them)."""
    with blocks_of("06_cnn") as answers:
        yield answers

CONV_SHAPES = [  # x shape, w shape, stride, pad
    ((2, 3, 7, 5), (4, 3, 3, 1), 2, 1),
    ((1, 1, 6, 6), (2, 1, 3, 3), 1, 1),
    ((3, 2, 8, 6), (3, 2, 2, 4), 2, 0),
    ((2, 2, 9, 9), (3, 2, 5, 5), 2, 2),
    ((1, 2, 3, 4), (2, 2, 3, 1), 1, 2),
]


def _numeric(f, value, dout):
    return eval_numerical_gradient_array(f, np.array(value, dtype=np.float64), dout)


@pytest.mark.parametrize("xs,ws,stride,pad", CONV_SHAPES)
def test_fast_convolution_equals_naive_and_numerical_gradients(xs, ws, stride, pad):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    out, cache = conv.conv_forward_naive(x, w, b, stride, pad)
    out_fast, cache_fast = conv.conv_forward_fast(x, w, b, stride, pad)
    np.testing.assert_allclose(out_fast, out, rtol=1e-10, atol=1e-12)
    assert all(a is b for a, b in zip(cache, cache_fast))
    dout = rng.normal(size=out.shape)
    naive = conv.conv_backward_naive(dout, cache)
    for g_fast, g_naive in zip(conv.conv_backward_fast(dout, cache), naive):
        np.testing.assert_allclose(g_fast, g_naive, rtol=1e-10, atol=1e-12)
    for i, (name, value) in enumerate(zip(("dx", "dw", "db"), (x, w, b))):
        def f(v, i=i):
            args = [x, w, b]
            args[i] = v
            return conv.conv_forward_fast(*args, stride, pad)[0]
        assert_gradients_close(naive[i], _numeric(f, value, dout), name)


def test_convolution_is_a_cross_correlation_and_rejects_bad_shapes():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out, _ = conv.conv_forward_fast(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), -3.5))
    with pytest.raises(ValueError, match="does not tile"):
        conv.conv_forward_fast(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1), 2)
    with pytest.raises(ValueError, match="channels"):
        conv.conv_forward_naive(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 3, 3)), np.zeros(1))
    assert conv.conv_output_size(227, 11, 4, 0) == 55


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_layers_keep_the_dtype_and_leave_their_inputs_alone(dtype):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 6, 6)).astype(dtype)
    w = rng.normal(size=(4, 3, 3, 3)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv.conv_forward_fast(x, w, b, 1, 1)
    grads = conv.conv_backward_fast(out, cache)
    pooled, pool_cache = conv.max_pool_forward_fast(out)
    dx_pool = conv.max_pool_backward_fast(pooled, pool_cache)
    assert {a.dtype for a in (out, *grads, pooled, dx_pool)} == {np.dtype(dtype)}
    assert all(np.array_equal(a, c) for a, c in zip((x, w, b), copies))


@pytest.mark.parametrize("shape,ph,pw,stride", [
    ((2, 3, 6, 8), 2, 2, 2), ((2, 2, 9, 6), 3, 3, 3), ((1, 2, 5, 7), 3, 3, 2),
    ((2, 1, 5, 4), 2, 3, 1), ((1, 2, 7, 4), 3, 2, 2)])
def test_fast_pool_equals_naive_with_the_same_tie_rule(shape, ph, pw, stride):
    rng = np.random.default_rng(2)
    for x in (rng.normal(size=shape), rng.integers(0, 3, size=shape).astype(float)):
        out, cache = conv.max_pool_forward_naive(x, ph, pw, stride)
        np.testing.assert_array_equal(conv.max_pool_forward_fast(x, ph, pw, stride)[0], out)
        dout = rng.normal(size=out.shape)
        dx = conv.max_pool_backward_naive(dout, cache)
        np.testing.assert_allclose(conv.max_pool_backward_fast(dout, cache), dx, atol=1e-12)
        # the whole dout arrives somewhere: one receiver per window
        np.testing.assert_allclose(dx.sum(), dout.sum())
    x = rng.normal(size=shape)
    out, cache = conv.max_pool_forward_naive(x, ph, pw, stride)
    dout = rng.normal(size=out.shape)
    numeric = _numeric(lambda v: conv.max_pool_forward_fast(v, ph, pw, stride)[0], x, dout)
    assert_gradients_close(conv.max_pool_backward_naive(dout, cache), numeric, "dx")


def test_ties_go_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]])
    dout = np.array([[[[10.0, 20.0]]]])
    expected = np.array([[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    for backward in (conv.max_pool_backward_naive, conv.max_pool_backward_fast):
        np.testing.assert_array_equal(backward(dout, (x, 2, 2, 2)), expected)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(3)
    for xs, fh, fw, stride, pad in ((2, 2, 5, 7), 3, 3, 2, 1), ((1, 3, 4, 4), 2, 3, 1, 2):
        x = rng.normal(size=xs)
        cols = conv.im2col(x, fh, fw, stride, pad)
        c = rng.normal(size=cols.shape)
        np.testing.assert_allclose(np.sum(cols * c),
                                   np.sum(x * conv.col2im(c, xs, fh, fw, stride, pad)))
    # one column per window, rows in the order of w.reshape(F, -1)
    np.testing.assert_array_equal(conv.im2col(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), 2, 2),
                                  cnn._COLS33)


def test_spatial_batchnorm_is_per_channel_batchnorm_and_its_gradients():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 2, 5)) * 3 + 1
    g, b = rng.normal(size=4), rng.normal(size=4)
    out, cache, (mean, var) = conv.spatial_batchnorm_forward(x, g, b, np.zeros(4), np.ones(4))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), b, atol=1e-10)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)))
    test_out, _, running = conv.spatial_batchnorm_forward(x, g, b, mean, var, mode="test")
    assert running[0] is mean and running[1] is var
    dout = rng.normal(size=x.shape)
    grads = conv.spatial_batchnorm_backward(dout, cache)
    for i, name in enumerate(("dx", "dgamma", "dbeta")):
        def f(v, i=i):
            args = [x, g, b]
            args[i] = v
            return conv.spatial_batchnorm_forward(*args, np.zeros(4), np.ones(4))[0]
        assert_gradients_close(grads[i], _numeric(f, [x, g, b][i], dout), name, 1e-6)


def test_group_norm_limits_and_gradients():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 6, 3, 4)) * 2 + 1
    g, b = rng.normal(size=6), rng.normal(size=6)
    ones, zeros = np.ones(6), np.zeros(6)
    layer, _ = conv.spatial_groupnorm_forward(x, ones, zeros, 1)   # G = 1: over (C, H, W)
    flat = x.reshape(2, -1)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer, expected.reshape(x.shape))
    instance, _ = conv.spatial_groupnorm_forward(x, ones, zeros, 6)   # G = C: per channel
    np.testing.assert_allclose(instance.mean(axis=(2, 3)), 0, atol=1e-12)
    with pytest.raises(ValueError, match="divide"):
        conv.spatial_groupnorm_forward(x, g, b, 4)
    out, cache = conv.spatial_groupnorm_forward(x, g, b, 3)
    dout = rng.normal(size=x.shape)
    grads = conv.spatial_groupnorm_backward(dout, cache)
    for i, name in enumerate(("dx", "dgamma", "dbeta")):
        def f(v, i=i):
            args = [x, g, b]
            args[i] = v
            return conv.spatial_groupnorm_forward(*args, 3)[0]
        assert_gradients_close(grads[i], _numeric(f, [x, g, b][i], dout), name, 1e-6)


def test_dropblock_drops_square_blocks_at_the_asked_rate():
    rng = np.random.default_rng(6)
    x = np.ones((64, 8, 14, 14))
    out, mask = conv.dropblock_forward(x, 0.8, 3, rng=rng)
    kept = mask > 0
    # about 80 % kept (fewer candidate blocks reach the border pixels, so a little more);
    # a fixed seed, so no false-failure bound is needed
    assert 0.78 < kept.mean() < 0.86
    np.testing.assert_allclose(out.mean(), 1.0, rtol=1e-12)   # rescaled: the mean is kept
    # every dropped unit lies in a 3 x 3 block of dropped units
    dropped = np.pad(~kept, ((0, 0), (0, 0), (2, 2), (2, 2)))
    windows = np.lib.stride_tricks.sliding_window_view(dropped, (3, 3), axis=(2, 3))
    in_block = windows.all(axis=(4, 5))
    covered = np.lib.stride_tricks.sliding_window_view(
        np.pad(in_block, ((0, 0), (0, 0), (2, 2), (2, 2))), (3, 3), axis=(2, 3)).any(axis=(4, 5))
    assert np.all(covered[:, :, 2:-2, 2:-2][~kept])
    assert conv.dropblock_forward(x, 0.8, 3, mode="test")[1] is None
    np.testing.assert_array_equal(conv.dropblock_backward(x, mask), x * mask)


def test_reference_convnet_gradients_init_and_frozen_layers():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(3, 2, 6, 4)), rng.integers(0, 4, size=3)
    for knobs in ({}, {"feature_drop": "dropout", "keep_prob": 0.7},
                  {"feature_drop": "dropblock", "keep_prob": 0.7, "block_size": 2}):
        net = ThreeLayerConvNet((2, 6, 4), num_filters=3, filter_size=3, hidden_dim=5,
                                num_classes=4, weight_scale=0.3, reg=0.05, rng=rng, **knobs)
        check_model_gradients(net, X, y, verbose=False)
    he = ThreeLayerConvNet((3, 10, 10), num_filters=40, filter_size=3, hidden_dim=100,
                           rng=np.random.default_rng(8))
    verify_gaussian(he.params["W1"], np.sqrt(2 / 27))
    verify_gaussian(he.params["W2"], np.sqrt(2 / 1000))
    with pytest.raises(ValueError):
        ThreeLayerConvNet(filter_size=4, rng=rng)
    net = ThreeLayerConvNet((1, 8, 8), num_filters=4, filter_size=3, hidden_dim=10,
                            num_classes=3, rng=np.random.default_rng(9))
    W1 = net.params["W1"].copy()
    frozen = FrozenLayers(net, ("W1", "b1"))
    assert set(frozen.params) == {"W2", "b2", "W3", "b3"}
    data = {"X_train": rng.normal(size=(20, 1, 8, 8)), "y_train": rng.integers(0, 3, 20),
            "X_val": rng.normal(size=(10, 1, 8, 8)), "y_val": rng.integers(0, 3, 10)}
    W3 = frozen.params["W3"].copy()
    solver = Solver(frozen, data, rng=np.random.default_rng(10), update_rule="adam",
                    progress=False)
    for _ in range(3):
        solver.step(data["X_train"], data["y_train"])
    np.testing.assert_array_equal(net.params["W1"], W1)
    assert not np.array_equal(frozen.params["W3"], W3)
    solver.train()                  # ends by setting the best parameters: the model sees them
    assert net.params["W3"] is frozen.params["W3"] and net.params["W1"] is frozen.frozen["W1"]


def test_input_gradient_is_the_gradient_of_the_scores():
    rng = np.random.default_rng(11)
    net = ThreeLayerConvNet((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                            num_classes=3, weight_scale=0.5, rng=rng)
    X, dscores = rng.normal(size=(2, 1, 6, 6)), rng.normal(size=(2, 3))
    numeric = _numeric(lambda v: net.loss(v), X, dscores)
    assert_gradients_close(input_gradient(net.params, X, dscores), numeric, "dX")


def test_the_notebook_reference_answers_equal_the_library():
    from autograder.notebooks import reference_namespace

    ns = reference_namespace("06_cnn")
    rng = np.random.default_rng(12)
    x, w, b = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    for name in ("conv_forward_naive", "conv_forward_fast"):
        np.testing.assert_allclose(ns[name](x, w, b, 2, 1)[0],
                                   getattr(conv, name)(x, w, b, 2, 1)[0], rtol=1e-12)
    xp = rng.integers(0, 3, size=(2, 2, 5, 7)).astype(float)
    dout = rng.normal(size=(2, 2, 2, 3))
    for name in ("max_pool_backward_naive", "max_pool_backward_fast"):
        np.testing.assert_array_equal(ns[name](dout, (xp, 3, 3, 2)),
                                      getattr(conv, name)(dout, (xp, 3, 3, 2)))
    params = ThreeLayerConvNet((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                               num_classes=3, rng=rng).params
    X, y = rng.normal(size=(3, 1, 6, 6)), rng.integers(0, 3, size=3)
    ours = ns["ThreeLayerConvNet"]((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                                   num_classes=3, reg=0.1, rng=rng)
    lib = ThreeLayerConvNet((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                            num_classes=3, reg=0.1, rng=rng)
    ours.params, lib.params = dict(params), dict(params)
    (l1, g1), (l2, g2) = ours.loss(X, y), lib.loss(X, y)
    assert l1 == pytest.approx(l2)
    for k in g2:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-10, atol=1e-12)


def test_loop_budget_counts_range_steps_and_restores_the_namespace():
    ns = {}
    exec("def looped(x):\n    total = 0\n    for i in range(len(x)):\n        total += x[i]\n"
         "    return total\n", ns)
    assert cnn.loop_iterations(ns["looped"], np.arange(50.0)) == 50
    assert "range" not in ns
    assert cnn.loop_iterations(conv.max_pool_forward_fast, np.zeros((1, 1, 40, 40))) <= \
        cnn.loop_budget(2, 2)
    assert cnn.error_raised(conv.conv_forward_fast, np.zeros((1, 1, 6, 6)),
                            np.zeros((1, 1, 3, 3)), np.zeros(1), 2) == "ValueError"
    assert cnn.error_raised(lambda: 1) == "no error"


def test_visible_checks_pass_the_library_and_fail_a_broken_layer():
    for name in ("conv_forward_naive", "conv_backward_fast", "max_pool_backward_fast",
                 "col2im", "spatial_groupnorm_backward"):
        module = cnn if hasattr(cnn, f"check_{name}") else cnn_fast
        getattr(module, f"check_{name}")(getattr(conv, name))

    def col2im(cols, x_shape, field_height, field_width, stride=1, pad=0):
        return conv.col2im(cols, x_shape, field_height, field_width, stride, pad) * 2
    with pytest.raises(CheckFailed, match="col2im"):
        cnn.check_col2im(col2im)


def test_tables_of_sizes_and_parameters():
    counts = cnn_plots.parameter_counts((3, 227, 227), 96, 11, 4, 0)
    assert counts == {"fully connected": 290_400 * (3 * 227 * 227 + 1),
                      "locally connected": 105_705_600, "convolution": 34_944}
    rows = cnn_plots.layer_table((1, 28, 28), [("conv", 32, 5, 1, 2), ("pool", 2, 2),
                                               ("fc", 100)])
    assert [r[1] for r in rows] == [(1, 28, 28), (32, 28, 28), (32, 14, 14), (100,)]
    assert [r[3] for r in rows] == [0, 832, 0, 627_300]
    table = dict((r[0], r[5]) for r in cnn_plots.output_size_rows({"a": (224, 11, 4, 0),
                                                                    "b": (32, 5, 1, 2)}))
    assert table["b"] == 32 and "does not tile" in table["a"]
    X, y = np.arange(12).reshape(12, 1), np.arange(12) % 4
    Xs, ys = cnn_model.class_subset(X, y, [3, 1], per_class=2, rng=np.random.default_rng(0))
    assert sorted(ys.tolist()) == [0, 0, 1, 1] and set(y[Xs[:, 0]]) == {1, 3}
