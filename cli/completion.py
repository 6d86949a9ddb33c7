"""Tab completion for the shell: keywords, functions, and the live catalog's streams, tables,
columns and topics, narrowed by what the cursor follows (SHOW -> what can be shown, FROM -> sources,
PRINT -> topics, inside a statement -> the columns of the sources it names)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from cli.backend import CatalogView
from cli.keywords import (
    CLI_COMMANDS,
    KEYWORDS,
    PROPERTY_WORDS,
    PSEUDO_COLUMNS,
    SHOW_TARGETS,
    SOURCE_CONTEXT,
    TYPE_WORDS,
)

_WORD = re.compile(r"[A-Za-z0-9_`]*$")
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|'[^']*'?|[(),;=]")
_SOURCE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|DESCRIBE)\s+`?([A-Za-z_][A-Za-z0-9_]*)`?", re.IGNORECASE)
_STARTERS = ("CREATE", "INSERT", "SELECT", "SHOW", "LIST", "DESCRIBE", "EXPLAIN", "DROP", "TERMINATE",
             "PAUSE", "RESUME", "SET", "UNSET", "DEFINE", "UNDEFINE", "PRINT", "ALTER", "RUN SCRIPT")


def _current_statement(text: str) -> str:
    """The text after the last `;` (the statement being typed)."""
    return text.rsplit(";", 1)[-1]


def _cased(word: str, typed: str) -> str:
    """Keywords follow the user's case: lower-case typing gets lower-case words."""
    return word.lower() if typed and typed.islower() else word


class KsqlCompleter(Completer):
    """Completes against a catalog snapshot returned by ``catalog()``."""

    def __init__(self, catalog: Callable[[], CatalogView], functions: Iterable[str]) -> None:
        self.catalog = catalog
        self.functions = sorted(set(functions))

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        """Candidates for the word before the cursor."""
        statement = _current_statement(document.text_before_cursor)
        typed = _WORD.search(statement)
        prefix = typed.group() if typed else ""
        before = statement[: len(statement) - len(prefix)]
        words = [w.upper() for w in _WORDS.findall(before)]
        # Sources named anywhere in the statement count, also after the cursor (SELECT | FROM t).
        whole = statement + document.text_after_cursor.split(";", 1)[0]
        for text, meta in self._candidates(words, before, whole):
            if text.upper().startswith(prefix.strip("`").upper()) and text.upper() != prefix.upper():
                shown = _cased(text, prefix) if meta in ("keyword", "command") else text
                yield Completion(shown, start_position=-len(prefix), display_meta=meta)

    def _candidates(self, words: list[str], before: str, statement: str) -> list[tuple[str, str]]:
        view = self.catalog()
        sources = [(n, "stream") for n in view.streams] + [(n, "table") for n in view.tables]
        last = words[-1] if words else ""
        if not words:
            return [(w, "keyword") for w in _STARTERS] + [(c, "command") for c in CLI_COMMANDS]
        if last in ("SHOW", "LIST"):
            return [(w, "keyword") for w in SHOW_TARGETS]
        if last == "PRINT" or re.search(r"KAFKA_TOPIC\s*=\s*'?$", before, re.IGNORECASE):
            return [(t, "topic") for t in view.topics]
        if last == "DESCRIBE":
            return sources + [(w, "keyword") for w in ("EXTENDED", "FUNCTION", "STREAMS", "TABLES")]
        if last == "FUNCTION":
            return [(f, "function") for f in self.functions]
        if last in SOURCE_CONTEXT:
            return sources
        if last == "CREATE":
            return [(w, "keyword") for w in ("STREAM", "TABLE", "OR REPLACE", "SOURCE", "TYPE")]
        if last in ("TERMINATE", "PAUSE", "RESUME", "EXPLAIN"):
            return [("ALL", "keyword")] + [(q, "query") for q in view.queries]
        return self._in_statement(view, statement, sources)

    def _in_statement(self, view: CatalogView, statement: str,
                      sources: list[tuple[str, str]]) -> list[tuple[str, str]]:
        named = {m.group(1).upper() for m in _SOURCE_REF.finditer(statement)}
        columns: list[tuple[str, str]] = []
        for name in sorted(named):
            columns += [(c, f"column of {name}") for c in view.columns.get(name, [])]
        return (columns + [(p, "pseudo column") for p in sorted(PSEUDO_COLUMNS)]
                + [(f, "function") for f in self.functions] + sources
                + [(w, "keyword") for w in sorted(KEYWORDS | TYPE_WORDS | PROPERTY_WORDS)])
