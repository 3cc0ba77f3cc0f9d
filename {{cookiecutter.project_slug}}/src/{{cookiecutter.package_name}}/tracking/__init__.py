"""Everything that talks to MLflow.

- ``client.py``: the connection, experiments, and a clear error when the server is down.
- ``runs.py``: run and artifact names keyed by logical date, and the one run lookup.
- ``registry.py``: the champion alias, loading a version, promotion and rollback.
- ``gate.py``: the promotion rule, as a pure function.
- ``lineage.py``: dataset sources, and tracing predictions back to their model and data.
- ``model_cache.py``: this host's cache of versions already loaded and checked.
- ``pinned.py``: a version pinned by value, so a shard loads it from the cache without MLflow.
- ``inference_run.py``: batch inference's calls to MLflow (pin, drift reference, the day's run).
- ``sidecar.py``: a process beside ``predict --date`` that imports MLflow and answers those calls.
- ``evaluation.py``: MLflow's classifier evaluator and the evaluation report on a run.
"""
