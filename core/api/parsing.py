"""Request parsing for the API that refuses, as bad input (400), what a database or the
audit log's canonical JSON cannot hold: NUL characters (PostgreSQL text refuses them) and
NaN or Infinity (not JSON numbers, and the audit hash needs real JSON)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from core.errors import Invalid

NUL = "\x00"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number.")


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if NUL in value:
            raise ValueError("Text may not contain NUL characters.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body, parse_constant=_no_constant)
        _check_text(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            if NUL in key or any(NUL in str(v) for v in values):
                raise Invalid(errors={key.replace(NUL, ""): ["Text may not contain NUL."]})
        return super().parse_querydict(data, list_fields, request)
