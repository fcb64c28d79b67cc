"""The library of the numpy deep-learning course: the notebooks import, the library owns.

Nothing here imports a notebook.  The package has three kinds of modules:

* shared tools: ``cases`` (how every check calls and judges code), ``static``
  (the no-loop rule), ``gradcheck``, ``stat_checks``, ``adapters``, ``solver``
  (training loop and model protocol), ``recipes`` (how tuned hyperparameters
  are graded), ``metrics``, ``data``, ``vis``, ``monitor``, ``search``, ``timing``;
* helpers that are no answer: ``layers`` (tanh, leaky ReLU, the activation
  table), ``optim`` (plain SGD and the update-rule contract),
  ``normalization`` (DropConnect and the contracts), ``models``; ``blocks``
  (earlier notebooks' answers, looked up at call time: the answers' one home
  is the source notebook), ``expected`` (the visible checks' stored values),
  ``convolution`` (notebook 6's layer contract, sizes and DropBlock) and
  ``convnet`` (what notebook 6's experiments do with its network).  The
  faster update rules (``fast``) are answers and stay out of the student
  edition;
* one small helper module per notebook in ``assignments.notebooks``.

Conventions used across the whole course
----------------------------------------
* Randomness: every function that needs random numbers takes a
  ``numpy.random.Generator`` argument called ``rng``; notebooks create one
  generator per experiment with ``np.random.default_rng(seed)``.  The only
  code here that touches numpy's global random state is notebook 2's
  ``sgd_probe``, which seeds it on purpose (and restores it afterwards) to
  catch a training loop that draws its batches from it.
* Quick mode: when nbgrader (or the course's own grader) executes a notebook
  it sets ``NBGRADER_EXECUTION``; ``budget(quick=..., full=...)`` then picks
  the small setting, so every notebook runs in well under a minute while it
  is graded.  ``COURSE_QUICK=1`` forces quick mode, ``COURSE_QUICK=0`` forces
  full mode; anywhere else (a student's "Run all") a notebook runs in full
  mode.  ``assignments.mode`` holds all of this, and ``show_mode`` says it in
  each notebook's first code cell.
* Regularization: L2 weight decay adds ``reg * np.sum(W * W)`` to the loss
  (no factor 1/2), so its gradient is ``2 * reg * W``.  Biases are not
  regularized.  Every notebook uses this one convention.
* Layers are plain functions ``forward(x, ...) -> (out, cache)`` and
  ``backward(dout, cache) -> gradients in the order of forward's inputs``.
  Update rules are pure: ``update(w, dw, config) -> (next_w, next_config)``.
  Mode ("train" / "test") and randomness are arguments; state that is not
  learned (batch norm's running averages) goes in and comes out, and the
  model owns it (the model protocol is in ``assignments.solver``).
* Dropout is parametrised by ``keep_prob``, the probability of keeping a unit.
* Shapes: ``N`` examples, ``D`` features, ``C`` classes (or channels for
  images ``(N, C, H, W)``), ``H`` hidden units / image height, ``W`` width.
"""

from __future__ import annotations

from .mode import budget, is_quick, show_mode

__all__ = ["budget", "is_quick", "show_mode"]

__version__ = "0.1.0"
