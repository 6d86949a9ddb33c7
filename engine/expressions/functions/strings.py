"""String and bytes functions."""

from __future__ import annotations

from collections.abc import Callable

from engine.expressions.functions.registry import Call, scalar
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig

_MACROS = [
    # ksqlDB SUBSTRING: 1-based; negative positions count from the end; 0 behaves like 1.
    "ksql_substr_start(s, pos) AS CASE WHEN pos > 0 THEN pos WHEN pos < 0"
    " THEN greatest(length(s) + pos, 0) + 1 ELSE 1 END",
    "ksql_substr2(s, pos) AS CASE WHEN pos IS NULL THEN NULL ELSE substr(s, ksql_substr_start(s, pos)) END",
    # BYTES have no substr in DuckDB: slice the hex text instead.
    "ksql_bsubstr(b, pos, n) AS CASE WHEN pos IS NULL OR n IS NULL THEN NULL ELSE"
    " unhex(substr(hex(b), (ksql_bsubstr_start(b, pos) - 1) * 2 + 1, greatest(n, 0) * 2)) END",
    "ksql_substr3(s, pos, n) AS CASE WHEN n IS NULL OR pos IS NULL THEN NULL"
    " ELSE substr(s, ksql_substr_start(s, pos), greatest(n, 0)) END",
    "ksql_bsubstr_start(s, pos) AS CASE WHEN pos > 0 THEN pos WHEN pos < 0"
    " THEN greatest(octet_length(s) + pos, 0) + 1 ELSE 1 END",
    # Java-style padding: repeat the pad string, cut to length; empty pad or negative length -> NULL.
    "ksql_lpad(s, n, p) AS CASE WHEN n < 0 OR p = '' THEN NULL WHEN length(s) >= n THEN substr(s, 1, n)"
    " ELSE substr(repeat(p, CAST(ceil((n - length(s)) / length(p)) AS INTEGER) + 1), 1, n - length(s)) || s END",
    "ksql_rpad(s, n, p) AS CASE WHEN n < 0 OR p = '' THEN NULL WHEN length(s) >= n THEN substr(s, 1, n)"
    " ELSE s || substr(repeat(p, CAST(ceil((n - length(s)) / length(p)) AS INTEGER) + 1), 1, n - length(s)) END",
    "ksql_initcap(s) AS array_to_string(list_transform(regexp_extract_all(s, '\\s+|\\S+'),"
    " lambda w: upper(substr(w, 1, 1)) || lower(substr(w, 2))), '')",
    "ksql_mask_char(s, up, lo, dg, ot) AS regexp_replace(regexp_replace(regexp_replace("
    "regexp_replace(s, '[A-Z]', coalesce(up, '\\0'), 'g'), '[a-z]', coalesce(lo, '\\0'), 'g'),"
    " '[0-9]', coalesce(dg, '\\0'), 'g'), '[^A-Za-z0-9]', coalesce(ot, '\\0'), 'g')",
    "ksql_instr(s, sub, pos, occ) AS CASE WHEN s IS NULL OR sub IS NULL THEN NULL ELSE coalesce(("
    " SELECT list_extract(list_filter(list_transform(range(1, length(s) + 1), lambda i:"
    " CASE WHEN substr(s, i, length(sub)) = sub THEN i END), lambda x: x IS NOT NULL AND x >= pos), occ)), 0) END",
    "ksql_split_to_map(s, ed, kd) AS CASE WHEN ed = '' OR kd = '' THEN NULL ELSE"
    " ksql_map_from_entries(list_transform(list_filter(string_split(s, ed), lambda e: contains(e, kd)),"
    " lambda e: struct_pack(key := split_part(e, kd, 1),"
    " value := split_part(e, kd, 2)))) END",
    "ksql_encode(s, i, o) AS CASE lower(o) WHEN 'hex' THEN lower(hex(ksql_decode_in(s, i)))"
    " WHEN 'base64' THEN to_base64(ksql_decode_in(s, i)) WHEN 'utf8' THEN ksql_utf8(ksql_decode_in(s, i))"
    " WHEN 'ascii' THEN ksql_ascii(ksql_decode_in(s, i)) END",
    "ksql_decode_in(s, i) AS CASE lower(i) WHEN 'hex' THEN TRY(unhex(CASE WHEN lower(s) LIKE '0x%'"
    " THEN substr(s, 3) ELSE s END)) WHEN 'base64' THEN TRY(from_base64(s)) WHEN 'utf8' THEN encode(s)"
    " WHEN 'ascii' THEN encode(regexp_replace(s, '[^\\x00-\\x7F]', '?', 'g')) END",
    # Invalid UTF-8 / non-ASCII bytes decode to U+FFFD, as Java's decoders do.
    "ksql_utf8(b) AS coalesce(TRY(decode(b)), ksql_ascii(b))",
    "ksql_ascii(b) AS array_to_string(list_transform(range(0, octet_length(b)), lambda i:"
    " ksql_ascii_char(CAST(('0x' || substr(hex(b), i * 2 + 1, 2)) AS INTEGER))), '')",
    "ksql_ascii_char(v) AS CASE WHEN v < 128 THEN chr(v) ELSE '\ufffd' END",
    "ksql_to_bytes(s, enc) AS ksql_decode_in(s, enc)",
    "ksql_from_bytes(b, enc) AS CASE lower(enc) WHEN 'hex' THEN upper(hex(b)) WHEN 'base64' THEN to_base64(b)"
    " WHEN 'utf8' THEN ksql_utf8(b) WHEN 'ascii' THEN ksql_ascii(b) END",
]


