"""Errors of the formats package."""

from __future__ import annotations


class FormatError(Exception):
    """A format cannot be used as asked: unknown name, bad property, or unsupported schema.

    The message is ksqlDB's wording for the same case, so the engine can pass it on unchanged.
    """


class UnsupportedFormatError(FormatError):
    """A format ksqlDB knows (AVRO, PROTOBUF, JSON_SR ...) that streamsql does not implement yet."""


class RecordError(ValueError):
    """One record could not be (de)serialised; the message is the processing-log text."""
