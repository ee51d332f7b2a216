"""CloudWatch's metric operations, answered from the sandbox's own metric store.

moto cannot compute percentiles (GetMetricData with ``p99`` crashes it), skips GetMetricData's
validation and paging, and scans every value ever put on every query. The sandbox therefore owns
PutMetricData, GetMetricData, GetMetricStatistics and ListMetrics; alarms stay in moto (see
``sandbox.alarms``). botocore 1.44 speaks AWS JSON 1.0 to CloudWatch, so requests arrive as
JSON with epoch-second timestamps and answers go back the same way.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox import metric_math
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.metric_store import (
    MINUTE,
    MetricStore,
    SeriesKey,
    dimensions_key,
    is_statistic,
)

Handler = Callable[[AwsRequest], WsgiResponse | None]

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
MAX_STATISTICS_DATAPOINTS = 1440
MAX_PUT_DATUMS = 1000
MAX_VALUES_PER_DATUM = 150
MAX_DIMENSIONS = 30
LIST_METRICS_PAGE = 500
_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]{0,254}$")
_HIGH_RESOLUTION_PERIODS = (1, 5, 10, 30)
_TWO_WEEKS = 14 * 86400
_TWO_HOURS = 2 * 3600
_RECENT = 3 * 3600
UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def missing_parameter(name: str) -> AwsError:
    return AwsError("MissingParameter", f"The parameter {name} is required.")


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message)


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def request_document(request: AwsRequest) -> dict[str, Any]:
    """The JSON body; botocore gzips large PutMetricData bodies (request compression)."""
    if request.headers.get("content-encoding", "").lower() == "gzip" and request.body:
        try:
            body = gzip.decompress(request.body)
        except (OSError, EOFError):
            raise AwsError("SerializationException", "The gzip request body is corrupt.") from None
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            raise AwsError(
                "SerializationException", "The request body is not valid JSON."
            ) from None
        if not isinstance(document, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object.")
        return document
    return request.json_body()


def epoch(params: Mapping[str, Any], name: str, *, required: bool = True) -> float | None:
    """A timestamp parameter as epoch seconds (botocore's JSON encoding) or ISO 8601."""
    value = params.get(name)
    if value is None:
        if required:
            raise missing_parameter(name)
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise invalid_value(f"The parameter {name} must be a timestamp.")


def grid_origin(start: float, now: float) -> int:
    """StartTime rounded down as CloudWatch does: to the minute, 5 minutes or hour by age."""
    age = now - start
    step = 3600 if age > 63 * 86400 else 300 if age > 15 * 86400 else MINUTE
    return int(start // step) * step


def _valid_period(period: Any) -> bool:
    if isinstance(period, bool) or not isinstance(period, int):
        return False
    return period in _HIGH_RESOLUTION_PERIODS or (period > 0 and period % MINUTE == 0)


def _effective_period(period: int) -> int:
    """The store keeps one-minute data, so sub-minute periods read as one minute."""
    return max(period, MINUTE)


def _fingerprint(params: Mapping[str, Any], *ignored: str) -> str:
    identity = {k: v for k, v in params.items() if k not in ignored}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


def _encode_token(payload: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(payload, dict) and payload.get("q") == fingerprint:
            return payload
    except (ValueError, binascii.Error):
        pass
    raise AwsError("InvalidNextToken", "The NextToken is invalid or belongs to another request.")


@dataclass(frozen=True)
class StatQuery:
    """One validated MetricStat query."""

    query_id: str
    label: str
    return_data: bool
    key: SeriesKey
    period: int
    stat: str
    unit: str | None


@dataclass(frozen=True)
class ExpressionQuery:
    query_id: str
    label: str
    return_data: bool
    expression: str


@dataclass
class QueryResult:
    query_id: str
    label: str
    points: list[tuple[float, float]]
    status: str = "Complete"
    messages: list[dict[str, str]] | None = None


class CloudWatchApi:
    """Handlers for the metric half of CloudWatch."""

    def __init__(self, store: MetricStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def operations(self) -> dict[str, Handler]:
        return {
            "PutMetricData": self.put_metric_data,
            "GetMetricData": self.get_metric_data,
            "GetMetricStatistics": self.get_metric_statistics,
            "ListMetrics": self.list_metrics,
        }

    # PutMetricData -------------------------------------------------------------------------

    def put_metric_data(self, request: AwsRequest) -> WsgiResponse:
        """Validate every datum first, then store them all: AWS accepts all or none."""
        params = request_document(request)
        namespace = params.get("Namespace")
        if not namespace:
            raise missing_parameter("Namespace")
        if str(namespace).startswith("AWS/"):
            raise invalid_value(
                f"The value {namespace} for parameter Namespace is invalid: namespaces starting "
                "with AWS/ are reserved for AWS services."
            )
        data = params.get("MetricData")
        if not isinstance(data, list) or not data:
            raise missing_parameter("MetricData")
        if len(data) > MAX_PUT_DATUMS:
            raise invalid_value(
                f"The collection MetricData must not have a size greater than {MAX_PUT_DATUMS}."
            )
        now = self.clock()
        writes = [
            self._parse_datum(request, str(namespace), datum, index, now)
            for index, datum in enumerate(data, start=1)
        ]
        for write in writes:
            write()
        return json_response(request, {})

    def _parse_datum(
        self, request: AwsRequest, namespace: str, datum: Any, index: int, now: float
    ) -> Callable[[], None]:
        member = f"MetricData.member.{index}"
        if not isinstance(datum, dict):
            raise invalid_value(f"The parameter {member} must be a structure.")
        name = datum.get("MetricName")
        if not name:
            raise missing_parameter(f"{member}.MetricName")
        dimensions = datum.get("Dimensions") or []
        if len(dimensions) > MAX_DIMENSIONS:
            raise invalid_value(
                f"The collection {member}.Dimensions must not have a size greater than "
                f"{MAX_DIMENSIONS}."
            )
        for position, dimension in enumerate(dimensions, start=1):
            for field in ("Name", "Value"):
                if not dimension.get(field):
                    raise missing_parameter(f"{member}.Dimensions.member.{position}.{field}")
        unit = datum.get("Unit")
        if unit is not None and unit not in UNITS:
            raise invalid_value(f"The value {unit} for parameter {member}.Unit is invalid.")
        timestamp = epoch(datum, "Timestamp", required=False)
        timestamp = now if timestamp is None else timestamp
        if timestamp < now - _TWO_WEEKS:
            raise invalid_value(
                f"The parameter {member}.Timestamp must specify a time no more than two weeks "
                "in the past."
            )
        if timestamp > now + _TWO_HOURS:
            raise invalid_value(
                f"The parameter {member}.Timestamp must specify a time no more than two hours "
                "in the future."
            )
        key = SeriesKey(
            request.account_id, request.region, namespace, str(name), dimensions_key(dimensions)
        )
        given = [f for f in ("Value", "Values", "StatisticValues") if datum.get(f) is not None]
        if len(given) > 1:
            raise invalid_combination(
                f"The parameters {member}.{given[0]} and {member}.{given[1]} are mutually "
                "exclusive and you have specified both."
            )
        if not given:
            raise missing_parameter(f"{member}.Value")
        if given[0] == "StatisticValues":
            stats = datum["StatisticValues"]
            numbers = {}
            for field in ("SampleCount", "Sum", "Minimum", "Maximum"):
                if stats.get(field) is None:
                    raise missing_parameter(f"{member}.StatisticValues.{field}")
                numbers[field] = _finite(stats[field], f"{member}.StatisticValues.{field}")
            if numbers["SampleCount"] <= 0:
                raise invalid_value(
                    f"The parameter {member}.StatisticValues.SampleCount must be positive."
                )
            return lambda: self.store.put_statistics(
                key,
                timestamp,
                count=numbers["SampleCount"],
                total=numbers["Sum"],
                minimum=numbers["Minimum"],
                maximum=numbers["Maximum"],
                unit=unit,
            )
        if given[0] == "Value":
            value = _finite(datum["Value"], f"{member}.Value")
            return lambda: self.store.put_values(key, timestamp, [value], None, unit)
        values = [_finite(v, f"{member}.Values") for v in datum["Values"]]
        if len(values) > MAX_VALUES_PER_DATUM:
            raise invalid_value(
                f"The collection {member}.Values must not have a size greater than "
                f"{MAX_VALUES_PER_DATUM}."
            )
        counts_given = datum.get("Counts")
        counts = None
        if counts_given:
            if len(counts_given) != len(values):
                raise invalid_combination(
                    f"The parameters {member}.Values and {member}.Counts must be of the same size."
                )
            counts = [_finite(c, f"{member}.Counts") for c in counts_given]
            if any(c < 0 for c in counts):
                raise invalid_value(f"The parameter {member}.Counts must not be negative.")
        return lambda: self.store.put_values(key, timestamp, values, counts, unit)

    # GetMetricData -------------------------------------------------------------------------

    def get_metric_data(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        queries = params.get("MetricDataQueries")
        if not isinstance(queries, list) or not queries:
            raise missing_parameter("MetricDataQueries")
        if len(queries) > MAX_QUERIES:
            raise validation_error(
                "1 validation error detected: Value at 'metricDataQueries' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_QUERIES}"
            )
        start = epoch(params, "StartTime")
        end = epoch(params, "EndTime")
        assert start is not None and end is not None
        if end <= start:
            raise validation_error(
                "The parameter StartTime must be less than the parameter EndTime."
            )
        scan_by = params.get("ScanBy") or "TimestampDescending"
        if scan_by not in ("TimestampDescending", "TimestampAscending"):
            raise validation_error(
                f"1 validation error detected: Value '{scan_by}' at 'scanBy' failed to satisfy "
                "constraint: Member must satisfy enum value set: "
                "[TimestampDescending, TimestampAscending]"
            )
        max_datapoints = params.get("MaxDatapoints", DEFAULT_MAX_DATAPOINTS)
        if isinstance(max_datapoints, bool) or not isinstance(max_datapoints, int):
            raise invalid_value("The parameter MaxDatapoints must be an integer.")
        if max_datapoints < 1:
            raise invalid_value("The parameter MaxDatapoints must be greater than 0.")
        parsed = self._parse_queries(request, queries)
        origin = grid_origin(start, self.clock())
        results = self._run_queries(parsed, origin, end)
        descending = scan_by == "TimestampDescending"
        for result in results:
            result.points.sort(reverse=descending)
        fingerprint = _fingerprint(params, "NextToken")
        offset = 0
        if params.get("NextToken"):
            offset = int(_decode_token(str(params["NextToken"]), fingerprint).get("o", 0))
        page_end = offset + max_datapoints
        rendered = []
        position = 0
        for result in results:
            first, last = position, position + len(result.points)
            position = last
            taken = result.points[max(first, offset) - first : max(0, min(last, page_end) - first)]
            entry: dict[str, Any] = {
                "Id": result.query_id,
                "Label": result.label,
                "Timestamps": [t for t, _ in taken],
                "Values": [v for _, v in taken],
                "StatusCode": result.status if last <= page_end else "PartialData",
            }
            if result.messages:
                entry["Messages"] = result.messages
            rendered.append(entry)
        answer: dict[str, Any] = {"MetricDataResults": rendered, "Messages": []}
        if position > page_end:
            answer["NextToken"] = _encode_token({"q": fingerprint, "o": page_end})
        return json_response(request, answer)

    def _parse_queries(
        self, request: AwsRequest, queries: list[Any]
    ) -> list[StatQuery | ExpressionQuery]:
        parsed: list[StatQuery | ExpressionQuery] = []
        seen: set[str] = set()
        for index, query in enumerate(queries, start=1):
            member = f"MetricDataQueries.member.{index}"
            if not isinstance(query, dict):
                raise invalid_value(f"The parameter {member} must be a structure.")
            query_id = query.get("Id")
            if not query_id:
                raise missing_parameter(f"{member}.Id")
            if not _QUERY_ID.match(str(query_id)):
                raise validation_error(
                    f"The value {query_id} for parameter {member}.Id is not valid: an Id must "
                    "start with a lowercase letter and contain only letters, numbers and "
                    "underscores."
                )
            if query_id in seen:
                raise validation_error(
                    f"The value {query_id} for parameter {member}.Id is not unique."
                )
            seen.add(str(query_id))
            return_data = query.get("ReturnData", True) is not False
            stat, expression = query.get("MetricStat"), query.get("Expression")
            if (stat is None) == (expression is None):
                raise validation_error(
                    f"Exactly one of {member}.MetricStat and {member}.Expression must be given."
                )
            if expression is not None:
                parsed.append(
                    ExpressionQuery(
                        str(query_id),
                        str(query.get("Label") or query_id),
                        return_data,
                        str(expression),
                    )
                )
                continue
            metric = stat.get("Metric") or {}
            for field in ("Namespace", "MetricName"):
                if not metric.get(field):
                    raise missing_parameter(f"{member}.MetricStat.Metric.{field}")
            period = stat.get("Period")
            if period is None:
                raise missing_parameter(f"{member}.MetricStat.Period")
            if not _valid_period(period):
                raise validation_error(
                    f"The parameter {member}.MetricStat.Period must be 1, 5, 10, 30 or a "
                    "multiple of 60."
                )
            statistic = stat.get("Stat")
            if not statistic:
                raise missing_parameter(f"{member}.MetricStat.Stat")
            if not is_statistic(str(statistic)):
                raise invalid_value(
                    f"The value {statistic} for parameter {member}.MetricStat.Stat is not a "
                    "valid statistic (SampleCount, Average, Sum, Minimum, Maximum or p0-p100)."
                )
            unit = stat.get("Unit")
            if unit is not None and unit not in UNITS:
                raise invalid_value(
                    f"The value {unit} for parameter {member}.MetricStat.Unit is invalid."
                )
            key = SeriesKey(
                request.account_id,
                request.region,
                str(metric["Namespace"]),
                str(metric["MetricName"]),
                dimensions_key(metric.get("Dimensions") or []),
            )
            parsed.append(
                StatQuery(
                    query_id=str(query_id),
                    label=str(query.get("Label") or metric["MetricName"]),
                    return_data=return_data,
                    key=key,
                    period=_effective_period(int(period)),
                    stat=str(statistic),
                    unit=unit,
                )
            )
        return parsed

    def _run_queries(
        self, queries: Sequence[StatQuery | ExpressionQuery], origin: int, end: float
    ) -> list[QueryResult]:
        """Metric queries first, then expressions over them; only ReturnData results answer."""
        series: dict[str, dict[float, float]] = {}
        results: dict[str, QueryResult] = {}
        for query in queries:
            if isinstance(query, StatQuery):
                points = self._statistic_points(
                    query.key, origin, end, query.period, query.stat, query.unit
                )
                series[query.query_id] = dict(points)
                results[query.query_id] = QueryResult(query.query_id, query.label, points)
        metric_ids = frozenset(series)
        for query in queries:
            if isinstance(query, ExpressionQuery):
                try:
                    values = metric_math.evaluate(query.expression, series, metric_ids)
                except metric_math.ExpressionError as error:
                    results[query.query_id] = QueryResult(
                        query.query_id,
                        query.label,
                        [],
                        status="InternalError",
                        messages=[{"Code": "InvalidExpression", "Value": str(error)}],
                    )
                    continue
                series[query.query_id] = values
                results[query.query_id] = QueryResult(
                    query.query_id, query.label, sorted(values.items())
                )
        return [results[q.query_id] for q in queries if q.return_data]

    def _statistic_points(
        self, key: SeriesKey, origin: int, end: float, period: int, stat: str, unit: str | None
    ) -> list[tuple[float, float]]:
        points = []
        for aggregate in self.store.aggregate(key, origin, end, period, unit):
            value = aggregate.bucket.statistic(stat)
            if value is not None:
                points.append((float(aggregate.start), value))
        return points

    # GetMetricStatistics -------------------------------------------------------------------

    def get_metric_statistics(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        for name in ("Namespace", "MetricName", "Period"):
            if params.get(name) in (None, ""):
                raise missing_parameter(name)
        start = epoch(params, "StartTime")
        end = epoch(params, "EndTime")
        assert start is not None and end is not None
        if end <= start:
            raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")
        period = params["Period"]
        if not _valid_period(period):
            raise invalid_value("The parameter Period must be 1, 5, 10, 30 or a multiple of 60.")
        statistics = list(params.get("Statistics") or [])
        extended = list(params.get("ExtendedStatistics") or [])
        if not statistics and not extended:
            raise invalid_combination("Must specify either Statistics or ExtendedStatistics.")
        for name in statistics:
            if name not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum"):
                raise invalid_value(f"The value {name} for parameter Statistics is not valid.")
        for name in extended:
            if not is_statistic(name) or name[0] != "p":
                raise invalid_value(
                    f"The value {name} for parameter ExtendedStatistics is not valid."
                )
        requested = math.ceil((end - start) / period)
        if requested > MAX_STATISTICS_DATAPOINTS:
            raise invalid_combination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS:,}. You may reduce the datapoints requested by "
                "increasing Period, or decreasing the time range."
            )
        unit = params.get("Unit")
        key = SeriesKey(
            request.account_id,
            request.region,
            str(params["Namespace"]),
            str(params["MetricName"]),
            dimensions_key(params.get("Dimensions") or []),
        )
        origin = grid_origin(start, self.clock())
        datapoints = []
        series_unit = self.store.unit_of(key) or "None"
        for aggregate in self.store.aggregate(key, origin, end, _effective_period(period), unit):
            point: dict[str, Any] = {"Timestamp": float(aggregate.start), "Unit": series_unit}
            for name in statistics:
                point[name] = aggregate.bucket.statistic(name)
            if extended:
                values = {name: aggregate.bucket.statistic(name) for name in extended}
                point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
            datapoints.append(point)
        return json_response(request, {"Label": params["MetricName"], "Datapoints": datapoints})

    # ListMetrics ---------------------------------------------------------------------------

    def list_metrics(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        namespace = params.get("Namespace")
        metric_name = params.get("MetricName")
        filters = params.get("Dimensions") or []
        recently = params.get("RecentlyActive")
        if recently is not None and recently != "PT3H":
            raise invalid_value(f"The value {recently} for parameter RecentlyActive is invalid.")
        now = self.clock()
        rows = []
        for key, last_put in self.store.keys(request.account_id, request.region):
            if namespace and key.namespace != namespace:
                continue
            if metric_name and key.metric_name != metric_name:
                continue
            if recently and last_put < now - _RECENT:
                continue
            present = dict(key.dimensions)
            if any(
                f.get("Name") not in present
                or (f.get("Value") is not None and present[f["Name"]] != f["Value"])
                for f in filters
            ):
                continue
            rows.append(key)
        rows.sort(key=lambda k: (k.namespace, k.metric_name, k.dimensions))
        fingerprint = _fingerprint(params, "NextToken")
        offset = 0
        if params.get("NextToken"):
            offset = int(_decode_token(str(params["NextToken"]), fingerprint).get("o", 0))
        page = rows[offset : offset + LIST_METRICS_PAGE]
        answer: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": key.namespace,
                    "MetricName": key.metric_name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in key.dimensions],
                }
                for key in page
            ]
        }
        if offset + LIST_METRICS_PAGE < len(rows):
            answer["NextToken"] = _encode_token({"q": fingerprint, "o": offset + LIST_METRICS_PAGE})
        return json_response(request, answer)


def _finite(value: Any, member: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid_value(f"The value {value} for parameter {member} is invalid.") from None
    if not math.isfinite(number) or abs(number) > 2.0**360:
        raise invalid_value(f"The value {value} for parameter {member} is invalid.")
    return number
