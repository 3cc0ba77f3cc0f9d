"""A batch's content digest, taken chunk by chunk and shard by shard, as MLflow digests a DataFrame.

Pure pandas, no MLflow: a shard task computes its part without importing it.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pandas as pd

# MLflow's own digest of a pandas dataset (mlflow.data.digest_utils) hashes this many rows.
DIGEST_HEAD_ROWS = 10_000


class BatchDigest:
    """Like ``mlflow.data.from_pandas``: a hash of the first ``head_rows`` rows, the row
    count and the column names. The same for any chunking or sharding, and without
    hashing every row of a large batch.

    It keeps the row hashes of the head (8 bytes a row) rather than a running
    sha256, so that digests of consecutive shards merge into the whole batch's.
    """

    def __init__(self, head_rows: int = DIGEST_HEAD_ROWS) -> None:
        self.head_rows = head_rows
        self.rows = 0
        self.columns: list[str] = []
        self._head = b""

    def add(self, chunk: pd.DataFrame) -> None:
        wanted = self.head_rows - self.rows
        if wanted > 0:
            head = pd.util.hash_pandas_object(chunk.iloc[:wanted], index=False)
            self._head += head.to_numpy().tobytes()
        self.rows += len(chunk)
        self.columns = [str(column) for column in chunk.columns]

    def merge(self, later: BatchDigest) -> BatchDigest:
        """The digest of these rows followed by ``later``'s."""
        merged = BatchDigest(self.head_rows)
        merged._head = (self._head + later._head)[: 8 * self.head_rows]
        merged.rows = self.rows + later.rows
        merged.columns = later.columns or self.columns
        return merged

    def hexdigest(self) -> str:
        digest = hashlib.sha256(self._head)
        digest.update(json.dumps([self.rows, self.columns]).encode())
        return digest.hexdigest()[:16]

    def to_dict(self) -> dict:
        return {
            "head_rows": self.head_rows,
            "rows": self.rows,
            "columns": self.columns,
            "head": base64.b64encode(self._head).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, saved: dict) -> BatchDigest:
        digest = cls(saved["head_rows"])
        digest.rows, digest.columns = saved["rows"], list(saved["columns"])
        digest._head = base64.b64decode(saved["head"])
        return digest
