"""The labelling queue: which of the day's predictions a person should label.

Each batch run asks for the true labels of ``label_requests_per_day`` rows,
in two parts:

- ``uncertain``: the rows with the smallest margin between the top two class
  probabilities. The margin, rather than the entropy of all classes, because
  it ranks by the one confusion a label settles (between the two likeliest
  classes), is not swayed by how the probability of the unlikely classes is
  spread, and is the same order as the confidence with two labels. These
  labels teach retraining the most, but their accuracy is biased low.
- ``random``: a uniform random sample of ``label_random_share`` of the
  requests, drawn from the whole batch (uncertain rows included, so it stays
  uniform). Monitoring scores these alone for an unbiased accuracy with an
  interval (steps/monitoring.py). A row both parts pick is marked ``random``,
  and the next most uncertain row takes its place.

The choice is the same on every run of a date: the random part is the rows
whose hash of (seed, date, id) is smallest, ties of margin go by that hash.
Both parts are kept as bounded candidate lists while the day's parts are read
chunk by chunk, so a batch of millions of rows is never held whole.

The requests go into the day's predictions partition (``label_requests.csv``,
what monitoring{% if cookiecutter.data_source == "demo" %} and the demo's labeller{% endif %} read{% if cookiecutter.data_source != "demo" %}s{% endif %}) and are delivered beside the
predictions:
{%- if cookiecutter.data_source == "warehouse" %} to the ``label_requests_table``.
{%- else %} to ``<outgoing_dir>/ds=D/label_requests.csv``.
{%- endif %}
Each row carries ``ds``, the id, the text, ``prediction``, ``confidence``
and ``reason``; labels come back through the usual feedback path, with
``ds`` and the id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import DS, ID, MARGIN, TEXT
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data.sources import FileSource, source_for
{%- elif cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.sources import source_for
{%- endif %}
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import Settings

UNCERTAIN, RANDOM = "uncertain", "random"
REASON = "reason"
REQUEST_COLUMNS = [DS, ID, TEXT, "prediction", "confidence", REASON]
_KEY = "_sample_key"


def sample_key(day: date | str, seed: int) -> str:
    """The 16-character hash key of a date's random sample (pandas' ``hash_array`` takes one)."""
    text = f"{seed}:{storage.as_date(day).isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _keys(ids: pd.Series, key: str) -> np.ndarray:
    return pd.util.hash_array(ids.astype(str).to_numpy(dtype=object), hash_key=key)


def _smallest(kept: pd.DataFrame | None, chunk: pd.DataFrame, count: int, by: list[str]):
    frame = chunk if kept is None else pd.concat([kept, chunk], ignore_index=True)
    return frame.sort_values(by, kind="stable").head(count).reset_index(drop=True)


def select_requests(
    chunks: Iterable[pd.DataFrame], day: date | str, count: int, random_share: float, seed: int
) -> pd.DataFrame:
    """The day's requests from its scored rows, read chunk by chunk.

    ``chunks`` have ``id``, ``text``, ``prediction``, ``confidence`` and
    ``margin``. At most ``count`` rows come back: ``round(count * random_share)``
    of them ``random``, the rest ``uncertain``; fewer when the batch is smaller.
    """
    random_count = round(count * random_share)
    key = sample_key(day, seed)
    uncertain = sample = None
    for chunk in chunks:
        chunk = chunk.assign(**{_KEY: _keys(chunk[ID], key)})
        if random_count:
            sample = _smallest(sample, chunk, random_count, [_KEY])
        # count candidates, not count - random_count: random may take some of them.
        uncertain = _smallest(uncertain, chunk, count, [MARGIN, _KEY])
    if uncertain is None or not count:
        return pd.DataFrame({column: pd.Series(dtype="string") for column in REQUEST_COLUMNS})
    sample = uncertain.head(0) if sample is None else sample
    uncertain = uncertain[~uncertain[ID].isin(sample[ID])].head(count - len(sample))
    requests = pd.concat(
        [uncertain.assign(**{REASON: UNCERTAIN}), sample.assign(**{REASON: RANDOM})],
        ignore_index=True,
    )
    requests.insert(0, DS, storage.as_date(day).isoformat())
    return requests[REQUEST_COLUMNS].astype({DS: "string", ID: "string", REASON: "string"})


def _scored_chunks(partition: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    for part in storage.part_files(partition):
        names = pq.read_schema(part).names
        # A partition scored before the margin was kept: with two labels the
        # confidence ranks the rows the same way.
        margin = MARGIN if MARGIN in names else "confidence"
        columns = [ID, TEXT, "prediction", "confidence", *([margin] if margin == MARGIN else [])]
        for chunk in storage.read_parquet_chunks(part, chunk_rows, columns):
            yield chunk if margin == MARGIN else chunk.assign(**{MARGIN: chunk["confidence"]})


def requests_path(settings: Settings, day: date | str) -> Path:
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    return partition / storage.LABEL_REQUESTS_FILE


def read_requests(settings: Settings, day: date | str) -> pd.DataFrame | None:
    """The day's requests as written (``ds``, ``id``, ..., ``reason``); None if it has none."""
    path = requests_path(settings, day)
    if not path.is_file():
        return None
    return pd.read_csv(
        path, dtype={DS: "string", ID: "string", TEXT: "string", "prediction": "string"}
    ).astype({REASON: "string"})


def request_labels(settings: Settings, day: date | str) -> dict:
    """Choose the day's requests from its predictions; write and deliver them (a rerun replaces).

    With ``label_requests_per_day`` 0 the day has no requests (an earlier run's go).
    """
    day = storage.as_date(day)
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    if not storage.part_files(partition):
        raise PipelineError(f"no predictions in {partition}: run predict for {day} first.")
    data = settings.data
    target = requests_path(settings, day)
    if not data.label_requests_per_day:
        target.unlink(missing_ok=True)
        return {"logical_date": day.isoformat(), "requested": 0, "path": None, "location": None}
    requests = select_requests(
        _scored_chunks(partition, data.inference_chunk_rows),
        day,
        data.label_requests_per_day,
        data.label_random_share,
        settings.model.random_seed,
    )
    storage.write_text(requests.to_csv(index=False), target)
    reasons = requests[REASON].value_counts()
    return {
        "logical_date": day.isoformat(),
        "requested": len(requests),
        UNCERTAIN: int(reasons.get(UNCERTAIN, 0)),
        RANDOM: int(reasons.get(RANDOM, 0)),
        "path": str(target),
        "location": _deliver(settings, day, requests),
    }


def _deliver(settings: Settings, day: date, requests: pd.DataFrame) -> str | None:
    """The requests where the team reads the predictions, in its column names."""
{%- if cookiecutter.data_source != "files" %}
    source = source_for(settings)
{%- endif %}
    data = settings.data
    named = requests.rename(columns={ID: data.id_column, TEXT: data.text_column})
{%- if cookiecutter.data_source == "warehouse" %}
    source.write_label_requests(day, named)
    return source.label_requests_location()
{%- else %}
{%- if cookiecutter.data_source == "demo" %}
    if not isinstance(source, FileSource):
        return None  # the demo: its labeller reads the partition's copy
{%- endif %}
    return storage.write_outgoing(
        data.outgoing_dir,
        day,
        storage.LABEL_REQUESTS_FILE,
        lambda target: named.to_csv(target, index=False),
        mode="w",
    )
{%- endif %}
