"""Watching a job: the progress bar, the summary printed after a run, and the HTML
report. Internal: the public names are in ``simplemr``."""
