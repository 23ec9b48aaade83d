"""Imported by the forkserver that forks the query workers, and by nothing else, after the workers' module.

It asks the kernel to kill the forkserver the moment the server dies, so the workers' own parent-death
signal follows at once. (Left to itself the forkserver notices the server's end on a pipe and then shuts
its interpreter down, which took over 3 s on a loaded machine while the workers ran on.) The server starts
the forkserver from its main thread (QueryPool.start), since the signal is tied to the thread that started
the process.

It also moves every object the forkserver has made so far (the imported modules) to the garbage
collector's permanent generation: a worker's collections then never write to them, so their memory pages
stay shared between the forkserver and every worker instead of being copied into each.
"""

import gc

from sparql_api.lifetime import die_with_parent

die_with_parent()
gc.freeze()
