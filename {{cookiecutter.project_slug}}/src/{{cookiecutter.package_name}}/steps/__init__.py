"""One function per DAG task, each ``(settings, logical_date, ...) -> dict``.

The DAG files import these (inside their task bodies) and nothing else of
the package apart from ``settings`` and ``orchestration``. Each step also runs
on its own from the command line, with the same result.
"""
