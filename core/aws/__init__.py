"""The AWS gateway: the only package of the portal that imports boto3 or botocore.

Callers get dataclasses from `types.py` and `AwsError` subclasses from `errors.py`.
"""