def _concat_ws(call: Call) -> str:
    sep, *rest = call.sql
    return f"CASE WHEN {sep} IS NULL THEN NULL ELSE concat_ws({sep}, {', '.join(rest)}) END"


def _concat_bytes(call: Call) -> str:
    parts = " || ".join(f"coalesce({a}, ''::BLOB)" for a in call.sql)
    return f"({parts})"


def _concat_ws_bytes(call: Call) -> str:
    sep, *rest = call.sql
    items = ", ".join(rest)
    return (
        f"CASE WHEN {sep} IS NULL THEN NULL ELSE coalesce(TRY(list_reduce(list_filter([{items}], "
        f"lambda x: x IS NOT NULL), lambda a, b: a || {sep} || b)), ''::BLOB) END"
    )


def _mask(kind: str) -> Callable[[Call], str]:
    def impl(call: Call) -> str:
        s, *rest = call.sql
        if kind == "MASK":
            chars = (rest + ["'X'", "'x'", "'n'", "'-'"][len(rest):])[:4]
            return f"ksql_mask_char({s}, {', '.join(chars)})"
        n, *chars = rest
        chars = (chars + ["'X'", "'x'", "'n'", "'-'"][len(chars):])[:4]
        masked = f"ksql_mask_char({{part}}, {', '.join(chars)})"
        left, right = f"substr({s}, 1, {n})", f"substr({s}, {n} + 1)"
        tail_l, tail_r = f"substr({s}, 1, greatest(length({s}) - {n}, 0))", f"substr({s}, greatest(length({s}) - {n}, 0) + 1)"
        if kind == "MASK_KEEP_LEFT":
            return f"{left} || {masked.format(part=right)}"
        if kind == "MASK_LEFT":
            return f"{masked.format(part=left)} || {right}"
        if kind == "MASK_KEEP_RIGHT":
            return f"{masked.format(part=tail_l)} || {tail_r}"
        return f"{tail_l} || {masked.format(part=tail_r)}"

    return impl


def _split_bytes(call: Call) -> str:
    b, d = call.sql
    return (
        f"list_transform(CASE WHEN octet_length({d}) = 0 THEN string_split(decode({b}), '') "
        f"ELSE string_split(decode({b}), decode({d})) END, lambda x: encode(x))"
    )


