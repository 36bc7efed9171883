"""Input and output at the edges of a job: paths and URLs, the records inputs are
cut into (text files, their formats, numbered lines, items), the work folder's
private files, and the committed output. Internal: the public names are in
``simplemr``."""
