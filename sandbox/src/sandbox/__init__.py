"""A local AWS stand-in for the Ops Portal, built on moto.

moto answers most of the AWS API but makes every endpoint InService at once, serves no real
inference and skips several SageMaker behaviours the portal depends on. The sandbox wraps
moto's server in a WSGI middleware that owns those operations and passes everything else on,
so the portal (and the SageMaker examples people already run) see AWS's behaviour through the
standard ``AWS_ENDPOINT_URL`` variable. Nothing here imports Django or the portal; other
projects' tests and benchmarks use the sandbox through ``sandbox.testing``.
"""

# The worlds ``python -m sandbox serve --seed`` can start with.
SEEDS = ("demo", "none")
