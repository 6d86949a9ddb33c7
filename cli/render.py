"""Rendering results and errors as text: tables sized to the terminal, ksqlDB-CLI style listings,
JSON output, and a live table that push-query rows are appended to as they arrive."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any, TextIO

import parser as sqlparser
from cli.entities import Result, to_entity
from cli.errors import CliError, RemoteError
from cli.jsonout import dumps
from engine.errors import KsqlError
from engine.results import RowsResult, StatementResult

# entity -> (column headers, function picking the cells of one item)
_LISTINGS: dict[str, tuple[list[str], Callable[[dict[str, Any]], list[Any]]]] = {
    "streams": (["Stream Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"],
                lambda d: [d.get("name"), d.get("topic"), d.get("keyFormat"), d.get("valueFormat"),
                           d.get("isWindowed")]),
    "tables": (["Table Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"],
               lambda d: [d.get("name"), d.get("topic"), d.get("keyFormat"), d.get("valueFormat"),
                          d.get("isWindowed")]),
    "queries": (["Query ID", "Query Type", "Status", "Sink Name", "Query String"],
                lambda d: [d.get("id"), d.get("queryType", "PERSISTENT"), d.get("state", "RUNNING"),
                           ",".join(d.get("sinks") or []), d.get("queryString")]),
    "kafka_topics": (["Kafka Topic", "Partitions", "Partition Replicas"],
                     lambda d: [d.get("name"), len(d.get("replicaInfo") or []),
                                " ".join(str(r) for r in d.get("replicaInfo") or [])]),
    "function_names": (["Function Name", "Type", "Category"],
                       lambda d: [d.get("name"), d.get("type"), d.get("category")]),
}


def terminal_width(default: int = 120) -> int:
    """Columns of the terminal (or ``default`` when not on one)."""
    return shutil.get_terminal_size((default, 24)).columns


def render_error(err: BaseException) -> str:
    """An error as the user sees it: parse errors with their caret, ksqlDB errors by message."""
    if isinstance(err, RemoteError):
        return err.render()
    if isinstance(err, KsqlError | CliError):
        return err.message
    if isinstance(err, sqlparser.ParseError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def cell(value: Any) -> str:
    """One value as text: null for None, JSON for structures."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return dumps(value)
    return str(value)


