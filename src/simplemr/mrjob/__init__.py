"""Running mrjob jobs, unmodified, on simplemr's engine.

``simplemr mrjob job.py [options] [INPUT ...]`` loads a job file written for mrjob
with its ``mrjob.*`` imports resolved to this package (see ``aliases``), and
runs it as mrjob's local runner would, printing what mrjob prints. The modules
here are the parts of mrjob's API that job files use:

    job.py       MRJob: hooks, steps, options, protocols, runner entry points
    step.py      MRStep, and the step kinds only Hadoop or Spark can run (refused)
    protocol.py  the protocols that turn lines into pairs and back
    runner.py    make_runner(): run(), cat_output(), counters()
    compat.py, util.py, py2.py   the helpers job files import

and the parts that run them:

    streaming.py  an MRJob step as an engine step: pairs travel as encoded lines
    commands.py   pre-filters and *_cmd substeps: shell commands over a spool
    taskenv.py    a task's working folder (uploaded files) and jobconf variables
    aliases.py    ``import mrjob...`` resolved to this package, in one process
"""

#: The mrjob release whose behaviour this package follows.
__version__ = "0.7.4"
