# nbgrader configuration of the course (the repository root is the course directory).
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "numpy-deep-learning"
# Released stubs fail loudly instead of returning None.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError(\"replace this line with your code\")"
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Notebooks read NBGRADER_EXECUTION and run small settings; this is a ceiling.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300

# Feedback pages as `course grade` makes them, for plain `nbgrader generate_feedback` too:
# each check named after its task, written answers still to grade shown as such.
try:
    from autograder.nbgrader_feedback import configure as _feedback
except ImportError:  # the course package is not installed here: nbgrader's own page
    pass
else:
    _feedback(c)
