"""Service Quotas lookups (ServiceCode=sagemaker)."""

from __future__ import annotations

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import ServiceQuota
from core.targets import Target


def sagemaker_quota_by_name(*, target: Target, region: str, name: str) -> ServiceQuota | None:
    """The applied value of the sagemaker quota called `name`, or None if there is none.

    Quota codes are opaque (L-…) and differ per type, so the quota is found by its name,
    e.g. "ml.m5.large for transform job usage", paging through ListServiceQuotas.
    """
    quotas = client(target=target, region=region, service="service-quotas", read_timeout=5)
    paginator = quotas.get_paginator("list_service_quotas")
    with translated("ListServiceQuotas"):
        for page in paginator.paginate(ServiceCode="sagemaker", PaginationConfig={"PageSize": 100}):
            for item in page.get("Quotas", []):
                if item.get("QuotaName") == name:
                    return ServiceQuota(
                        code=item.get("QuotaCode", ""), name=name, value=float(item["Value"])
                    )
    return None
