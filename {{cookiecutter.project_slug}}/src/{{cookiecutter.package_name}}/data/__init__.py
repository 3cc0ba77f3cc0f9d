"""Data in and out: schema and validation, date partitions, sources, the demo generator.

- ``schema.py``: column names, reading a table, telling good rows from bad.
- ``storage.py``: date partitions, their file names, atomic writes.
- ``sources.py``: where training data and batches come from (bundled, files, warehouse).
- ``synthetic.py``: the demo's invented batches and late labels.
"""
