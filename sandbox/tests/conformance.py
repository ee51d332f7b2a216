"""Checking a raw AWS HTTP response against botocore's model of the operation's output.

botocore parses leniently: a member the model does not know is dropped, a missing required
member or a JSON null passes unnoticed, and a wrong Content-Type or a missing request id
header only shows later (an empty RequestId in a CloudTrail match, a parser that guesses).
So the sandbox's conformance tests look at the response before botocore parses it
(``RawAnswers`` hooks ``before-parse``) and ``problems`` lists every way it differs from what
AWS sends: members unknown to the model, required members missing, nulls, enum values
outside the model, wrongly typed scalars, wrong nesting, the protocol's Content-Type and
request id header.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree

from botocore.model import OperationModel, Shape, StructureShape

# The request id header of each protocol: S3's own name, the amzn one everywhere else.
_REQUEST_ID_HEADER = {"rest-xml": "x-amz-request-id"}
_DEFAULT_REQUEST_ID_HEADER = "x-amzn-requestid"
# Members the model calls required that AWS leaves out when they are unset, by (shape name,
# member): DescribeEndpoint's capture summary names a KMS key only when the endpoint config
# gave one (SageMaker's own Model Monitor examples print the summary without it).
AWS_OMITS_WHEN_UNSET = frozenset({("DataCaptureConfigSummary", "KmsKeyId")})


@dataclass(frozen=True)
class RawAnswer:
    """One HTTP response as botocore received it, before parsing."""

    operation: OperationModel
    status: int
    headers: dict[str, str]
    body: bytes | None  # None for a streaming body, which the check leaves unread


@dataclass
class RawAnswers:
    """Records every response a client receives; register with ``RawAnswers().attach(c)``."""

    answers: list[RawAnswer] = field(default_factory=list)

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-parse", self._record)
        return client

    def _record(
        self, operation_model: OperationModel, response_dict: dict[str, Any], **_: Any
    ) -> None:
        body = response_dict.get("body")
        self.answers.append(
            RawAnswer(
                operation=operation_model,
                status=int(response_dict["status_code"]),
                headers={str(k).lower(): str(v) for k, v in response_dict["headers"].items()},
                body=body if isinstance(body, bytes) else None,
            )
        )

    def last(self, operation: str) -> RawAnswer:
        for answer in reversed(self.answers):
            if answer.operation.name == operation:
                return answer
        raise AssertionError(f"No {operation} response was received.")


def problems(answer: RawAnswer) -> list[str]:
    """Every way a successful response differs from AWS's shape for its operation."""
    model = answer.operation
    protocol = model.service_model.resolved_protocol
    found: list[str] = []
    if answer.status >= 300:
        return [f"HTTP {answer.status}, not a success"]
    request_id = _REQUEST_ID_HEADER.get(protocol, _DEFAULT_REQUEST_ID_HEADER)
    if not answer.headers.get(request_id):
        found.append(f"no {request_id} header")
    output = model.output_shape
    if output is None:
        return found
    if protocol in ("rest-json", "rest-xml"):
        found += _header_problems(output, answer.headers)
        payload = output.serialization.get("payload")
        if payload is not None and output.members[payload].type_name in ("blob", "string"):
            return found  # the body is the payload's bytes (an object, a model's answer)
        if payload is not None and output.members[payload].serialization.get("eventstream"):
            return found + _content_type(answer, "application/vnd.amazon.eventstream")
        if answer.body is None or (not answer.body.strip() and not output.required_members):
            return found
    if answer.body is None:
        return [*found, "a streaming body where the model has a document"]
    if protocol == "json":
        version = model.service_model.metadata.get("jsonVersion", "1.0")
        found += _content_type(answer, f"application/x-amz-json-{version}")
        found += _json_document(output, answer.body)
    elif protocol == "rest-json":
        found += _content_type(answer, "application/json")
        found += _json_document(_body_shape(output), answer.body)
    elif protocol == "query":
        found += _content_type(answer, "text/xml")
        found += _query_document(model, answer.body)
    elif protocol == "rest-xml":
        found += _content_type(answer, "application/xml")
        found += _xml_document(_body_shape(output), answer.body)
    else:
        found.append(f"protocol {protocol} is not checked")
    return found


