"""The instructor's pipeline around nbgrader: release, grade, feedback, demo.

Run ``course --help`` for the commands.  This package is for instructors;
students only need ``assignments``.
"""

__version__ = "0.1.0"
