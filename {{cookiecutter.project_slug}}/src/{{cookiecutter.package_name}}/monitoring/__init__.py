"""Is the model still right? Statistics, window rules, alerts and the report.

- ``statistics.py``: pure numbers of scored batches (mergeable counts, PSI, OOV); no I/O.
- ``rules.py``: which run of days is a problem, and which alerts it raises; no I/O.
- ``alerts.py``: alert kinds and their delivery to a webhook.
- ``report.py`` and ``charts.py``: the summary and HTML report a person reads.
- ``model_report.py``: the evaluation page of a version, and champion against challenger.
"""
