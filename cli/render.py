"""Rendering results and errors as text: tables for rows, messages for statements."""

from __future__ import annotations

import json
import shutil
from typing import Any

from engine.errors import KsqlError
from engine.results import RowsResult, StatementResult


def render_error(err: Exception) -> str:
    """An error as the user sees it: parse errors with their caret, ksqlDB errors by message."""
    if isinstance(err, KsqlError):
        return err.message
    return str(err)


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def render_table(headers: list[str], rows: list[list[Any]], width: int | None = None) -> str:
    """A boxed text table, columns truncated to fit the terminal width."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    budget = max(8, (width - 3 * len(headers) - 1) // max(1, len(headers)))
    widths = [min(w, budget) for w in widths]

    def line(values: list[str]) -> str:
        return "|" + "|".join(f" {v[:w]:<{w}} " for v, w in zip(values, widths, strict=True)) + "|"

    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [sep, line(headers), sep] + [line(r) for r in cells] + [sep]
    return "\n".join(out)


def render_result(result: StatementResult | RowsResult) -> str:
    """Text for one statement's result."""
    if isinstance(result, RowsResult):
        table = render_table([n for n, _ in result.columns], result.rows)
        return f"{table}\n{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    if result.entity == "currentStatus" or result.data is None:
        return result.message
    if isinstance(result.data, list) and result.data and isinstance(result.data[0], dict):
        headers = list(result.data[0].keys())
        return render_table(headers, [[d.get(h) for h in headers] for d in result.data])
    if isinstance(result.data, dict):
        return render_table(["Name", "Value"], [[k, v] for k, v in result.data.items()])
    return json.dumps(result.data, indent=2, default=str)
