"""get_format and schema validation: ksqlDB's messages (from the QTT corpus)."""

from __future__ import annotations

import pytest

from engine import types as T
from engine.formats import FormatError, UnsupportedFormatError, get_format


def test_names_are_case_insensitive() -> None:
    assert get_format("Delimited", is_key=False).name == "DELIMITED"
    assert get_format("json", {}, is_key=True).name == "JSON"


def test_unknown_format() -> None:
    with pytest.raises(FormatError, match="^Unknown format: FOO$"):
        get_format("FOO", is_key=False)


@pytest.mark.parametrize("name", ["AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR"])
def test_known_but_unsupported(name: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=name):
        get_format(name, is_key=False)


def test_kafka_rejects_wrapping() -> None:
    with pytest.raises(
        FormatError, match=r"^Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'\.$"
    ):
        get_format("KAFKA", {"WRAP_SINGLE_VALUE": True}, is_key=False)
    get_format("KAFKA", {"WRAP_SINGLE_VALUE": "false"}, is_key=False)


def test_wrap_single_value_needs_one_column() -> None:
    for wrap in (True, False):
        fmt = get_format("JSON", {"wrap_single_value": wrap}, is_key=False)
        with pytest.raises(
            FormatError, match="'WRAP_SINGLE_VALUE' is only valid for single-field value schemas"
        ):
            fmt.validate([("F0", T.STRING), ("F1", T.STRING)])
        fmt.validate([("F0", T.STRING)])
    get_format("JSON", {}, is_key=False).validate([("F0", T.STRING), ("F1", T.STRING)])


def test_json_map_keys_must_be_strings() -> None:
    fmt = get_format("JSON", is_key=False)
    with pytest.raises(FormatError, match="^JSON only supports MAP types with STRING keys$"):
        fmt.validate([("FOO", T.map_of(T.INTEGER, T.DOUBLE))])
    fmt.validate([("FOO", T.map_of(T.STRING, T.DOUBLE))])


def test_key_maps_rejected_for_every_key_format() -> None:
    expected = (
        "Map keys, including types that contain maps, are not supported as they may lead to unexpected "
        "behavior due to inconsistent serialization. Key column name: `K`. Column type: "
        "ARRAY<MAP<INTEGER, DOUBLE>>. See https://github.com/confluentinc/ksql/issues/6621 for more."
    )
    for name in ("JSON", "KAFKA", "DELIMITED"):
        with pytest.raises(FormatError) as info:
            get_format(name, is_key=True).validate([("K", T.array(T.map_of(T.INTEGER, T.DOUBLE)))])
        assert str(info.value) == expected


def test_kafka_value_types() -> None:
    fmt = get_format("KAFKA", is_key=False)
    for t, name in [
        (T.array(T.INTEGER), "ARRAY"),
        (T.struct([("F1", T.DOUBLE)]), "STRUCT"),
        (T.BOOLEAN, "BOOLEAN"),
    ]:
        with pytest.raises(FormatError, match=f"^The 'KAFKA' format does not support type '{name}'$"):
            fmt.validate([("FOO", t)])
    with pytest.raises(
        FormatError, match=r"only supports a single field. Got: \[`V0` INTEGER, `V1` STRING\]$"
    ):
        fmt.validate([("V0", T.INTEGER), ("V1", T.STRING)])
    for t in (T.INTEGER, T.BIGINT, T.DOUBLE, T.STRING, T.BYTES):
        fmt.validate([("FOO", t)])


def test_kafka_key_errors_are_wrapped() -> None:
    fmt = get_format("KAFKA", is_key=True)
    with pytest.raises(FormatError) as info:
        fmt.validate([("K", T.decimal(21, 19))])
    assert str(info.value) == (
        "Key format does not support schema.\nformat: KAFKA\n"
        "schema: Persistence{columns=[`K` DECIMAL(21, 19) KEY], features=[]}\n"
        "reason: The 'KAFKA' format does not support type 'DECIMAL'"
    )
    with pytest.raises(FormatError, match=r"Got: \[`ID` INTEGER KEY, `AGE` INTEGER KEY\]"):
        fmt.validate([("ID", T.INTEGER), ("AGE", T.INTEGER)])


def test_none_format_needs_no_columns() -> None:
    with pytest.raises(FormatError) as info:
        get_format("NONE", is_key=True).validate([("K", T.STRING)])
    assert (
        str(info.value)
        == "The 'NONE' format can only be used when no columns are defined. Got: [`K` STRING KEY]"
    )
    with pytest.raises(FormatError, match=r"Got: \[`FOO` INTEGER\]$"):
        get_format("NONE", is_key=False).validate([("FOO", T.INTEGER)])
    get_format("NONE", is_key=True).validate([])


def test_delimited_rejects_containers() -> None:
    with pytest.raises(
        FormatError, match="^The 'DELIMITED' format does not support type 'STRUCT', column: `ROWKEY`$"
    ):
        get_format("DELIMITED", is_key=True).validate([("ROWKEY", T.struct([("A", T.INTEGER)]))])


def test_delimiter_property() -> None:
    tab = get_format("DELIMITED", {"VALUE_DELIMITER": "TAB"}, is_key=False)
    assert tab.encode.__self__._delimiter == "\t"  # type: ignore[attr-defined]
    with pytest.raises(FormatError, match="Invalid delimiter"):
        get_format("DELIMITED", {"KEY_DELIMITER": "ab"}, is_key=True)
