"""Categorising QTT cases the way the issues count them (stream / aggregate / join, basic formats)."""

from __future__ import annotations

import re

from engine.qtt.loader import TestCase

BASIC_FORMATS = frozenset({"JSON", "DELIMITED", "KAFKA", "NONE"})
_FORMAT_PROP = re.compile(r"(?:VALUE_FORMAT|KEY_FORMAT|FORMAT)\s*=\s*'(\w+)'", re.IGNORECASE)


def case_id(case: TestCase) -> str:
    """A stable identifier: file :: name :: format."""
    return f"{case.file}::{case.name}::{case.format or ''}"


def category(case: TestCase) -> str:
    """'join' if any statement joins, else 'aggregate' for GROUP BY, else 'stream'."""
    text = " ".join(case.statements).upper()
    if "JOIN" in text:
        return "join"
    if "GROUP BY" in text:
        return "aggregate"
    return "stream"


def basic_formats(case: TestCase) -> bool:
    """True when every format the statements name is JSON, DELIMITED, KAFKA or NONE."""
    named = {m.upper() for m in _FORMAT_PROP.findall(" ".join(case.statements))}
    return named <= BASIC_FORMATS


def is_pull_case(case: TestCase) -> bool:
    """REST cases with pull queries (counted with the aggregates in the tables issue)."""
    return case.file.startswith("rest_")
