"""Proposed engine fixes, applied in a measurement process only (``"patches": [...]`` in a spec,
``--patches`` on the runner) so their effect is measured before anyone changes ``engine/``.

Rows measured with patches are labelled with them in the results; they are previews of a
proposal, not figures of the engine as committed. Each patch names the engine function it
replaces and is the concrete change proposed for it (see bench/README.md, "Profiles").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.json as pj


def json_alias() -> None:
    """``JsonDecoder._learn``: learn a JSON-side spelling even when the exact-name column exists.

    With an explicit read schema, ``read_json`` returns the declared column (``AUCTION``) all null
    when the JSON spells it ``auction``; the current ``_learn`` sees the exact name among the
    found columns and never learns ``auction``, so every batch reads all fields by inference and
    folds case variants with ``coalesce``. The fix ignores found columns that are entirely null.
    """
    from engine.formats import json_decode

    def _learn(self: json_decode.JsonDecoder, name: str, found: list[str], table: pa.Table) -> None:
        present = [f for f in found if table.column(f).null_count < table.num_rows]
        if not present or present[0] == self._alias[name]:
            return
        if present[0] != name and present[0] in self._alias.values():
            return
        self._alias[name] = present[0]
        self._read_schema = self._schema()

    json_decode.JsonDecoder._learn = _learn  # type: ignore[method-assign]


def json_newline() -> None:
    """``JsonDecoder._read``: detect values containing a newline by counting newline bytes in the
    joined NDJSON buffer (numpy, ~0.4 ms per 50k values) instead of ``pc.match_substring``
    (~10 ms): the buffer holds exactly one newline per value unless a value has its own."""
    from engine.formats import json_decode

    def _read(self: json_decode.JsonDecoder, values: pa.Array) -> pa.Table:
        buffer = json_decode.ndjson(values, self._prefix, self._suffix)
        if np.count_nonzero(np.frombuffer(buffer, np.uint8) == 10) != len(values):
            raise json_decode._Reject  # a pretty-printed record: let the per-record path take it
        options = pj.ParseOptions(explicit_schema=self._read_schema, unexpected_field_behavior="infer")
        try:
            table = pj.read_json(
                pa.BufferReader(buffer),
                read_options=pj.ReadOptions(use_threads=False, block_size=max(json_decode._BLOCK, buffer.size + 1)),
                parse_options=options,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            raise json_decode._Reject from e
        if table.num_rows != len(values):
            raise json_decode._Reject
        try:
            return self._finish(table)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, json_decode.RecordError) as e:
            raise json_decode._Reject from e

    json_decode.JsonDecoder._read = _read  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {"json-alias": json_alias, "json-newline": json_newline}


def apply(names: list[str]) -> None:
    """Apply the named patches in this process."""
    for name in names:
        PATCHES[name]()
