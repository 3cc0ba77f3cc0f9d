"""A team's column names and label values, turned into the pipeline's own as data is read.

Inside, the columns are ``text``, ``sentiment`` and ``id`` (data/schema.py) and
labels are label names. The settings ``text_column``, ``label_column`` and
{%- if cookiecutter.data_source == "warehouse" %}
``id_column`` say what a team's warehouse tables, ``train --data`` files and
``predict --input`` files call them, and ``label_map``
{%- else %}
``id_column`` say what a team's training files, batches, label files and
``predict --input`` files call them, and ``label_map``
{%- endif %}
what their other label values mean (``"1"`` to ``negative``). The sources
(data/sources.py) and ``predict --input`` apply them where they read; what
the pipeline delivers carries the team's id column name again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import DS, ID, LABEL, TEXT, normalized_labels
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import Settings, label_key


@dataclass(frozen=True)
class Columns:
    """Where a team's data keeps texts, labels and ids, and which source values mean which label.

    ``Columns()`` is the pipeline's own naming{% if cookiecutter.data_source == "demo" %}: what the demo writes and reads{% endif %}.
    """

    text: str = TEXT
    label: str = LABEL
    id: str = ID
    # Source value (as ``label_key`` compares it) -> label name.
    label_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> Columns:
        data = settings.data
        return cls(
            text=data.text_column,
            label=data.label_column,
            id=data.id_column,
            label_map={label_key(key): label_key(label) for key, label in data.label_map.items()},
        )

    @property
    def strings(self) -> tuple[str, ...]:
        """Columns a reader keeps as strings: an id ``007`` keeps its zeros, a rating ``4``."""
        return tuple(dict.fromkeys((TEXT, LABEL, ID, self.text, self.label, self.id)))

    def labels_of(self, values: pd.Series) -> pd.Series:
        """Source label values as label names where ``label_map`` says so; the rest as compared."""
        keys = normalized_labels(values)
        if not self.label_map:
            return keys
        return keys.map(self.label_map, na_action="ignore").fillna(keys).astype("string")

    def labeled(self, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        """Training rows as ``text``, ``sentiment``; a missing column is named with its setting."""
        self._require(frame, {"text_column": self.text, "label_column": self.label}, where)
        return pd.DataFrame({TEXT: frame[self.text], LABEL: self.labels_of(frame[self.label])})

    def labels(self, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        """Rows of a label file or table as ``id``, ``sentiment`` (and ``ds`` if they have it)."""
        self._require(frame, {"id_column": self.id, "label_column": self.label}, where)
        labels = pd.DataFrame({ID: frame[self.id], LABEL: self.labels_of(frame[self.label])})
        return labels.assign(**{DS: frame[DS]}) if DS in frame.columns else labels

    def _require(self, frame: pd.DataFrame, needed: dict[str, str], where: str) -> None:
        missing = [column for column in needed.values() if column not in frame.columns]
        if missing:
            names = " and ".join(f"'{column}' ({setting})" for setting, column in needed.items())
            raise DataValidationError(
                f"{where} lacks column(s) {', '.join(missing)}: it needs {names} "
                f"(columns: {list(frame.columns)}); set those settings to the names it uses."
            )
