"""Whatever a change request's fields hold (forms parse them, the coming API will not), the
checks answer with Invalid and a message, or record a proposal; never another exception,
and nothing is saved when they refuse."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from shifts import services
from shifts.models import ChangeType, ShiftProposal

pytestmark = pytest.mark.django_db

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "capacity",
    "variant",
    "action",
    "min_capacity",
    "max_capacity",
    "policy",
    "policy_name",
    "model",
    "instance_type",
    "instance_count",
    "deployment",
    "config_name",
]
SPECS = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)


@pytest.fixture
def no_aws(aws_unreachable):
    """The checks that ask AWS (model, config, quota) meet a closed port: still no 500."""


@pytest.fixture
def known(endpoint):
    """The inventory knows the endpoint's config and A's auto scaling, so every check runs."""
    endpoint.config_name = "checkout-config"
    endpoint.config_raw = {
        "EndpointConfigName": "checkout-config",
        "ProductionVariants": [
            {
                "VariantName": v,
                "ModelName": "m1",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
            for v in ("A", "B")
        ],
    }
    endpoint.autoscaling = [
        {
            "variant": "A",
            "min_capacity": 1,
            "max_capacity": 3,
            "suspended": [],
            "policies": [
                {
                    "name": "p",
                    "target_value": 70.0,
                    "scale_in_cooldown": 300,
                    "scale_out_cooldown": 60,
                }
            ],
        }
    ]
    endpoint.save()
    return endpoint


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(change=st.sampled_from([c for c in ChangeType.values if c != "traffic"]), spec=SPECS)
def test_any_spec_is_refused_with_a_message_or_recorded(change, spec, known, people, no_aws):
    before = ShiftProposal.objects.count()
    try:
        proposal = services.change_propose(
            endpoint_id=known.pk,
            actor=people.operator,
            change=change,
            spec=spec,
            reason="fuzz",
        )
    except Invalid as refused:
        assert refused.message
        assert ShiftProposal.objects.count() == before
    else:
        # Only a well-formed change gets this far; free the endpoint for the next example.
        assert proposal.change == change
        services.shift_cancel(proposal_id=proposal.pk, actor=people.operator)
