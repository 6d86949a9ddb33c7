"""Loading ksqlDB query-validation test files (JSON with comments and trailing commas)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments outside JSON strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def load_lenient(text: str) -> Any:
    """Parse JSON that may have comments and trailing commas; floats become Decimal (exact)."""
    cleaned = _TRAILING_COMMA.sub(r"\1", strip_comments(text))
    return json.loads(cleaned, parse_float=Decimal)


@dataclass(slots=True)
class TestCase:
    """One test case after `format` expansion."""

    file: str
    name: str
    format: str | None
    statements: list[str]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] | None = None
    topics: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    expected_exception: dict[str, Any] | None = None
    post: dict[str, Any] | None = None
    responses: list[dict[str, Any]] | None = None
    rest_error: dict[str, Any] | None = None  # REST files' expectedError

    @property
    def full_name(self) -> str:
        """``file: name [FORMAT]`` for display."""
        fmt = f" [{self.format}]" if self.format else ""
        return f"{self.file}: {self.name}{fmt}"


def _substitute(statements: list[str], fmt: str | None) -> list[str]:
    if fmt is None:
        return list(statements)
    return [s.replace("{FORMAT}", fmt) for s in statements]


def cases_from_file(path: Path) -> list[TestCase]:
    """All test cases of one file, one per entry of each test's ``format`` list."""
    doc = load_lenient(path.read_text(encoding="utf-8"))
    cases: list[TestCase] = []
    for test in doc.get("tests", []):
        formats = test.get("format") or [None]
        for fmt in formats:
            cases.append(TestCase(
                file=path.name, name=test.get("name", "?"), format=fmt,
                statements=_substitute(test.get("statements", []), fmt),
                inputs=test.get("inputs", []), outputs=test.get("outputs"),
                topics=test.get("topics", []), properties=test.get("properties", {}),
                expected_exception=test.get("expectedException"), post=test.get("post"),
                responses=test.get("responses"), rest_error=test.get("expectedError"),
            ))
    return cases


def collect_files(paths: list[str]) -> list[Path]:
    """Test files named, or found under named folders, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.glob("*.json")))
        else:
            files.append(p)
    return files
