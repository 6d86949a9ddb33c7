"""Syntax highlighting for the shell: a small ksqlDB lexer (no Pygments needed).

The whole input is scanned once per render (multi-line strings and comments colour correctly),
then split into lines, as prompt-toolkit asks for one line at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from cli.keywords import KEYWORDS, PROPERTY_WORDS, PSEUDO_COLUMNS, TYPE_WORDS

_TOKEN = re.compile(
    r"(?P<comment>--[^\n]*|/\*.*?(?:\*/|$))"
    r"|(?P<string>'(?:[^']|'')*(?:'|$))"
    r"|(?P<quoted>`(?:[^`]|``)*(?:`|$)|\"(?:[^\"]|\"\")*(?:\"|$))"
    r"|(?P<number>\b\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\b|\.\d+\b)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<variable>\$\{[^}]*\}?)"
    r"|(?P<other>\s+|.)",
    re.DOTALL,
)

STYLE = Style.from_dict({
    "keyword": "ansiblue bold",
    "type": "ansicyan",
    "function": "ansimagenta",
    "string": "ansigreen",
    "number": "ansiyellow",
    "comment": "ansibrightblack italic",
    "quoted": "ansicyan",
    "variable": "ansiyellow bold",
    "pseudo": "ansicyan italic",
    "prompt": "bold",
})


def tokens(text: str, functions: frozenset[str]) -> list[tuple[str, str]]:
    """(style, text) pairs covering ``text``."""
    out: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group()
        if kind == "word":
            upper = value.upper()
            if upper in KEYWORDS:
                kind = "keyword"
            elif upper in TYPE_WORDS:
                kind = "type"
            elif upper in PSEUDO_COLUMNS or upper in PROPERTY_WORDS:
                kind = "pseudo"
            elif upper in functions and text[match.end():match.end() + 1] == "(":
                kind = "function"
            else:
                kind = "other"
        out.append(("" if kind == "other" else f"class:{kind}", value))
    return out


class KsqlLexer(Lexer):
    """prompt-toolkit lexer over :func:`tokens`."""

    def __init__(self, functions: frozenset[str]) -> None:
        self.functions = functions

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        """Split the scanned tokens into per-line fragments."""
        lines: list[StyleAndTextTuples] = [[]]
        for style, value in tokens(document.text, self.functions):
            parts = value.split("\n")
            for i, part in enumerate(parts):
                if i:
                    lines.append([])
                if part:
                    lines[-1].append((style, part))

        def get_line(lineno: int) -> StyleAndTextTuples:
            return lines[lineno] if 0 <= lineno < len(lines) else []
        return get_line
