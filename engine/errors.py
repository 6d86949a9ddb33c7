"""Engine errors, shaped like ksqlDB's so clients and the test runner can match them."""

from __future__ import annotations


class KsqlError(Exception):
    """A statement was rejected (ksqlDB's KsqlException)."""

    kind = "io.confluent.ksql.util.KsqlException"

    def __init__(self, message: str, statement_text: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.statement_text = statement_text


class KsqlStatementError(KsqlError):
    """A statement failed validation (ksqlDB's KsqlStatementException)."""

    kind = "io.confluent.ksql.util.KsqlStatementException"
