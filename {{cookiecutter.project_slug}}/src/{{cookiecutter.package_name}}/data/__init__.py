"""Data in and out: schema and validation, files, date partitions, sources, the demo generator.

- ``schema.py``: column names, telling good rows from bad, stable ids.
- ``digest.py``: a batch's content digest, mergeable across chunks and shards.
- ``readers.py``: CSV, Parquet and JSON Lines, on disk or behind an fsspec URL.
- ``storage.py``: date partitions, their file names, atomic writes.
- ``sources.py``: where training data, batches and labels come from (demo, files{% if cookiecutter.data_source == "warehouse" %}, warehouse{% endif %}).
{%- if cookiecutter.data_source == "warehouse" %}
- ``warehouse.py``: the warehouse source's tables, and ``warehouse init``.
{%- endif %}
- ``synthetic.py``: the demo's invented batches and late labels.
"""
