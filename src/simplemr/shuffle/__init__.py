"""What runs in a task: the map task's budgeted table and its spills, the segments
they are cut into by partition and bucket, and the reduce task that groups them
again (sorting them when asked). Internal: the public names are in ``simplemr``."""
