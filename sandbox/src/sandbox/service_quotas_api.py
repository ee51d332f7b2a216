"""Service Quotas for ``ServiceCode=sagemaker``: ListServiceQuotas, GetServiceQuota and
ListAWSDefaultServiceQuotas.

moto knows no sagemaker quotas, so a portal checking "ml.m5.large for transform job usage"
before launching a job would get nothing. Requests for other services pass through to moto.
Pages are ordered by quota name; the token records the last name returned and the request
it belongs to, as in ``sandbox.listing``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.quotas import QuotaDefinition, QuotaStore, by_code, catalog

Handler = Callable[[AwsRequest], WsgiResponse | None]

# Service Quotas' signing name.
SERVICE_QUOTAS = "servicequotas"
SERVICE_CODE = "sagemaker"
SERVICE_NAME = "Amazon SageMaker"
DEFAULT_MAX_RESULTS = 100


def _illegal(message: str) -> AwsError:
    return AwsError("IllegalArgumentException", message)


def render_quota(
    definition: QuotaDefinition, *, region: str, account_id: str | None, value: float
) -> dict[str, Any]:
    """A ServiceQuota shape; AWS's default-quota ARNs carry no account."""
    return {
        "ServiceCode": SERVICE_CODE,
        "ServiceName": SERVICE_NAME,
        "QuotaArn": f"arn:aws:servicequotas:{region}:{account_id or ''}:{SERVICE_CODE}/"
        f"{definition.code}",
        "QuotaCode": definition.code,
        "QuotaName": definition.name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
        "QuotaAppliedAtLevel": "ACCOUNT",
        "Description": f"Maximum number of {definition.instance_type} instances "
        f"{definition.usage} in this account in the current Region.",
    }


class ServiceQuotasApi:
    """Answers sagemaker's quotas from the catalog and the applied values."""

    def __init__(self, store: QuotaStore) -> None:
        self.store = store

    def operations(self) -> dict[str, Handler]:
        return {
            "ListServiceQuotas": self.list_service_quotas,
            "GetServiceQuota": self.get_service_quota,
            "ListAWSDefaultServiceQuotas": self.list_default_service_quotas,
        }

    def list_service_quotas(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if params.get("ServiceCode") != SERVICE_CODE:
            return None
        definitions = list(catalog())
        code = params.get("QuotaCode")
        if code:
            definitions = [d for d in definitions if d.code == code]

        def render(definition: QuotaDefinition) -> dict[str, Any]:
            value = self.store.value(request.account_id, request.region, definition)
            return render_quota(
                definition, region=request.region, account_id=request.account_id, value=value
            )

        return self._page(request, params, definitions, render)

    def list_default_service_quotas(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if params.get("ServiceCode") != SERVICE_CODE:
            return None

        def render(definition: QuotaDefinition) -> dict[str, Any]:
            return render_quota(
                definition, region=request.region, account_id=None, value=definition.default_value
            )

        return self._page(request, params, list(catalog()), render)

    def get_service_quota(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if params.get("ServiceCode") != SERVICE_CODE:
            return None
        definition = by_code(str(params.get("QuotaCode") or ""))
        if definition is None:
            raise AwsError(
                "NoSuchResourceException",
                "The request failed because the specified quota "
                f"{params.get('QuotaCode')!r} does not exist for service {SERVICE_CODE}.",
            )
        value = self.store.value(request.account_id, request.region, definition)
        quota = render_quota(
            definition, region=request.region, account_id=request.account_id, value=value
        )
        return json_response(request, {"Quota": quota})

    @staticmethod
    def _page(
        request: AwsRequest,
        params: Mapping[str, Any],
        definitions: list[QuotaDefinition],
        render: Callable[[QuotaDefinition], dict[str, Any]],
    ) -> WsgiResponse:
        max_results = params.get("MaxResults", DEFAULT_MAX_RESULTS)
        if isinstance(max_results, bool) or not isinstance(max_results, int):
            raise _illegal("MaxResults must be an integer.")
        if not 1 <= max_results <= 100:
            raise _illegal("MaxResults must be between 1 and 100.")
        identity = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        fingerprint = json.dumps(identity, sort_keys=True)
        token = params.get("NextToken")
        if token:
            after = _decode(str(token), fingerprint)
            definitions = [d for d in definitions if d.name > after]
        page = definitions[:max_results]
        result: dict[str, Any] = {"Quotas": [render(d) for d in page]}
        if len(definitions) > max_results:
            result["NextToken"] = _encode(page[-1].name, fingerprint)
        return json_response(request, result)


def _encode(last_name: str, fingerprint: str) -> str:
    document = json.dumps({"q": fingerprint, "k": last_name}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode()


def _decode(token: str, fingerprint: str) -> str:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        if document["q"] == fingerprint:
            return str(document["k"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise AwsError(
        "InvalidPaginationTokenException",
        "Invalid input: The NextToken is invalid or does not belong to this request.",
    )
