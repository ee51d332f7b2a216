"""Naming S3 operations from REST requests, checked against botocore's own serializer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import botocore.session
import pytest
from botocore.serialize import create_serializer

from sandbox.s3_operations import KNOWN_OPERATIONS, s3_operation

S3 = botocore.session.get_session().get_service_model("s3")
SERIALIZER = create_serializer("rest-xml", include_validation=False)


def _dummy(name: str, type_name: str) -> Any:
    if type_name in ("integer", "long"):
        return 1
    if type_name == "structure":
        return {}
    return "bucket/key" if name == "CopySource" else "x"


@pytest.mark.parametrize("operation", sorted(KNOWN_OPERATIONS))
def test_every_named_operation_is_found_in_the_request_botocore_sends(operation: str) -> None:
    model = S3.operation_model(operation)
    shape = model.input_shape
    params = (
        {name: _dummy(name, shape.members[name].type_name) for name in shape.required_members}
        if shape is not None
        else {}
    )
    request = SERIALIZER.serialize_to_request(params, model)
    path, _, inline_query = request["url_path"].partition("?")
    query = parse_qs(inline_query, keep_blank_values=True)
    for key, value in request["query_string"].items():
        query.setdefault(key, [str(value)])
    headers = {key.lower(): value for key, value in request["headers"].items()}
    assert s3_operation(request["method"], path, query, headers) == operation


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("POST", "/", {}), ("PATCH", "/bucket", {}), ("POST", "/bucket/key", {"select": [""]})],
)
def test_requests_it_cannot_name_have_no_operation(
    method: str, path: str, query: dict[str, list[str]]
) -> None:
    assert s3_operation(method, path, query, {}) is None
