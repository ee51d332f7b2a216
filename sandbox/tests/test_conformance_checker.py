"""The conformance checker finds each kind of difference from AWS's shape it promises to."""

from __future__ import annotations

import json
from typing import Any

import botocore.session

from tests.conformance import RawAnswer, problems

_SESSION = botocore.session.get_session()


def _answer(
    service: str, operation: str, body: bytes, headers: dict[str, str] | None = None
) -> RawAnswer:
    model = _SESSION.get_service_model(service).operation_model(operation)
    return RawAnswer(operation=model, status=200, headers=headers or {}, body=body)


def _sagemaker(document: dict[str, Any]) -> RawAnswer:
    return _answer(
        "sagemaker",
        "ListEndpoints",
        json.dumps(document).encode(),
        {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "abc"},
    )


def _endpoint(**changes: Any) -> dict[str, Any]:
    return {
        "EndpointName": "e",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
        "CreationTime": 1.5,
        "LastModifiedTime": 2,
        "EndpointStatus": "InService",
        **changes,
    }


def test_a_faithful_answer_has_no_problems() -> None:
    assert problems(_sagemaker({"Endpoints": [_endpoint()]})) == []


def test_unknown_null_missing_enum_and_type_problems_are_named() -> None:
    found = problems(
        _sagemaker(
            {
                "Endpoints": [
                    _endpoint(EndpointStatus="Sleeping", Colour="blue"),
                    _endpoint(CreationTime="2026-12-04T10:00:00Z", LastModifiedTime=None),
                ],
                "NextToken": 7,
            }
        )
    )
    assert sorted(found) == sorted(
        [
            "$.Endpoints[0].EndpointStatus: 'Sleeping' is not one of "
            + str(_SESSION.get_service_model("sagemaker").shape_for("EndpointStatus").enum),
            "$.Endpoints[0].Colour: not in the model",
            "$.Endpoints[1].CreationTime: '2026-12-04T10:00:00Z' is not epoch seconds",
            "$.Endpoints[1].LastModifiedTime: null",
            "$.NextToken: 7 is not a string",
        ]
    )


def test_missing_required_members_and_wrong_headers_are_named() -> None:
    answer = _answer("sagemaker", "ListEndpoints", b"{}", {"content-type": "text"})
    assert problems(answer) == [
        "no x-amzn-requestid header",
        "Content-Type 'text', expected 'application/x-amz-json-1.1'",
        "$.Endpoints: required, missing",
    ]


def test_xml_answers_are_checked_by_element() -> None:
    body = (
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Name>b</Name><KeyCount>two</KeyCount><IsTruncated>false</IsTruncated>"
        b"<Contents><Key>k</Key><Size>3</Size><StorageClass>STANDARD</StorageClass>"
        b"<Colour>blue</Colour></Contents></ListBucketResult>"
    )
    answer = _answer(
        "s3",
        "ListObjectsV2",
        body,
        {"content-type": "application/xml", "x-amz-request-id": "0123456789ABCDEF"},
    )
    assert problems(answer) == [
        "ListBucketResult.KeyCount: 'two' is not an integer",
        "ListBucketResult.Contents[0].Colour: not in the model",
    ]
