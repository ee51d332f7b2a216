"""The part of CloudWatch metric math a console needs: arithmetic and SUM/AVG/MIN/MAX.

GetMetricData queries may be expressions over other queries' results, such as
``100 * errors / invocations`` or ``SUM(METRICS())``. moto answers every expression with an
empty series. This evaluator handles the arithmetic operators, numbers, query ids and the four
aggregate functions over ``METRICS()`` (optionally filtered by an id substring) or an explicit
list of ids; anything else is refused with a message naming what is unsupported, so a caller
sees why a chart is empty instead of a silent gap.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Series = dict[float, float]
Value = float | Series | list[Series]

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda values: sum(values) / len(values),
    "MIN": min,
    "MAX": max,
}


class ExpressionError(ValueError):
    """An expression the sandbox cannot evaluate; the message says which part and why."""


@dataclass(frozen=True)
class Scope:
    """The series an expression may name, and which of them are metrics (for METRICS())."""

    series: Mapping[str, Series]
    metric_ids: frozenset[str]


def evaluate(
    expression: str, series: Mapping[str, Series], metric_ids: frozenset[str] | None = None
) -> Series:
    """The time series an expression yields from the named series (timestamp -> value).

    ``METRICS()`` means the plain metric queries (``metric_ids``; all series if not given),
    never other expressions' results.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"Cannot parse the expression {expression!r}.") from None
    scope = Scope(series, frozenset(series) if metric_ids is None else metric_ids)
    result = _evaluate(tree.body, scope)
    if isinstance(result, list):
        raise ExpressionError("An expression must yield one time series, not a list of them.")
    if isinstance(result, float):
        raise ExpressionError("An expression must refer to at least one metric.")
    return result


def _evaluate(node: ast.AST, scope: Scope) -> Value:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in scope.series:
            raise ExpressionError(f"The expression refers to {node.id!r}, which is no query id.")
        return scope.series[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _evaluate(node.operand, scope)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return _combine(sign, operand, operator.mul)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _evaluate(node.left, scope)
        right = _evaluate(node.right, scope)
        return _combine(left, right, _OPERATORS[type(node.op)])
    if isinstance(node, ast.List):
        items = [_evaluate(element, scope) for element in node.elts]
        if not all(isinstance(item, dict) for item in items):
            raise ExpressionError("A list in an expression may hold only query ids.")
        return [item for item in items if isinstance(item, dict)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call(node.func.id.upper(), node.args, scope)
    raise ExpressionError(f"The sandbox does not evaluate {ast.unparse(node)!r} in metric math.")


def _call(name: str, arguments: list[ast.expr], scope: Scope) -> Value:
    if name == "METRICS":
        wanted = ""
        if arguments:
            first = arguments[0]
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                raise ExpressionError("METRICS() takes an optional string filter.")
            wanted = first.value
        return [
            values
            for query_id, values in scope.series.items()
            if query_id in scope.metric_ids and wanted in query_id
        ]
    if name in _AGGREGATES and len(arguments) == 1:
        argument = _evaluate(arguments[0], scope)
        members = argument if isinstance(argument, list) else None
        if members is None:
            raise ExpressionError(f"{name}() takes METRICS() or a list of query ids.")
        return _aggregate(members, _AGGREGATES[name])
    raise ExpressionError(f"The sandbox does not evaluate the function {name}() in metric math.")


def _aggregate(members: list[Series], reduce: Callable[[list[float]], float]) -> Series:
    """Per timestamp, reduce the values of the series that have a datapoint there."""
    by_time: dict[float, list[float]] = {}
    for member in members:
        for timestamp, value in member.items():
            by_time.setdefault(timestamp, []).append(value)
    return {timestamp: reduce(values) for timestamp, values in by_time.items()}


def _combine(left: Value, right: Value, apply: Callable[[float, float], float]) -> Value:
    """Apply an operator to scalars and series; two series combine where both have data."""
    if isinstance(left, list) or isinstance(right, list):
        raise ExpressionError("Arithmetic applies to single series, not lists of series.")
    if isinstance(left, float) and isinstance(right, float):
        return _safe(apply, left, right) or 0.0
    if isinstance(left, float):
        assert isinstance(right, dict)
        return _drop_none({t: _safe(apply, left, v) for t, v in right.items()})
    if isinstance(right, float):
        return _drop_none({t: _safe(apply, v, right) for t, v in left.items()})
    return _drop_none({t: _safe(apply, v, right[t]) for t, v in left.items() if t in right})


def _safe(apply: Callable[[float, float], float], left: float, right: float) -> float | None:
    """Division by zero yields no datapoint, as in CloudWatch, rather than an error."""
    try:
        return float(apply(left, right))
    except (ZeroDivisionError, OverflowError):
        return None


def _drop_none(values: Mapping[float, float | None]) -> Series:
    return {timestamp: value for timestamp, value in values.items() if value is not None}
