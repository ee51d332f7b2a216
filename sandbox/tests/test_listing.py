"""ListEndpoints pages like SageMaker: default 10, at most 100, every name exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.seed import seed_bulk
from sandbox.server import SandboxServer
from tests.world import PAGING_REGION

AwsFactory = Callable[..., Any]
BULK = 150


@pytest.fixture(scope="module")
def bulk_names(running_sandbox: SandboxServer) -> list[str]:
    return seed_bulk(
        endpoint_url=running_sandbox.url, count=BULK, region=PAGING_REGION, prefix="page-"
    )


def test_150_endpoints_come_back_in_two_pages_of_at_most_100(
    aws: AwsFactory, bulk_names: list[str]
) -> None:
    sagemaker = aws("sagemaker", PAGING_REGION)
    first = sagemaker.list_endpoints(MaxResults=100, NameContains="page-")
    second = sagemaker.list_endpoints(
        MaxResults=100, NameContains="page-", NextToken=first["NextToken"]
    )
    assert len(first["Endpoints"]) == 100
    assert len(second["Endpoints"]) == BULK - 100
    assert "NextToken" not in second
    names = [e["EndpointName"] for e in first["Endpoints"] + second["Endpoints"]]
    assert len(names) == len(set(names))
    assert set(names) == set(bulk_names)


def test_default_page_is_ten_newest_first(aws: AwsFactory, bulk_names: list[str]) -> None:
    sagemaker = aws("sagemaker", PAGING_REGION)
    page = sagemaker.list_endpoints(NameContains="page-")
    assert len(page["Endpoints"]) == 10
    created = [e["CreationTime"] for e in page["Endpoints"]]
    assert created == sorted(created, reverse=True)
    assert "NextToken" in page


def test_paginator_sorted_by_name_walks_every_endpoint_in_order(
    aws: AwsFactory, bulk_names: list[str]
) -> None:
    paginator = aws("sagemaker", PAGING_REGION).get_paginator("list_endpoints")
    names = [
        endpoint["EndpointName"]
        for page in paginator.paginate(
            NameContains="page-",
            SortBy="Name",
            SortOrder="Ascending",
            PaginationConfig={"PageSize": 37},
        )
        for endpoint in page["Endpoints"]
    ]
    assert names == sorted(bulk_names)


def test_bulk_endpoints_have_three_variants_each(aws: AwsFactory, bulk_names: list[str]) -> None:
    described = aws("sagemaker", PAGING_REGION).describe_endpoint(EndpointName=bulk_names[0])
    assert len(described["ProductionVariants"]) == 3


def test_more_than_100_per_page_is_a_validation_error(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", PAGING_REGION).list_endpoints(MaxResults=101)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 100" in raised.value.response["Error"]["Message"]


def test_a_forged_next_token_is_a_validation_error(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", PAGING_REGION).list_endpoints(NextToken="not-a-token")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_list_models_pages_too(aws: AwsFactory, bulk_names: list[str]) -> None:
    sagemaker = aws("sagemaker", "us-east-1")
    first = sagemaker.list_models(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    rest = sagemaker.list_models(
        MaxResults=100, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"]
    )
    names = [m["ModelName"] for m in first["Models"] + rest["Models"]]
    assert len(first["Models"]) == 2
    assert names == sorted(set(names))
    assert {"fraud-model-v1", "tumor-model-v1", "churn-model"} <= set(names)
