"""Notebook 6: the course's answers (run from their one home, the source notebook), the
library's helpers around them (sizes, DropBlock, FeatureDrop, FrozenLayers, input_gradient)
and the visible checks."""

import numpy as np
import pytest

from assignments import convolution as conv
from assignments.cases import CheckFailed
from assignments.convnet import FeatureDrop, FrozenLayers, input_gradient
from assignments.gradcheck import (assert_gradients_close, check_model_gradients,
                                   eval_numerical_gradient_array)
from assignments.notebooks import cnn, cnn_fast, cnn_model, cnn_plots
from assignments.solver import Solver
from assignments.stat_checks import verify_gaussian
from course_answers import blocks_of


@pytest.fixture(autouse=True)
def a():
    """Notebook 6's answers (and the earlier answers they build on, as notebook 6's
    course_blocks.py gives them), which are also the building blocks in effect."""
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
def test_fast_convolution_equals_naive_and_numerical_gradients(a, xs, ws, stride, pad):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    out, cache = a.conv_forward_naive(x, w, b, stride, pad)
    assert out.shape == conv.conv_output_shape(xs, ws, stride, pad)
    out_fast, cache_fast = a.conv_forward_fast(x, w, b, stride, pad)
    np.testing.assert_allclose(out_fast, out, rtol=1e-10, atol=1e-12)
    assert all(p is q for p, q in zip(cache, cache_fast))
    dout = rng.normal(size=out.shape)
    naive = a.conv_backward_naive(dout, cache)
    for g_fast, g_naive in zip(a.conv_backward_fast(dout, cache), naive):
        np.testing.assert_allclose(g_fast, g_naive, rtol=1e-10, atol=1e-12)
    for i, (name, value) in enumerate(zip(("dx", "dw", "db"), (x, w, b))):
        def f(v, i=i):
            args = [x, w, b]
            args[i] = v
            return a.conv_forward_fast(*args, stride, pad)[0]
        assert_gradients_close(naive[i], _numeric(f, value, dout), name)


def test_convolution_is_a_cross_correlation_and_rejects_windows_that_do_not_tile(a):
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out, _ = a.conv_forward_fast(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), -3.5))
    with pytest.raises(ValueError, match="tile"):
        a.conv_forward_naive(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1), 2)
    with pytest.raises(ValueError, match="tile"):
        a.max_pool_forward_naive(np.zeros((1, 1, 5, 5)))
    assert conv.conv_output_size(227, 11, 4, 0) == 55
    with pytest.raises(ValueError, match="does not tile"):
        conv.conv_output_size(224, 11, 4, 0)
    with pytest.raises(ValueError, match="channels"):
        conv.conv_output_shape((1, 2, 4, 4), (1, 3, 3, 3))
    assert conv.pool_output_shape((2, 3, 5, 7), 3, 3, 2) == (2, 3, 2, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_layers_keep_the_dtype_and_leave_their_inputs_alone(a, dtype):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 6, 6)).astype(dtype)
    w = rng.normal(size=(4, 3, 3, 3)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    copies = [v.copy() for v in (x, w, b)]
    out, cache = a.conv_forward_fast(x, w, b, 1, 1)
    grads = a.conv_backward_fast(out, cache)
    pooled, pool_cache = a.max_pool_forward_fast(out)
    dx_pool = a.max_pool_backward_fast(pooled, pool_cache)
    assert {v.dtype for v in (out, *grads, pooled, dx_pool)} == {np.dtype(dtype)}
    assert all(np.array_equal(v, c) for v, c in zip((x, w, b), copies))


@pytest.mark.parametrize("shape,ph,pw,stride", [
    ((2, 3, 6, 8), 2, 2, 2), ((2, 2, 9, 6), 3, 3, 3), ((1, 2, 5, 7), 3, 3, 2),
    ((2, 1, 5, 4), 2, 3, 1), ((1, 2, 7, 4), 3, 2, 2)])
def test_fast_pool_equals_naive_with_the_same_tie_rule(a, shape, ph, pw, stride):
    rng = np.random.default_rng(2)
    for x in (rng.normal(size=shape), rng.integers(0, 3, size=shape).astype(float)):
        out, cache = a.max_pool_forward_naive(x, ph, pw, stride)
        assert out.shape == conv.pool_output_shape(shape, ph, pw, stride)
        np.testing.assert_array_equal(a.max_pool_forward_fast(x, ph, pw, stride)[0], out)
        dout = rng.normal(size=out.shape)
        dx = a.max_pool_backward_naive(dout, cache)
        np.testing.assert_allclose(a.max_pool_backward_fast(dout, cache), dx, atol=1e-12)
        # the whole dout arrives somewhere: one receiver per window
        np.testing.assert_allclose(dx.sum(), dout.sum())
    x = rng.normal(size=shape)
    out, cache = a.max_pool_forward_naive(x, ph, pw, stride)
    dout = rng.normal(size=out.shape)
    numeric = _numeric(lambda v: a.max_pool_forward_fast(v, ph, pw, stride)[0], x, dout)
    assert_gradients_close(a.max_pool_backward_naive(dout, cache), numeric, "dx")


def test_ties_go_to_the_first_maximum_in_row_major_order(a):
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]])
    dout = np.array([[[[10.0, 20.0]]]])
    expected = np.array([[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    for backward in (a.max_pool_backward_naive, a.max_pool_backward_fast):
        np.testing.assert_array_equal(backward(dout, (x, 2, 2, 2)), expected)


def test_col2im_is_the_adjoint_of_im2col(a):
    rng = np.random.default_rng(3)
    for xs, fh, fw, stride, pad in ((2, 2, 5, 7), 3, 3, 2, 1), ((1, 3, 4, 4), 2, 3, 1, 2):
        x = rng.normal(size=xs)
        cols = a.im2col(x, fh, fw, stride, pad)
        c = rng.normal(size=cols.shape)
        np.testing.assert_allclose(np.sum(cols * c),
                                   np.sum(x * a.col2im(c, xs, fh, fw, stride, pad)))
    # one column per window, rows in the order of w.reshape(F, -1)
    np.testing.assert_array_equal(a.im2col(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), 2, 2),
                                  cnn._COLS33)


def test_spatial_batchnorm_is_per_channel_batchnorm_and_its_gradients(a):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 2, 5)) * 3 + 1
    g, b = rng.normal(size=4), rng.normal(size=4)
    out, cache, (mean, var) = a.spatial_batchnorm_forward(x, g, b, np.zeros(4), np.ones(4))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), b, atol=1e-10)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)))
    _, _, running = a.spatial_batchnorm_forward(x, g, b, mean, var, mode="test")
    np.testing.assert_array_equal(running[0], mean)
    np.testing.assert_array_equal(running[1], var)
    dout = rng.normal(size=x.shape)
    grads = a.spatial_batchnorm_backward(dout, cache)
    for i, name in enumerate(("dx", "dgamma", "dbeta")):
        def f(v, i=i):
            args = [x, g, b]
            args[i] = v
            return a.spatial_batchnorm_forward(*args, np.zeros(4), np.ones(4))[0]
        assert_gradients_close(grads[i], _numeric(f, [x, g, b][i], dout), name, 1e-6)


