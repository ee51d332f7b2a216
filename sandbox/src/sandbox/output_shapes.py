"""Fitting a description read from moto to the operation's output shape, as AWS sends it.

moto fills a member it was never given with an empty value: a model without a VPC describes
``"VpcConfig": {}``, a config without data capture ``"DataCaptureConfig": {}``. AWS leaves
such members out, and an empty structure is not even valid there: botocore's model requires
members inside it (VpcConfig's Subnets and SecurityGroupIds, DataCaptureConfig's
DestinationS3Uri and more), so a caller that reads the block finds it broken. moto's objects
also carry attributes that are no member of the output at all (tags, a tuple of ARNs).
``aws_shaped`` keeps the members the output shape has, turns timestamps into the epoch
seconds AWS's JSON protocols send, and drops nulls and the empty structures AWS would never
send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import Shape, StructureShape

_OMIT = object()


@cache
def _output_shape(service: str, operation: str) -> StructureShape:
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).output_shape
    assert isinstance(shape, StructureShape), f"{service}:{operation} has no output"
    return shape


def output_members(service: str, operation: str) -> frozenset[str]:
    """The member names of ``operation``'s output."""
    return frozenset(_output_shape(service, operation).members)


def aws_shaped(service: str, operation: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (moto's description) with only what AWS would send for ``operation``."""
    shaped = _fit(_output_shape(service, operation), document)
    return shaped if isinstance(shaped, dict) else {}


def _fit(shape: Shape, value: Any) -> Any:
    if value is None:
        return _OMIT
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        assert isinstance(shape, StructureShape)
        fitted = {}
        for name, member in shape.members.items():
            if name in value:
                item = _fit(member, value[name])
                if item is not _OMIT:
                    fitted[name] = item
        if not fitted and shape.required_members:
            return _OMIT  # an empty block whose required members AWS would always send
        return fitted
    if kind == "list" and isinstance(value, list | tuple):
        member = shape.member
        return [item for item in (_fit(member, v) for v in value) if item is not _OMIT]
    if kind == "map" and isinstance(value, dict):
        target = shape.value
        return {k: item for k, v in value.items() if (item := _fit(target, v)) is not _OMIT}
    if kind == "timestamp" and isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()  # moto's own times are naive UTC
    return value
