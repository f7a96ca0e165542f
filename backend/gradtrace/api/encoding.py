"""The API's name for the one JSON conversion, which lives outside the API in gradtrace.jsonform."""

from gradtrace.jsonform import dumps, dumps_trace, json_safe, script_json

__all__ = ["dumps", "dumps_trace", "json_safe", "script_json"]