def test_group_norm_limits_and_gradients(a):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 6, 3, 4)) * 2 + 1
    g, b = rng.normal(size=6), rng.normal(size=6)
    ones, zeros = np.ones(6), np.zeros(6)
    layer, _ = a.spatial_groupnorm_forward(x, ones, zeros, 1)   # G = 1: over (C, H, W)
    flat = x.reshape(2, -1)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer, expected.reshape(x.shape))
    instance, _ = a.spatial_groupnorm_forward(x, ones, zeros, 6)   # G = C: per channel
    np.testing.assert_allclose(instance.mean(axis=(2, 3)), 0, atol=1e-12)
    with pytest.raises(ValueError, match="divide"):
        a.spatial_groupnorm_forward(x, g, b, 4)
    out, cache = a.spatial_groupnorm_forward(x, g, b, 3)
    dout = rng.normal(size=x.shape)
    grads = a.spatial_groupnorm_backward(dout, cache)
    for i, name in enumerate(("dx", "dgamma", "dbeta")):
        def f(v, i=i):
            args = [x, g, b]
            args[i] = v
            return a.spatial_groupnorm_forward(*args, 3)[0]
        assert_gradients_close(grads[i], _numeric(f, [x, g, b][i], dout), name, 1e-6)


def test_dropblock_drops_square_blocks_at_the_asked_rate(a):
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
    # its backward pass is dropout's
    np.testing.assert_array_equal(a.dropout_backward(x, mask), x * mask)


