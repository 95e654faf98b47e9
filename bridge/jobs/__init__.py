"""Jobs as data and processes: the SQLite store, the worker process and what it runs. The lifecycle
that ties them together is ``bridge.core.jobs``."""
