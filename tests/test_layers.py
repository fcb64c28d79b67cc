"""assignments.layers: gradients, properties, and equality with notebook 3's solutions."""

import numpy as np
import pytest

from assignments import layers
from assignments.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

STUDENT_LAYERS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "sigmoid_forward", "sigmoid_backward", "softmax_loss", "svm_loss")


@pytest.fixture(scope="module")
def solutions():
    from autograder.notebooks import reference_namespace

    return reference_namespace("03_two_layer_net")


def _inputs(name, rng):
    """A few argument tuples for each student layer, odd shapes and edge values included."""
    out = []
    for shape in ((4, 3), (2, 3, 2, 2), (1, 5), (3, 1, 1, 7)):
        D, M = int(np.prod(shape[1:])), int(rng.integers(1, 5))
        x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
        dout = rng.normal(size=(shape[0], M))
        z = rng.normal(size=shape) * 3
        z[rng.random(shape) < 0.3] = 0.0
        dz = rng.normal(size=shape)
        scores = rng.normal(size=(shape[0], 4)) * 5
        scores[0, 1] = scores[0, 0] - 1.0  # a margin of exactly 0 for the SVM
        y = rng.integers(0, 4, size=shape[0])
        y[0] = 0
        out.append({
            "affine_forward": (x, w, b), "affine_backward": (dout, (x, w, b)),
            "relu_forward": (z,), "relu_backward": (dz, z),
            "sigmoid_forward": (z * 300,), "sigmoid_backward": (dz, rng.uniform(0, 1, shape)),
            "softmax_loss": (scores + 900.0, y), "svm_loss": (scores, y),
        }[name])
    return out


def _assert_same(a, b, where):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same(u, v, f"{where}[{i}]")
        return
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-12, atol=1e-14, err_msg=where)
    assert np.shape(a) == np.shape(b), where


@pytest.mark.parametrize("name", STUDENT_LAYERS)
def test_library_equals_notebook_solution(solutions, name):
    rng = np.random.default_rng(0)
    for args in _inputs(name, rng):
        _assert_same(getattr(layers, name)(*args), solutions[name](*args), name)


def _check_backward(forward, backward, args, dout, tol=1e-8):
    out, cache = forward(*args)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, (arg, g) in enumerate(zip(args, grads)):
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return forward(*a)[0]
        num = eval_numerical_gradient_array(f, np.array(arg, dtype=float), dout)
        assert g.shape == np.shape(arg)
        assert rel_error(g, num) < tol, (forward.__name__, i, rel_error(g, num))


def test_affine_gradients_with_extra_dimensions():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=(8, 5)), rng.normal(size=5)
    _check_backward(layers.affine_forward, layers.affine_backward, (x, w, b),
                    rng.normal(size=(3, 5)))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_activation_gradients(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 2)) * 2
    x += np.sign(x) * 0.1  # stay away from the kinks of ReLU and leaky ReLU
    fwd, bwd = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    _check_backward(fwd, bwd, (x,), rng.normal(size=x.shape))


def test_activation_table_follows_the_layer_contract():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for name, (fwd, bwd) in layers.ACTIVATIONS.items():
        out, cache = fwd(x)
        dx = bwd(np.ones_like(out), cache)
        assert out.shape == dx.shape == x.shape, name
        assert np.all(dx >= 0), name
    assert layers.relu_backward(np.ones(3), np.array([-1.0, 0.0, 1.0])).tolist() == [0, 0, 1]
    assert layers.leaky_relu_backward(np.ones(2), (np.array([0.0, 1.0]), 0.1)).tolist() == [0.1, 1]


@pytest.mark.parametrize("loss_name", ["softmax_loss", "svm_loss"])
def test_loss_gradients_and_properties(loss_name):
    rng = np.random.default_rng(3)
    loss_fn = getattr(layers, loss_name)
    scores = rng.normal(size=(6, 5)) * 2
    y = rng.integers(0, 5, size=6)
    loss, dscores = loss_fn(scores, y)
    num = eval_numerical_gradient(lambda s: loss_fn(s, y)[0], scores.copy())
    assert rel_error(dscores, num) < 1e-6
    assert loss >= 0
    np.testing.assert_allclose(dscores.sum(axis=1), 0, atol=1e-12)  # both losses: rows sum to 0


def test_losses_at_zero_scores():
    y = np.array([0, 2, 1])
    assert layers.softmax_loss(np.zeros((3, 4)), y)[0] == pytest.approx(np.log(4))
    assert layers.svm_loss(np.zeros((3, 4)), y)[0] == pytest.approx(3.0)


def test_sigmoid_and_softmax_do_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, _ = layers.sigmoid_forward(np.array([-1e4, -700.0, 0.0, 700.0, 1e4]))
        loss, d = layers.softmax_loss(np.array([[1e4, 0.0, -1e4]]), np.array([2]))
    assert s[0] == 0.0 and s[2] == 0.5 and s[-1] == 1.0
    assert np.isfinite(loss) and np.all(np.isfinite(d))


def test_layers_do_not_modify_their_inputs():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    dout = rng.normal(size=(3, 2))
    args = [x, w, b, dout]
    before = [a.copy() for a in args]
    layers.affine_backward(dout, layers.affine_forward(x, w, b)[1])
    layers.relu_backward(x, layers.relu_forward(x)[1])
    layers.sigmoid_backward(x, layers.sigmoid_forward(x)[1])
    scores = rng.normal(size=(3, 4))
    kept = scores.copy()
    layers.softmax_loss(scores, np.array([0, 1, 2]))
    layers.svm_loss(scores, np.array([0, 1, 2]))
    for a, c in zip(args + [scores], before + [kept]):
        np.testing.assert_array_equal(a, c)