def test_the_course_convnet_init_gradients_and_frozen_layers(a):
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(3, 2, 6, 4)), rng.integers(0, 4, size=3)
    net = a.ThreeLayerConvNet((2, 6, 4), num_filters=3, filter_size=3, hidden_dim=5,
                              num_classes=4, weight_scale=0.3, reg=0.05, rng=rng)
    check_model_gradients(net, X, y, verbose=False)
    he = a.ThreeLayerConvNet((3, 10, 10), num_filters=40, filter_size=3, hidden_dim=100,
                             rng=np.random.default_rng(8))
    verify_gaussian(he.params["W1"], np.sqrt(2 / 27))
    verify_gaussian(he.params["W2"], np.sqrt(2 / 1000))
    net = a.ThreeLayerConvNet((1, 8, 8), num_filters=4, filter_size=3, hidden_dim=10,
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


def test_feature_drop_runs_the_network_with_a_drop_after_its_pool(a):
    rng = np.random.default_rng(12)
    X, y = rng.normal(size=(3, 2, 6, 4)), rng.integers(0, 4, size=3)
    net = a.ThreeLayerConvNet((2, 6, 4), num_filters=3, filter_size=3, hidden_dim=5,
                              num_classes=4, weight_scale=0.3, reg=0.05, rng=rng)
    pool = a.max_pool_forward_fast
    for knobs in ({"feature_drop": "dropout", "keep_prob": 0.7},
                  {"feature_drop": "dropblock", "keep_prob": 0.7, "block_size": 2}):
        model = FeatureDrop(net, **knobs)
        assert model.params is net.params
        check_model_gradients(model, X, y, verbose=False)
        # test mode and keep_prob 1: the network itself
        np.testing.assert_array_equal(model.loss(X), net.loss(X))
        loss, _ = FeatureDrop(net, knobs["feature_drop"], 1.0).loss(X, y, rng=rng)
        assert loss == net.loss(X, y)[0]
        # a train-mode pass drops something, differently for another draw
        l1 = model.loss(X, y, rng=np.random.default_rng(0))[0]
        l2 = model.loss(X, y, rng=np.random.default_rng(1))[0]
        assert l1 != l2
        # the network's own names are put back
        assert type(net).loss.__globals__["max_pool_forward_fast"] is pool
    with pytest.raises(ValueError, match="feature_drop"):
        FeatureDrop(net, "dropconnect", 0.5)
    with pytest.raises(TypeError, match="rng"):
        FeatureDrop(net, "dropout", 0.5).loss(X, y)

    class NoPool:
        params = {}

        def loss(self, X, y=None):
            return 0.0, {}
    with pytest.raises(RuntimeError, match="max_pool_forward_fast"):
        FeatureDrop(NoPool(), "dropout", 0.5).loss(X, y, rng=rng)


def test_input_gradient_is_the_gradient_of_the_scores(a):
    rng = np.random.default_rng(11)
    net = a.ThreeLayerConvNet((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                              num_classes=3, weight_scale=0.5, reg=0.1, rng=rng)
    X, dscores = rng.normal(size=(2, 1, 6, 6)), rng.normal(size=(2, 3))
    numeric = _numeric(lambda v: net.loss(v), X, dscores)
    assert_gradients_close(input_gradient(net, X, dscores), numeric, "dX")
    assert type(net).loss.__globals__["softmax_loss"] is a.softmax_loss


def test_the_grader_trains_the_course_network_with_the_recipe(a):
    from autograder.notebooks import reference_namespace

    rng = np.random.default_rng(13)
    data = {"X_train": rng.normal(size=(40, 1, 8, 8)), "y_train": rng.integers(0, 3, 40),
            "X_val": rng.normal(size=(20, 1, 8, 8)), "y_val": rng.integers(0, 3, 20)}
    settings = {"num_filters": 2, "filter_size": 3, "hidden_dim": 8, "learning_rate": 1e-3,
                "reg": 0.0, "num_epochs": 1, **cnn_model.TRAINING_DEFAULTS}
    acc = cnn_model.recipe_accuracy(reference_namespace("06_cnn"), settings, data)
    assert 0.0 <= acc <= 1.0


def test_loop_budget_counts_range_steps_and_restores_the_namespace(a):
    ns = {}
    exec("def looped(x):\n    total = 0\n    for i in range(len(x)):\n        total += x[i]\n"
         "    return total\n", ns)
    assert cnn.loop_iterations(ns["looped"], np.arange(50.0)) == 50
    assert "range" not in ns
    assert cnn.loop_iterations(a.max_pool_forward_fast, np.zeros((1, 1, 40, 40))) <= \
        cnn.loop_budget(2, 2)
    assert cnn.error_raised(a.conv_forward_naive, np.zeros((1, 1, 6, 6)),
                            np.zeros((1, 1, 3, 3)), np.zeros(1), 2) == "ValueError"
    assert cnn.error_raised(lambda: 1) == "no error"


CHECKS = [(cnn, "conv_forward_naive"), (cnn, "conv_backward_naive"),
          (cnn, "max_pool_forward_naive"), (cnn, "max_pool_backward_naive"), (cnn, "im2col"),
          (cnn, "col2im"), (cnn_fast, "conv_forward_fast"), (cnn_fast, "conv_backward_fast"),
          (cnn_fast, "max_pool_forward_fast"), (cnn_fast, "max_pool_backward_fast"),
          (cnn_fast, "spatial_batchnorm_forward"), (cnn_fast, "spatial_batchnorm_backward"),
          (cnn_fast, "spatial_groupnorm_forward"), (cnn_fast, "spatial_groupnorm_backward")]


def test_visible_checks_pass_the_course_answers_and_fail_a_broken_layer(a):
    for module, name in CHECKS:
        getattr(module, f"check_{name}")(getattr(a, name))
    cnn_model.check_convnet_init(a.ThreeLayerConvNet)
    cnn_model.check_convnet_loss(a.ThreeLayerConvNet)

    def col2im(cols, x_shape, field_height, field_width, stride=1, pad=0):
        return a.col2im(cols, x_shape, field_height, field_width, stride, pad) * 2
    with pytest.raises(CheckFailed, match="col2im"):
        cnn.check_col2im(col2im)

    def conv_backward_naive(dout, cache):
        dx, dw, db = a.conv_backward_naive(dout, cache)
        return dx, dw, db / dout.shape[0]
    with pytest.raises(CheckFailed, match="db"):
        cnn.check_conv_backward_naive(conv_backward_naive)


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
