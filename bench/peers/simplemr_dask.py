"""simplemr on its dask executor: a LocalCluster of 2 worker processes (one thread
each), started for the job, the same jobs as simplemr_local."""

from __future__ import annotations

import distributed
import simplemr_local
from contender import main

import simplemr

if __name__ == "__main__":
    simplemr_local.EXECUTOR = "dask"
    main(
        simplemr_local.run,
        {"simplemr": simplemr.__version__, "distributed": distributed.__version__},
    )
