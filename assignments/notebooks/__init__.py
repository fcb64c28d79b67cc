"""One small helper module per notebook: its visible checks and the pictures only it uses.

The module of notebook ``NN_name`` is ``assignments.notebooks.name`` (the same
rule names the grader's task module ``autograder.tasks.name``).  Anything a
second notebook needs lives in the shared modules of ``assignments`` instead.
"""
