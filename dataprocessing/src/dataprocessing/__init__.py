"""SageMaker batch transform's DataProcessing, in pure Python: the JSONPath subset its
InputFilter and OutputFilter accept, read by one parser that both validates an expression
(``jsonpath_problem``, for a launch form) and evaluates it on records (``parse(...).apply``,
for a transform that really processes data). See ``dataprocessing.jsonpath``."""

from dataprocessing.jsonpath import (
    IDENTITY,
    MAX_LENGTH,
    JsonPath,
    JsonPathError,
    jsonpath_problem,
    parse,
)

__all__ = ["IDENTITY", "MAX_LENGTH", "JsonPath", "JsonPathError", "jsonpath_problem", "parse"]