def _printable(text: str) -> str:
    """Control characters (raw key bytes in PRINT lines) escaped, so they cannot drive the terminal."""
    return "".join(c if c >= " " or c == "\t" else f"\\x{ord(c):02x}" for c in text)


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def fit_widths(natural: list[int], width: int) -> list[int]:
    """Column widths that fit ``width`` characters: narrow columns keep their size, the wide ones
    share what is left (so one long column does not squeeze every other)."""
    budget = max(width - 3 * len(natural) - 1, len(natural) * 4)
    widths = list(natural)
    while sum(widths) > budget:
        widest = max(widths)
        others = sum(w for w in widths if w != widest)
        n_widest = sum(1 for w in widths if w == widest)
        target = max(4, (budget - others) // n_widest)
        if target >= widest:
            target = widest - 1
        widths = [min(w, target) for w in widths]
        if widest <= 4:
            break
    return widths


def render_table(headers: list[str], rows: list[list[Any]], width: int | None = None) -> str:
    """A boxed text table, columns clipped to fit the terminal width."""
    width = width or terminal_width()
    cells = [[cell(v) for v in row] for row in rows]
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    widths = fit_widths(natural, width)

    def line(values: list[str]) -> str:
        return "|" + "|".join(f" {_clip(v, w):<{w}} " for v, w in zip(values, widths, strict=True)) + "|"

    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    return "\n".join([sep, line(headers), sep] + [line(r) for r in cells] + [sep])


def _describe(data: dict[str, Any], width: int) -> str:
    """DESCRIBE output: the source's properties, then its fields (like ksqlDB's CLI)."""
    head = [f"{'Name':<13}: {data.get('name')}", f"{'Type':<13}: {data.get('type')}",
            f"{'Kafka topic':<13}: {data.get('topic')} (partitions: {data.get('partitions')})",
            f"{'Key format':<13}: {data.get('keyFormat')}", f"{'Value format':<13}: {data.get('valueFormat')}"]
    if data.get("timestamp"):
        head.append(f"{'Timestamp':<13}: {data['timestamp']}")
    fields = []
    for f in data.get("fields", []):
        kind = f.get("type")
        suffix = {"KEY": " (key)", "PRIMARY_KEY": " (primary key)", "HEADER": " (header)"}.get(kind or "", "")
        schema = f.get("schema", {})
        fields.append([f.get("name"), f"{schema.get('fullType', schema.get('type'))}{suffix}"])
    parts = ["\n".join(head), render_table(["Field", "Type"], fields, width)]
    for label, key in (("Queries that read from this source", "readQueries"),
                       ("Queries that write from this source", "writeQueries")):
        if data.get(key):
            parts.append(f"{label}\n" + "\n".join(f"  {q['id']} : {q['queryString']}" for q in data[key]))
    if data.get("statistics"):
        parts.append(f"Runtime statistics: {data['statistics']}")
    return "\n\n".join(parts)


def _explain(data: dict[str, Any]) -> str:
    """EXPLAIN output: the query, its sources and sinks, then the plan as the engine wrote it."""
    lines = [f"{'ID':<14}: {data.get('id', '')}", f"{'Query':<14}: {data.get('statementText', '')}",
             f"{'Sources':<14}: {', '.join(data.get('sources') or [])}",
             f"{'Sinks':<14}: {', '.join(data.get('sinks') or [])}"]
    if data.get("state"):
        lines.append(f"{'Status':<14}: {data['state']}")
    plan = data.get("executionPlan")
    return "\n".join(lines) + (f"\n\nExecution plan\n--------------\n{plan}" if plan else "")


def _describe_function(data: dict[str, Any]) -> str:
    """DESCRIBE FUNCTION output: what it is, then one line per signature."""
    lines = [f"{'Name':<12}: {data.get('name')}", f"{'Type':<12}: {data.get('type')}",
             f"{'Category':<12}: {data.get('category')}", f"{'Description':<12}: {data.get('description')}", ""]
    lines += [f"  {sig}" for sig in data.get("functions") or []]
    return "\n".join(lines)


def _render_statement(result: StatementResult, width: int) -> str:
    if result.entity == "currentStatus" or result.data is None:
        return render_table(["Message"], [[result.message]], width) if result.message else ""
    if result.entity in _LISTINGS and isinstance(result.data, list):
        headers, pick = _LISTINGS[result.entity]
        return render_table(headers, [pick(d) for d in result.data], width)
    if result.entity == "sourceDescription":
        return _describe(result.data, width)
    if result.entity == "queryDescription" and isinstance(result.data, dict):
        return _explain(result.data)
    if result.entity == "describe_function" and isinstance(result.data, dict):
        return _describe_function(result.data)
    if result.entity == "sourceDescriptions":
        return "\n\n".join(_describe(d, width) for d in result.data)
    if result.entity == "print" and isinstance(result.data, list):
        return "\n".join(_printable(cell(r)) for r in result.data)
    if result.entity in ("properties", "variables", "type_list") and isinstance(result.data, dict):
        header = {"properties": "Property", "variables": "Variable Name", "type_list": "Type Name"}
        return render_table([header[result.entity], "Value"], [[k, v] for k, v in result.data.items()], width)
    if isinstance(result.data, list) and result.data and isinstance(result.data[0], dict):
        headers = list(result.data[0].keys())
        return render_table(headers, [[d.get(h) for h in headers] for d in result.data], width)
    if isinstance(result.data, dict):
        return render_table(["Name", "Value"], [[k, v] for k, v in result.data.items()], width)
    return json.dumps(result.data, indent=2, default=str)


def render_result(result: Result, width: int | None = None) -> str:
    """Text for one statement's result (TABULAR output)."""
    width = width or terminal_width()
    if isinstance(result, RowsResult):
        table = render_table([n for n, _ in result.columns], result.rows, width)
        return f"{table}\n{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    return _render_statement(result, width)


def render_summary(result: Result) -> str:
    """A statement's outcome in one line where it has one ("Stream created", "Created query ...")."""
    if isinstance(result, StatementResult) and result.entity == "currentStatus":
        return result.message
    return render_result(result)


def render_json(result: Result) -> str:
    """JSON output: the ksqlDB REST entity of a statement, or header + rows of a query."""
    if isinstance(result, RowsResult):
        header = {"queryId": result.query_id, "columnNames": [n for n, _ in result.columns],
                  "columnTypes": [t.sql() for _, t in result.columns]}
        return dumps([header, *result.rows], indent=2)
    return dumps(to_entity(result), indent=2)


class LiveTable:
    """Rows of a push query printed as they arrive, under a header sized to the terminal."""

    def __init__(self, columns: list[str], out: TextIO, width: int | None = None,
                 as_json: bool = False) -> None:
        self.columns = columns
        self.out = out
        self.as_json = as_json
        width = width or terminal_width()
        share = max(6, (width - 1) // max(1, len(columns)) - 1)
        self.widths = [share] * len(columns)
        self.count = 0

    def _line(self, values: list[str]) -> str:
        return "|" + "|".join(f"{_clip(v, w):<{w}}" for v, w in zip(values, self.widths, strict=True)) + "|"

    def header(self) -> None:
        """Print the column header."""
        if self.as_json:
            return
        sep = "+" + "+".join("-" * w for w in self.widths) + "+"
        self.out.write(f"{sep}\n{self._line(self.columns)}\n{sep}\n")
        self.out.flush()

    def rows(self, rows: list[list[Any]]) -> None:
        """Append rows to the table."""
        for row in rows:
            text = dumps(row) if self.as_json else self._line([cell(v) for v in row])
            self.out.write(text + "\n")
        self.count += len(rows)
        self.out.flush()

    def footer(self, reason: str) -> None:
        """Close the table with why it ended (LIMIT reached, query terminated)."""
        if not self.as_json:
            self.out.write("+" + "+".join("-" * w for w in self.widths) + "+\n")
        self.out.write(f"{reason}\n")
        self.out.flush()
