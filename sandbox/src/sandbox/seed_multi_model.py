"""The demo world's multi-model endpoint: one churn model per sales region behind one endpoint.

The retention team trains a churn model for each region and serves them all from
``churn-regional-mme`` in us-east-1: a ``Mode: MultiModel`` container whose ModelDataUrl is
the prefix ``s3://<bucket>/multi-model/churn-regional/``, holding ``churn-amer.tar.gz``,
``churn-emea.tar.gz`` and ``churn-apac.tar.gz``. Callers pick the region's model with
TargetModel (``sandbox.multi_model``). The models differ in their regularization, so the
three answer differently for the same customer.
"""

from __future__ import annotations

from sandbox.models import artifact_bytes, train_model

MULTI_MODEL_REGION = "us-east-1"
MULTI_MODEL_ENDPOINT = "churn-regional-mme"
MULTI_MODEL_PREFIX = "multi-model/churn-regional/"
# TargetModel -> the regularization its region's data scientists settled on.
REGIONAL_MODELS: dict[str, float] = {
    "churn-amer.tar.gz": 1.0,
    "churn-emea.tar.gz": 0.3,
    "churn-apac.tar.gz": 0.05,
}


def seed_multi_model(*, endpoint_url: str) -> list[str]:
    """Upload the regional artifacts and create the multi-model endpoint (still Creating
    when this returns); returns its name."""
    # seed.py calls this module, so its helpers are imported when the seed runs.
    from sandbox.seed import EXECUTION_ROLE_ARN, client, ensure_bucket, image_uri

    region = MULTI_MODEL_REGION
    s3 = client("s3", endpoint_url=endpoint_url, region=region)
    sagemaker = client("sagemaker", endpoint_url=endpoint_url, region=region)
    bucket = ensure_bucket(s3, region)
    for target, regularization in REGIONAL_MODELS.items():
        s3.put_object(
            Bucket=bucket,
            Key=MULTI_MODEL_PREFIX + target,
            Body=artifact_bytes(train_model("churn", regularization=regularization)),
            ContentType="application/x-gzip",
        )
    model = f"{MULTI_MODEL_ENDPOINT}-model"
    sagemaker.create_model(
        ModelName=model,
        PrimaryContainer={
            "Image": image_uri("sagemaker-scikit-learn", region),
            "Mode": "MultiModel",
            "ModelDataUrl": f"s3://{bucket}/{MULTI_MODEL_PREFIX}",
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    config = f"{MULTI_MODEL_ENDPOINT}-config"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=MULTI_MODEL_ENDPOINT, EndpointConfigName=config)
    return [MULTI_MODEL_ENDPOINT]
