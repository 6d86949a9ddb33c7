"""ksqlDB's words, for completion and highlighting.

The parser's tokenizer keeps only the reserved words of the expression grammar as keywords
(statement words are matched by text), so the statement vocabulary is listed here.
"""

from __future__ import annotations

from parser.tokenizer import KEYWORD_WORDS

STATEMENT_WORDS = frozenset({
    "CREATE", "OR", "REPLACE", "STREAM", "STREAMS", "TABLE", "TABLES", "SOURCE", "SINK", "TYPE", "TYPES",
    "INSERT", "INTO", "VALUES", "DROP", "IF", "EXISTS", "DELETE", "TOPIC", "TOPICS", "ALTER", "ADD",
    "COLUMN", "SHOW", "LIST", "DESCRIBE", "EXTENDED", "EXPLAIN", "TERMINATE", "PAUSE", "RESUME", "ALL",
    "QUERIES", "QUERY", "FUNCTIONS", "FUNCTION", "PROPERTIES", "VARIABLES", "CONNECTORS", "CONNECTOR",
    "SET", "UNSET", "DEFINE", "UNDEFINE", "PRINT", "BEGINNING", "INTERVAL", "RUN", "SCRIPT",
    "WITH", "KEY", "PRIMARY", "HEADERS", "HEADER", "EMIT", "CHANGES", "FINAL", "WINDOW", "TUMBLING",
    "HOPPING", "SESSION", "SIZE", "ADVANCE", "BY", "GRACE", "PERIOD", "RETENTION", "WITHIN", "GROUP",
    "PARTITION", "ASSERT", "NULL", "CAST", "STRUCT", "MAP", "ARRAY",
    "MILLISECOND", "MILLISECONDS", "SECOND", "SECONDS", "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS",
})

TYPE_WORDS = frozenset({
    "BOOLEAN", "INT", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "VARCHAR", "STRING", "BYTES", "DATE",
    "TIME", "TIMESTAMP",
})

# WITH (...) properties of CREATE statements.
PROPERTY_WORDS = frozenset({
    "KAFKA_TOPIC", "VALUE_FORMAT", "KEY_FORMAT", "FORMAT", "PARTITIONS", "REPLICAS", "TIMESTAMP",
    "TIMESTAMP_FORMAT", "VALUE_DELIMITER", "KEY_DELIMITER", "WRAP_SINGLE_VALUE", "RETENTION_MS",
})

PSEUDO_COLUMNS = frozenset({"ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND"})

KEYWORDS: frozenset[str] = KEYWORD_WORDS | STATEMENT_WORDS

# What may follow SHOW / LIST.
SHOW_TARGETS = ("STREAMS", "TABLES", "QUERIES", "TOPICS", "FUNCTIONS", "TYPES", "PROPERTIES", "VARIABLES",
                "CONNECTORS", "ALL TOPICS")

# Words after which a stream or table name is expected.
SOURCE_CONTEXT = frozenset({"FROM", "JOIN", "INTO", "DESCRIBE", "DROP", "TABLE", "STREAM", "EXTENDED"})

# The shell's own commands (ksqlDB CLI commands; no `;` needed).
CLI_COMMANDS = ("help", "history", "run script", "spool", "server", "output", "clear", "version", "exit",
                "quit")
