"""Reading CSV, Parquet and JSON Lines files, on disk or behind an fsspec URL.
{%- if cookiecutter.data_source == "warehouse" %}

One reader for labeled files (``train --data``) and ``predict --input``;
every reading error becomes one line naming the file.
{%- else %}

One reader for training files, batch files, label files and ``predict
--input``; every reading error becomes one line naming the file.
{%- endif %}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import ID, LABEL, TEXT
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import is_url

# Columns read as strings unless the caller names others (data/columns.py's ``strings``).
STRING_COLUMNS = (TEXT, LABEL, ID)
# Rows of a day's batch read at a time.
READ_CHUNK_ROWS = 50_000
# File name endings the readers understand.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def table_format(path: Path | str) -> str:
    """``csv``, ``parquet`` or ``jsonl``, from the file name."""
    suffix = PurePosixPath(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise DataValidationError(
            f"{path} is not .csv, .parquet or .jsonl: convert it to one of those."
        )
    return FORMATS[suffix]


def read_table(path: Path | str, strings: Iterable[str] = STRING_COLUMNS) -> pd.DataFrame:
    """Read one CSV, Parquet or JSON Lines file, or say in one line why it cannot be read."""
    return pd.concat(list(read_chunks(path, chunk_rows=None, strings=strings)), ignore_index=True)


def read_chunks(
    path: Path | str, chunk_rows: int | None, strings: Iterable[str] = STRING_COLUMNS
) -> Iterator[pd.DataFrame]:
    """The file in frames of at most ``chunk_rows`` rows (None: one frame).

    The ``strings`` columns of a CSV stay strings (an id such as ``007`` keeps
    its zeros); a local path or an fsspec URL. Every reading error names the file.
    A wrong suffix or a missing file fails here, at the call, before any frame
    is asked for: a caller checks its input before loading a model.
    """
    kind = table_format(path)
    if not is_url(str(path)) and not Path(path).is_file():
        raise DataValidationError(f"{path} does not exist: pass a CSV, Parquet or JSON Lines file.")
    return _named_errors(path, kind, chunk_rows, strings)


def _named_errors(
    path: Path | str, kind: str, chunk_rows: int | None, strings: Iterable[str]
) -> Iterator[pd.DataFrame]:
    try:
        yield from _chunks(str(path), kind, chunk_rows, dict.fromkeys(strings, "string"))
    except DataValidationError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, ImportError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise DataValidationError(f"cannot read {path} as {kind}: {first_line}") from None


def _chunks(
    path: str, kind: str, chunk_rows: int | None, strings: dict[str, str]
) -> Iterator[pd.DataFrame]:
    if kind == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(_open(path)) as parquet:
            if chunk_rows is None:
                yield parquet.read().to_pandas()
            else:
                for batch in parquet.iter_batches(batch_size=chunk_rows):
                    yield batch.to_pandas()
        return
    if kind == "csv":
        reader = pd.read_csv(
            path, dtype=strings, keep_default_na=False, chunksize=chunk_rows, encoding="utf-8"
        )
    else:
        reader = pd.read_json(path, lines=True, dtype=False, chunksize=chunk_rows)
    if chunk_rows is None:
        yield reader
        return
    with reader:
        yield from reader


def _open(path: str):
    if not is_url(path):
        return path
    import fsspec

    return fsspec.open(path, "rb").open()