def _content_type(answer: RawAnswer, expected: str) -> list[str]:
    actual = answer.headers.get("content-type", "")
    if actual.split(";", 1)[0].strip().lower() != expected:
        return [f"Content-Type {actual!r}, expected {expected!r}"]
    return []


def _body_shape(output: StructureShape) -> Shape:
    payload = output.serialization.get("payload")
    return output.members[payload] if payload else output


def _header_problems(output: StructureShape, headers: dict[str, str]) -> list[str]:
    found = []
    for name, shape in output.members.items():
        if shape.serialization.get("location") != "header":
            continue
        value = headers.get(shape.serialization.get("name", name).lower())
        if value is None:
            continue
        if shape.type_name in ("integer", "long") and not value.lstrip("-").isdigit():
            found.append(f"header {name}: {value!r} is not an integer")
        elif shape.type_name == "timestamp" and not _http_date(value):
            found.append(f"header {name}: {value!r} is not an HTTP date")
        elif shape.type_name == "boolean" and value not in ("true", "false"):
            found.append(f"header {name}: {value!r} is not a boolean")
        elif getattr(shape, "enum", None) and value not in shape.enum:
            found.append(f"header {name}: {value!r} is not one of {shape.enum}")
    return found


def _http_date(value: str) -> bool:
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


# JSON protocols.


def _json_document(shape: Shape, body: bytes) -> list[str]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return [f"the body is not JSON: {body[:80]!r}"]
    found: list[str] = []
    _json_value(shape, document, "$", found)
    return found


def _json_value(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    if value is None:
        found.append(f"{path}: null")
        return
    kind = shape.type_name
    if shape.metadata.get("document"):
        return
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__}, expected an object")
            return
        assert isinstance(shape, StructureShape)
        members = {
            member.serialization.get("name", name): (name, member)
            for name, member in shape.members.items()
            if member.serialization.get("location") in (None, "body")
        }
        for key, item in value.items():
            if key not in members:
                found.append(f"{path}.{key}: not in the model")
                continue
            _json_value(members[key][1], item, f"{path}.{key}", found)
        wire_names = {name: wire for wire, (name, _) in members.items()}
        for required in shape.required_members:
            if (shape.name, required) in AWS_OMITS_WHEN_UNSET:
                continue
            if required in wire_names and wire_names[required] not in value:
                found.append(f"{path}.{wire_names[required]}: required, missing")
    elif kind == "list":
        if not isinstance(value, list):
            found.append(f"{path}: {type(value).__name__}, expected an array")
            return
        for index, item in enumerate(value):
            _json_value(shape.member, item, f"{path}[{index}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__}, expected an object")
            return
        for key, item in value.items():
            _scalar(shape.key, key, f"{path} key {key!r}", found, json_timestamps=True)
            _json_value(shape.value, item, f"{path}.{key}", found)
    else:
        _scalar(shape, value, path, found, json_timestamps=True)


def _scalar(
    shape: Shape, value: Any, path: str, found: list[str], *, json_timestamps: bool
) -> None:
    """JSON scalars keep their JSON types; XML ones arrive as text (``json_timestamps`` off)."""
    kind = shape.type_name
    if not json_timestamps:
        value = _from_text(kind, value, path, found)
        if value is None:
            return
    if kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: {value!r} is not a string")
        elif getattr(shape, "enum", None) and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(f"{path}: {value!r} is not an integer")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            found.append(f"{path}: {value!r} is not a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{path}: {value!r} is not a boolean")
    elif kind == "timestamp":
        iso = shape.serialization.get("timestampFormat") == "iso8601"
        if json_timestamps and not iso:
            if isinstance(value, bool) or not isinstance(value, int | float):
                found.append(f"{path}: {value!r} is not epoch seconds")
        elif not isinstance(value, datetime) and not _iso(value):
            found.append(f"{path}: {value!r} is not an ISO 8601 timestamp")
    elif kind == "blob":
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            found.append(f"{path}: {value!r} is not base64")


