"""URL, hashing and other functions."""

from __future__ import annotations

from engine.expressions.functions.registry import scalar
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig

# RFC 3986 URI: scheme, authority (userinfo, host, port), path, query, fragment.
_URI = r"'^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([0-9]*))?)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$'"
_MACROS = [
    f"ksql_url_part(u, g) AS nullif(regexp_extract(u, {_URI}, g), '')",
    "ksql_url_param(u, name) AS (SELECT url_decode(nullif(split_part(p, '=', 2), ''))"
    " FROM (SELECT unnest(string_split(ksql_url_part(u, 5), '&')) AS p) WHERE split_part(p, '=', 1) = name LIMIT 1)",
]


def load() -> None:
    """Register URL and hash functions."""
    for definition in _MACROS:
        macro(definition)
    for name, group in (("PROTOCOL", 1), ("HOST", 2), ("PATH", 4), ("QUERY", 5), ("FRAGMENT", 6)):
        template = f"ksql_url_part({{0}}, {group})" if name != "PATH" else "regexp_extract({0}, " + _URI + ", 4)"
        if name == "PATH":
            template = f"CASE WHEN {{0}} IS NULL THEN NULL ELSE regexp_extract({{0}}, {_URI.replace('{', '{{').replace('}', '}}')}, 4) END"
        scalar(f"URL_EXTRACT_{name}", "URL", f"The {name.lower()} of a URL.", [sig("STRING -> STRING", template)])
    scalar("URL_EXTRACT_PORT", "URL", "The port of a URL.", [
        sig("STRING -> INTEGER", "TRY_CAST(ksql_url_part({0}, 3) AS INTEGER)")])
    scalar("URL_EXTRACT_PARAMETER", "URL", "The decoded value of a query parameter.", [
        sig("STRING, STRING -> STRING", "ksql_url_param({0}, {1})")])
    scalar("URL_ENCODE_PARAM", "URL", "application/x-www-form-urlencoded encoding.", [
        sig("STRING -> STRING", "replace(url_encode({0}), '%20', '+')")])
    scalar("URL_DECODE_PARAM", "URL", "Decode application/x-www-form-urlencoded text.", [
        sig("STRING -> STRING", "url_decode(replace({0}, '+', ' '))")])
    scalar("MD5", "HASH", "Hex MD5 digest of a string.", [sig("STRING -> STRING", "md5({0})")])
