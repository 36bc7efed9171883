"""Running a job from a command line: what every command line of simplemr is made
of (its engine options, exit statuses, messages and reports: ``common``, ``words``),
and a job class's own (``python job.py``, ``simplemr run``: ``jobs``).

Below the job classes, which launch themselves through it (``Job.main()``), and
below ``simplemr.cli``, the ``simplemr`` program's commands: it knows a job class
only as an argument, never by import.
"""