def _regexp_extract(call: Call) -> str:
    p, s, *g = call.sql
    group = g[0] if g else "0"
    return f"CASE WHEN regexp_matches({s}, {p}) THEN regexp_extract({s}, {p}, {group}) END"


def _register_text() -> None:
    scalar("CONCAT", "STRING", "Concatenate strings or bytes; NULL arguments are skipped.", [
        sig("STRING... -> STRING", "concat({args})"), sig("BYTES... -> BYTES", _concat_bytes)])
    scalar("CONCAT_WS", "STRING", "Concatenate with a separator; NULL arguments are skipped.", [
        sig("STRING, STRING... -> STRING", _concat_ws), sig("BYTES, BYTES... -> BYTES", _concat_ws_bytes)])
    scalar("UCASE", "STRING", "Upper-case a string.", [sig("STRING -> STRING", "upper({0})")])
    scalar("LCASE", "STRING", "Lower-case a string.", [sig("STRING -> STRING", "lower({0})")])
    scalar("TRIM", "STRING", "Remove leading and trailing whitespace.", [sig("STRING -> STRING", "trim({0})")])
    scalar("LTRIM", "STRING", "Remove leading whitespace.", [sig("STRING -> STRING", "ltrim({0})")])
    scalar("RTRIM", "STRING", "Remove trailing whitespace.", [sig("STRING -> STRING", "rtrim({0})")])
    scalar("LEN", "STRING", "Length in characters (bytes for BYTES).", [
        sig("STRING -> INTEGER", "CAST(length({0}) AS INTEGER)"),
        sig("BYTES -> INTEGER", "CAST(octet_length({0}) AS INTEGER)")])
    scalar("SUBSTRING", "STRING", "Substring from a 1-based position (negative counts from the end).", [
        sig("STRING, INTEGER -> STRING", "ksql_substr2({0}, {1})"),
        sig("STRING, INTEGER, INTEGER -> STRING", "ksql_substr3({0}, {1}, {2})"),
        sig("BYTES, INTEGER -> BYTES", "ksql_bsubstr({0}, {1}, octet_length({0}))"),
        sig("BYTES, INTEGER, INTEGER -> BYTES", "ksql_bsubstr({0}, {1}, {2})")])
    scalar("LPAD", "STRING", "Left-pad to a length with a pad string.", [
        sig("STRING, INTEGER, STRING -> STRING", "ksql_lpad({0}, {1}, {2})"),
        sig("BYTES, INTEGER, BYTES -> BYTES", "encode(ksql_lpad(decode({0}), {1}, decode({2})))")])
    scalar("RPAD", "STRING", "Right-pad to a length with a pad string.", [
        sig("STRING, INTEGER, STRING -> STRING", "ksql_rpad({0}, {1}, {2})"),
        sig("BYTES, INTEGER, BYTES -> BYTES", "encode(ksql_rpad(decode({0}), {1}, decode({2})))")])
    scalar("REPLACE", "STRING", "Replace every occurrence of a substring.", [
        sig("STRING, STRING, STRING -> STRING", "replace({0}, {1}, {2})")])
    scalar("INITCAP", "STRING", "Capitalise the first letter of each word, lower-case the rest.", [
        sig("STRING -> STRING", "ksql_initcap({0})")])
    scalar("INSTR", "STRING", "1-based position of a substring (0 when absent).", [
        sig("STRING, STRING -> INTEGER", "CAST(instr({0}, {1}) AS INTEGER)"),
        sig("STRING, STRING, INTEGER -> INTEGER", "CAST(ksql_instr({0}, {1}, {2}, 1) AS INTEGER)"),
        sig("STRING, STRING, INTEGER, INTEGER -> INTEGER", "CAST(ksql_instr({0}, {1}, {2}, {3}) AS INTEGER)")])
    scalar("CHR", "STRING", "The character for a code point (or a '\\uXXXX' string).", [
        sig("INTEGER -> STRING", "TRY(chr({0}))"),
        sig("STRING -> STRING", "TRY(chr(CAST(('0x' || substr({0}, 3)) AS INTEGER)))")])
    scalar("ELT", "STRING", "The n-th (1-based) of the following strings.", [
        sig("INTEGER, STRING... -> STRING", lambda c: f"list_extract([{', '.join(c.sql[1:])}], {c.sql[0]})")])
    scalar("FIELD", "STRING", "1-based position of the first argument among the others (0 if absent).", [
        sig("STRING, STRING... -> INTEGER",
            lambda c: f"CAST(coalesce(list_position([{', '.join(c.sql[1:])}], {c.sql[0]}), 0) AS INTEGER)")])
    scalar("UUID", "STRING", "A random UUID string.", [sig(" -> STRING", "CAST(gen_random_uuid() AS VARCHAR)")])
    for kind in ("MASK", "MASK_KEEP_LEFT", "MASK_KEEP_RIGHT", "MASK_LEFT", "MASK_RIGHT"):
        sigs = [sig("STRING -> STRING"), sig("STRING, STRING -> STRING"), sig("STRING, STRING, STRING -> STRING"),
                sig("STRING, STRING, STRING, STRING -> STRING"), sig("STRING, STRING, STRING, STRING, STRING -> STRING")]
        if kind != "MASK":
            sigs = [sig("STRING, INTEGER" + ", STRING" * i + " -> STRING") for i in range(5)]
        scalar(kind, "STRING", "Mask letters/digits/other characters.", sigs, _mask(kind))


