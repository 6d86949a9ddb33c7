"""Engine results <-> ksqlDB REST entities (the JSON objects `/ksql` returns).

The server turns each ``StatementResult`` into the entity ksqlDB returns for that statement
(``@type`` currentStatus, streams, tables, queries, sourceDescription, properties ...), and the
remote shell turns them back so one renderer serves both. Errors take ksqlDB's error body:
``{"@type": "statement_error", "error_code": 40001, "message", "statementText", "entities"}``.
"""

from __future__ import annotations

from typing import Any

from engine.results import RowsResult, StatementResult
from parser import statements as st

Result = StatementResult | RowsResult

BAD_STATEMENT = 40001
BAD_REQUEST = 40000
QUERY_ENDPOINT = 40002
UNAUTHORIZED = 40100
NOT_FOUND = 40400
SERVER_ERROR = 50000

# entity name used by the engine -> (ksqlDB @type, key of the list/map inside the entity)
_LIST_ENTITIES: dict[str, tuple[str, str]] = {
    "streams": ("streams", "streams"),
    "tables": ("tables", "tables"),
    "queries": ("queries", "queries"),
    "kafka_topics": ("kafka_topics", "topics"),
    "function_names": ("function_names", "functions"),
    "sourceDescriptions": ("source_descriptions", "sourceDescriptions"),
    "sourceDescription": ("sourceDescription", "sourceDescription"),
    "queryDescription": ("queryDescription", "queryDescription"),
    "properties": ("properties", "properties"),
    "type_list": ("type_list", "types"),
    "print": ("print", "records"),
}
_BY_TYPE: dict[str, str] = {ktype: name for name, (ktype, _) in _LIST_ENTITIES.items()}


def command_id(statement: st.Statement | None, result: StatementResult) -> str:
    """ksqlDB's command id for a statement: ``stream/NAME/create``, ``terminate/ID/execute`` ..."""
    if isinstance(statement, st.CreateSource | st.CreateAsSelect):
        return f"{statement.kind.lower()}/{statement.name}/create"
    if isinstance(statement, st.Drop):
        return f"{statement.kind.lower()}/{statement.name}/drop"
    if isinstance(statement, st.Terminate):
        return f"terminate/{statement.query_id or 'ALL'}/execute"
    if isinstance(statement, st.InsertInto):
        return f"stream/{statement.target}/execute"
    if isinstance(statement, st.CreateType | st.DropType):
        return f"type/{statement.name}/{'create' if isinstance(statement, st.CreateType) else 'drop'}"
    return f"statement/{type(statement).__name__.lower()}/execute"


def status_entity(result: StatementResult, cid: str, seq: int) -> dict[str, Any]:
    """The currentStatus entity of a statement that changed something."""
    return {
        "@type": "currentStatus",
        "statementText": result.statement_text,
        "commandId": cid,
        "commandStatus": {"status": "SUCCESS", "message": result.message, "queryId": result.query_id},
        "commandSequenceNumber": seq,
        "warnings": [],
    }


def to_entity(result: StatementResult, cid: str = "", seq: int = -1) -> dict[str, Any]:
    """The ksqlDB REST entity for one statement result."""
    if result.entity == "currentStatus" or result.data is None and result.entity not in _LIST_ENTITIES:
        return status_entity(result, cid, seq)
    base: dict[str, Any] = {"statementText": result.statement_text, "warnings": []}
    if result.entity in _LIST_ENTITIES:
        ktype, key = _LIST_ENTITIES[result.entity]
        data = result.data if result.data is not None else []
        out = {"@type": ktype, **base, key: data}
        if result.entity == "properties":
            out.update({"overwrittenProperties": [], "defaultProperties": []})
        return out
    if result.entity == "variables":
        data = [{"name": k, "value": v} for k, v in (result.data or {}).items()]
        return {"@type": "variables", **base, "variables": data}
    if isinstance(result.data, dict):
        return {"@type": result.entity, **base, **result.data}
    return {"@type": result.entity, **base, "data": result.data}


def from_entity(entity: dict[str, Any]) -> StatementResult:
    """A ksqlDB REST entity back as a ``StatementResult`` (for the remote shell's renderer)."""
    ktype = str(entity.get("@type", "currentStatus"))
    text = str(entity.get("statementText", ""))
    if ktype == "currentStatus":
        status = entity.get("commandStatus") or {}
        return StatementResult(text, "currentStatus", str(status.get("message", "")),
                               query_id=status.get("queryId"))
    if ktype in _BY_TYPE:
        name = _BY_TYPE[ktype]
        return StatementResult(text, name, data=entity.get(_LIST_ENTITIES[name][1]))
    if ktype == "variables":
        return StatementResult(text, "variables", data={v["name"]: v["value"] for v in entity.get("variables", [])})
    rest = {k: v for k, v in entity.items() if k not in ("@type", "statementText", "warnings")}
    return StatementResult(text, ktype, data=rest.get("data", rest))


def error_body(kind: str, code: int, message: str, statement_text: str | None = None,
               entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """ksqlDB's error entity; ``statement_error`` bodies carry the statement and prior entities."""
    body: dict[str, Any] = {"@type": kind, "error_code": code, "message": message}
    if kind == "statement_error":
        body["statementText"] = statement_text or ""
        body["entities"] = entities or []
    return body


def schema_text(columns: list[tuple[str, str]]) -> str:
    """ksqlDB's schema string of a query header: ```A` INTEGER, `B` STRING``."""
    return ", ".join(f"`{name}` {type_}" for name, type_ in columns)
