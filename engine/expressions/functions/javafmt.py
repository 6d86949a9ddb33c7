"""Java DateTimeFormatter / SimpleDateFormat patterns -> DuckDB strftime/strptime formats."""

from __future__ import annotations

import re

# Longest runs first; each maps a run of one pattern letter to a strftime directive.
_LETTERS: dict[str, list[tuple[int, str]]] = {
    "y": [(4, "%Y"), (3, "%Y"), (2, "%y"), (1, "%Y")],
    "u": [(4, "%Y"), (2, "%y"), (1, "%Y")],
    "M": [(4, "%B"), (3, "%b"), (2, "%m"), (1, "%-m")],
    "L": [(4, "%B"), (3, "%b"), (2, "%m"), (1, "%-m")],
    "d": [(2, "%d"), (1, "%-d")],
    "D": [(3, "%j"), (1, "%-j")],
    "H": [(2, "%H"), (1, "%-H")],
    "k": [(2, "%H"), (1, "%-H")],
    "h": [(2, "%I"), (1, "%-I")],
    "K": [(2, "%I"), (1, "%-I")],
    "m": [(2, "%M"), (1, "%-M")],
    "s": [(2, "%S"), (1, "%-S")],
    "S": [(9, "%n"), (6, "%f"), (3, "%g"), (2, "%g"), (1, "%g")],
    "a": [(1, "%p")],
    "E": [(4, "%A"), (1, "%a")],
    "z": [(4, "%Z"), (1, "%Z")],
    "Z": [(1, "%z")],
    "X": [(1, "%z")],
    "x": [(1, "%z")],
    "V": [(2, "%Z")],
}
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.S)


def java_to_strftime(pattern: str) -> str:
    """Translate a Java date/time pattern, e.g. ``yyyy-MM-dd'T'HH:mm:ss.SSS``."""
    out: list[str] = []
    for match in _TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            literal = token[1:-1].replace("''", "'") if token != "''" else "'"
            out.append(literal.replace("%", "%%"))
        elif token[0].isalpha():
            out.append(_directive(token))
        else:
            out.append("%%" if token == "%" else token)
    return "".join(out)


def _directive(run: str) -> str:
    options = _LETTERS.get(run[0])
    if options is None:
        return run
    for width, directive in options:
        if len(run) >= width:
            return directive
    return options[-1][1]


def dynamic_format_sql(sql: str) -> str:
    """SQL that translates a pattern held in a column (common letters only, quotes dropped)."""
    steps = [
        ("''", "\x01"), ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"),
        ("dd", "%d"), ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%g"),
        ("EEEE", "%A"), ("EEE", "%a"), ("a", "%p"), ("zzz", "%Z"), ("XXX", "%z"), ("X", "%z"),
    ]
    expr = f"regexp_replace({sql}, '''([^'']*)''', '\\1', 'g')"
    for java, strf in steps:
        expr = f"replace({expr}, '{java.replace(chr(39), chr(39) * 2)}', '{strf}')"
    return f"replace({expr}, chr(1), '''')"
