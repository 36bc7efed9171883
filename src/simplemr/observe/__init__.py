"""Watching a job: the progress bar, the summary printed after a run, the HTML
report, and the process memory they quote. Internal: the public names are in
``simplemr``."""