def _iso(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _from_text(kind: str, text: str, path: str, found: list[str]) -> Any:
    """An XML element's text as the JSON value it stands for, or None after a problem."""
    if kind in ("integer", "long"):
        if not text.lstrip("-").isdigit():
            found.append(f"{path}: {text!r} is not an integer")
            return None
        return int(text)
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            found.append(f"{path}: {text!r} is not a number")
            return None
    if kind == "boolean":
        if text not in ("true", "false"):
            found.append(f"{path}: {text!r} is not a boolean")
            return None
        return text == "true"
    return text


# XML protocols.


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _query_document(model: OperationModel, body: bytes) -> list[str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return [f"the body is not XML: {body[:80]!r}"]
    found: list[str] = []
    if _local(root.tag) != f"{model.name}Response":
        found.append(f"root element {_local(root.tag)!r}, expected {model.name}Response")
    wrapper = model.output_shape.serialization.get("resultWrapper")
    children = {_local(child.tag): child for child in root}
    metadata = children.get("ResponseMetadata")
    if metadata is None or not (
        metadata.findtext("{*}RequestId") or metadata.findtext("RequestId")
    ):
        found.append("no ResponseMetadata/RequestId")
    result = children.get(wrapper) if wrapper else root
    if result is None:
        return [*found, f"no {wrapper} element"]
    _xml_value(model.output_shape, result, wrapper or "$", found, skip=("ResponseMetadata",))
    return found


def _xml_document(shape: Shape, body: bytes) -> list[str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return [f"the body is not XML: {body[:80]!r}"]
    found: list[str] = []
    _xml_value(shape, root, _local(root.tag), found)
    return found


def _xml_value(
    shape: Shape,
    element: ElementTree.Element,
    path: str,
    found: list[str],
    skip: tuple[str, ...] = (),
) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        by_wire: dict[str, tuple[str, Shape]] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") not in (None, "body"):
                continue
            if member.serialization.get("xmlAttribute"):
                continue
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                wire = member.member.serialization.get("name", wire)
            by_wire[wire] = (name, member)
        seen: dict[str, list[ElementTree.Element]] = {}
        for child in element:
            tag = _local(child.tag)
            if tag in skip:
                continue
            if tag not in by_wire:
                found.append(f"{path}.{tag}: not in the model")
                continue
            seen.setdefault(tag, []).append(child)
        for wire, children in seen.items():
            name, member = by_wire[wire]
            if member.type_name == "list" and member.serialization.get("flattened"):
                for index, child in enumerate(children):
                    _xml_value(member.member, child, f"{path}.{wire}[{index}]", found)
            else:
                if len(children) > 1:
                    found.append(f"{path}.{wire}: repeated")
                _xml_value(member, children[0], f"{path}.{wire}", found)
        present = {by_wire[wire][0] for wire in seen}
        for required in shape.required_members:
            if required not in present and any(name == required for name, _ in by_wire.values()):
                found.append(f"{path}.{required}: required, missing")
    elif kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        for index, child in enumerate(element):
            if _local(child.tag) != item_name:
                found.append(f"{path}: element {_local(child.tag)!r}, expected {item_name!r}")
                continue
            _xml_value(shape.member, child, f"{path}[{index}]", found)
    elif kind == "map":
        for entry in element:
            key = entry.findtext("key") or ""
            value = entry.find("value")
            if value is None:
                found.append(f"{path}: entry {key!r} without a value")
                continue
            _xml_value(shape.value, value, f"{path}.{key}", found)
    else:
        if len(element):
            found.append(f"{path}: nested elements where the model has a {kind}")
            return
        _scalar(shape, element.text or "", path, found, json_timestamps=False)
