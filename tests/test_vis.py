"""Unit tests for assignments/vis.py (Agg backend, set in conftest)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from assignments.vis import (class_samples, confusion_matrix, image_grid, plot_confusion_matrix,
                             to_displayable)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_to_displayable_grayscale():
    rng = np.random.default_rng(0)
    X = rng.integers(10, 200, size=(5, 1, 6, 7)).astype(np.uint8)
    out = to_displayable(X)
    assert out.shape == (5, 6, 7)
    assert out.dtype == np.float64
    # every image is stretched to the full range on its own
    assert np.allclose(out.min(axis=(1, 2)), 0.0) and np.allclose(out.max(axis=(1, 2)), 1.0)
    i = 2
    lo, hi = X[i].min(), X[i].max()
    assert np.allclose(out[i], (X[i, 0].astype(float) - lo) / (hi - lo))


def test_to_displayable_colour_moves_channels_last():
    X = np.zeros((2, 3, 4, 5))
    X[0, 0, 1, 2] = -3.0   # red channel of image 0
    X[0, 2, 3, 4] = 5.0    # blue channel of image 0
    X[1] = 7.0             # a constant image
    out = to_displayable(X)
    assert out.shape == (2, 4, 5, 3)
    assert out[0, 1, 2, 0] == 0.0 and out[0, 3, 4, 2] == 1.0
    assert out[0, 0, 0, 1] == pytest.approx(3 / 8)
    assert np.all(out[1] == 0.0)  # no division by zero
    assert np.all((out >= 0) & (out <= 1))


def test_to_displayable_does_not_modify_input():
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    to_displayable(X)
    assert X[0, 0, 3, 3] == 15.0


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 2, 28, 28), (5, 28, 28, 3), (28, 28)])
def test_to_displayable_wrong_shape(shape):
    with pytest.raises(ValueError) as info:
        to_displayable(np.zeros(shape))
    assert str(info.value) == (f"images must have shape (N, C, H, W) with C = 1 or 3, "
                               f"got {shape}")


def test_image_grid_axes_and_titles():
    X = np.random.default_rng(0).random((7, 1, 8, 8))
    fig = image_grid(X, titles=[f"t{i}" for i in range(7)], ncols=3, suptitle="weights")
    assert len(fig.axes) == 9  # 3 rows of 3
    shown = _image_axes(fig)
    assert len(shown) == 7
    assert [ax.get_title() for ax in shown] == [f"t{i}" for i in range(7)]
    assert shown[0].images[0].get_cmap().name == "gray"
    assert np.allclose(shown[3].images[0].get_array(), to_displayable(X)[3])
    assert fig._suptitle.get_text() == "weights"


def test_image_grid_colour_and_few_images():
    X = np.random.default_rng(1).random((2, 3, 8, 8))
    fig = image_grid(X)  # ncols shrinks to the number of images
    assert len(fig.axes) == 2 and len(_image_axes(fig)) == 2
    assert _image_axes(fig)[0].images[0].get_array().shape == (8, 8, 3)


def test_class_samples_rows_and_counts():
    rng = np.random.default_rng(0)
    y = np.array([0] * 5 + [1] * 2 + [2] * 6)
    X = rng.integers(0, 255, size=(len(y), 1, 4, 4)).astype(np.uint8)
    classes = ("a", "b", "c", "d")  # class 3 has no examples
    fig = class_samples(X, y, classes, per_class=3, rng=np.random.default_rng(0))
    axes = np.array(fig.axes).reshape(4, 3)
    counts = [sum(bool(ax.images) for ax in row) for row in axes]
    assert counts == [3, 2, 3, 0]
    assert [row[0].get_ylabel() for row in axes] == list(classes)
    # the images in row 1 are exactly the two examples of class "b"
    shown = sorted(ax.images[0].get_array().data.tobytes() for ax in axes[1][:2])
    expected = sorted(img.tobytes() for img in to_displayable(X[5:7]))
    assert shown == expected


def test_class_samples_deterministic_per_seed():
    y = np.repeat(np.arange(2), 20)
    X = np.arange(40 * 16, dtype=float).reshape(40, 1, 4, 4) % 97

    def picked(seed):
        fig = class_samples(X, y, ("a", "b"), 4, np.random.default_rng(seed))
        return [ax.images[0].get_array().data.tobytes() for ax in fig.axes]

    assert picked(3) == picked(3)
    assert picked(3) != picked(4)


def test_confusion_matrix_counts_exactly():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    counts = confusion_matrix(y_true, y_pred, 4)
    assert counts.dtype == np.int64
    assert counts.tolist() == [[1, 1, 0, 0],
                               [0, 2, 1, 0],
                               [1, 0, 3, 0],
                               [0, 0, 0, 0]]
    assert counts.sum() == len(y_true)


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match=r"y_true \(3,\) and y_pred \(2,\) differ in shape"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match=r"y_true holds labels from -1 to 1; they must lie in 0..2"):
        confusion_matrix([0, -1, 1], [0, 1, 1], 3)
    with pytest.raises(ValueError, match=r"y_pred holds labels from 0 to 3; they must lie in 0..2"):
        confusion_matrix([0, 1, 1], [0, 3, 1], 3)
    assert confusion_matrix([], [], 2).tolist() == [[0, 0], [0, 0]]


def test_plot_confusion_matrix_normalized():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 1]
    ax = plot_confusion_matrix(y_true, y_pred, ("cat", "dog"))
    shown = ax.images[0].get_array()
    assert np.allclose(shown, [[0.75, 0.25], [0.0, 1.0]])
    assert sorted(t.get_text() for t in ax.texts) == ["0.00", "0.25", "0.75", "1.00"]
    assert ax.get_title() == "confusion matrix (accuracy 0.833)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    assert ax.get_ylabel() == "true class"


def test_plot_confusion_matrix_counts_on_given_axes():
    fig, ax = plt.subplots()
    out = plot_confusion_matrix([0, 1, 1], [1, 1, 1], ("a", "b"), ax=ax, normalize=False)
    assert out is ax
    assert sorted(t.get_text() for t in ax.texts) == ["0", "0", "1", "2"]
    assert len(fig.axes) == 2  # the matrix and its colour bar
