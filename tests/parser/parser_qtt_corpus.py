"""Loader for the ksqlDB query-validation-test corpus (JSON with // comments and trailing commas)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "qtt"
PARSE_FAILED = "io.confluent.ksql.parser.exception.ParseFailedException"
_PARSER_ERROR_RE = re.compile(r"^line \d+:\d+: Syntax Error|Value must be integer for command")
_TRAILING_COMMA_RE = re.compile(r",(\s*[\]}])")


@dataclass(frozen=True)
class CorpusCase:
    """One test case after ``{FORMAT}`` expansion."""

    file: str
    name: str
    statements: tuple[str, ...]
    expected_exception: dict[str, Any] | None
    expected_error: dict[str, Any] | None = None

    @property
    def expects_parse_failure(self) -> bool:
        """ParseFailedException cases, plus REST cases whose expected error is ksqlDB's parser's
        (``line L:C: Syntax Error`` or the LIMIT integer check done while building the AST)."""
        if self.expected_exception:
            return self.expected_exception.get("type") == PARSE_FAILED
        message = (self.expected_error or {}).get("message", "")
        return bool(_PARSER_ERROR_RE.search(message))


def _strip_comments(text: str) -> str:
    """Drop // and /* */ comments outside JSON strings."""
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i + 2) + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def load_json(path: Path) -> Any:
    return json.loads(_TRAILING_COMMA_RE.sub(r"\1", _strip_comments(path.read_text())))


@functools.cache
def load_cases() -> tuple[CorpusCase, ...]:
    """All corpus cases, one per entry of each test's ``format`` list (JSON when absent)."""
    cases: list[CorpusCase] = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for test in load_json(path).get("tests", []):
            for fmt in test.get("format") or ["JSON"]:
                statements = tuple(s.replace("{FORMAT}", fmt) for s in test.get("statements", []))
                cases.append(
                    CorpusCase(
                        path.name, test["name"], statements, test.get("expectedException"),
                        test.get("expectedError"),
                    )
                )
    return tuple(cases)