def _register_split_regex() -> None:
    scalar("SPLIT", "STRING", "Split a string (or bytes) by a delimiter.", [
        sig("STRING, STRING -> ARRAY<STRING>", "string_split({0}, {1})"),
        sig("BYTES, BYTES -> ARRAY<BYTES>", _split_bytes)])
    scalar("SPLIT_TO_MAP", "STRING", "Split 'k1:v1/k2:v2' into a map.", [
        sig("STRING, STRING, STRING -> MAP<STRING, STRING>", "ksql_split_to_map({0}, {1}, {2})")])
    scalar("REGEXP_EXTRACT", "REGEX", "The first match of a pattern (or one of its groups).", [
        sig("STRING, STRING -> STRING", _regexp_extract), sig("STRING, STRING, INTEGER -> STRING", _regexp_extract)])
    scalar("REGEXP_EXTRACT_ALL", "REGEX", "Every match of a pattern (or one of its groups).", [
        sig("STRING, STRING -> ARRAY<STRING>", "regexp_extract_all({1}, {0})"),
        sig("STRING, STRING, INTEGER -> ARRAY<STRING>", "regexp_extract_all({1}, {0}, {2})")])
    scalar("REGEXP_REPLACE", "REGEX", "Replace every match of a pattern.", [
        sig("STRING, STRING, STRING -> STRING", "regexp_replace({0}, {1}, {2}, 'g')")])
    scalar("REGEXP_SPLIT_TO_ARRAY", "REGEX", "Split a string by a pattern.", [
        sig("STRING, STRING -> ARRAY<STRING>",
            "CASE WHEN {1} IS NULL THEN NULL ELSE regexp_split_to_array({0}, {1}) END")])
    scalar("ENCODE", "STRING", "Re-encode a string between hex, utf8, ascii and base64.", [
        sig("STRING, STRING, STRING -> STRING", "ksql_encode({0}, {1}, {2})")])
    scalar("TO_BYTES", "BYTES", "Encode a string (hex, utf8, ascii, base64) into bytes.", [
        sig("STRING, STRING -> BYTES", "ksql_to_bytes({0}, {1})")])
    scalar("FROM_BYTES", "BYTES", "Decode bytes into a string (hex, utf8, ascii, base64).", [
        sig("BYTES, STRING -> STRING", "ksql_from_bytes({0}, {1})")])


def load() -> None:
    """Register the string functions and their macros."""
    for definition in _MACROS:
        macro(definition)
    _register_text()
    _register_split_regex()
