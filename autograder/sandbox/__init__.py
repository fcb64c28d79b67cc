"""What runs inside the sandbox: the trust boundary of the grader, as a folder.

Every module here is copied into each job's read-only runtime folder and
executed there as the package ``sandbox``; the trusted grader imports the
same modules as ``autograder.sandbox``.  So they import only the standard
library, numpy, IPython, matplotlib, ``assignments`` (which the sandbox may
read) and each other (relative imports); ``tests/test_sandbox.py`` checks it.

* ``broker``: the sandbox's first process.  It confines itself, forks the
  kernel, relays the grader's requests to it and its answers back, records
  its audit events and removes stray processes.  It holds the only ends of
  the channel to the grader; no student code ever runs in it.
* ``kernel``: runs the student's cells (IPython) and calls graded functions
  on the cases it is sent; answers only with plain data.
* ``probe``: the graded calls, each probe in a child of the kernel that
  cannot start threads or processes, while the broker keeps everything
  else in the sandbox stopped or gone.
* ``confine``, ``landlock``, ``seccomp``: resource limits, capabilities,
  private tmpfs folders, the filesystem/network allow-list and the
  system-call filters.
* ``wire``: the plain-data message format.  ``events``: the audit events
  recorded and the flag each one raises.  ``trace``: which code ran during a
  graded call (recorded in the call's process, summarized by the broker).
"""
