"""Data in and out: schema and validation, files, date partitions, sources{% if cookiecutter.data_source == "demo" %}, the demo generator{% endif %}.

- ``schema.py``: column names, telling good rows from bad, stable ids.
- ``digest.py``: a batch's content digest, mergeable across chunks and shards.
- ``readers.py``: CSV, Parquet and JSON Lines, on disk or behind an fsspec URL.
- ``storage.py``: date partitions, their file names, atomic writes.
- ``sources.py``: where training data, batches and labels come from ({% if cookiecutter.data_source == "demo" %}demo, files{% elif cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %}).
{%- if cookiecutter.data_source == "warehouse" %}
- ``warehouse.py``: the warehouse source's tables, and ``warehouse init``.
{%- endif %}
{%- if cookiecutter.data_source == "demo" %}
- ``synthetic.py``: the demo's invented batches and late labels.
{%- endif %}
"""
