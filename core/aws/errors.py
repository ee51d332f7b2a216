"""Errors the gateway raises, mapped from botocore's so callers never import botocore.

Each carries the AWS error code and message, which pages show as they are: an on-call
engineer searches for the exact text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)


class AwsError(Exception):
    """An AWS call failed; `code` is AWS's error code (or a transport failure's name)."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.operation = operation

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class NotFound(AwsError):
    """The named resource does not exist (SageMaker says so with a ValidationException)."""


class Throttled(AwsError):
    """AWS refused the call for rate; retries were exhausted."""


class AccessDenied(AwsError):
    """The credentials are valid but not allowed to make the call."""


class Conflict(AwsError):
    """The resource is busy or already exists (ResourceInUse and friends)."""


class QuotaExceeded(AwsError):
    """An account-level service limit would be exceeded (ResourceLimitExceeded)."""


class ValidationFailed(AwsError):
    """AWS rejected the request's parameters."""


class Unavailable(AwsError):
    """AWS could not be reached or answered with a server error."""


THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
}
_ACCESS = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
}
_NOT_FOUND = {
    "ResourceNotFound",
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "NoSuchKey",
    "ObjectNotFoundException",
    "404",
}
_CONFLICT = {"ResourceInUse", "ResourceInUseException", "ConflictException"}
_QUOTA = {"ResourceLimitExceeded", "ServiceQuotaExceededException", "LimitExceededException"}


def from_client_error(exc: ClientError, *, operation: str = "") -> AwsError:
    """Map a ClientError to the portal's hierarchy by code, status and message."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or str(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    op = operation or getattr(exc, "operation_name", "")
    cls: type[AwsError]
    if code in THROTTLING_CODES:
        cls = Throttled
    elif code in _ACCESS:
        cls = AccessDenied
    elif code in _NOT_FOUND or (code == "ValidationException" and "Could not find" in message):
        cls = NotFound
    elif code in _CONFLICT:
        cls = Conflict
    elif code in _QUOTA:
        cls = QuotaExceeded
    elif code.startswith("Validation") or code.startswith("Invalid"):
        cls = ValidationFailed
    elif status >= 500 or code in {"InternalFailure", "ServiceUnavailable", "InternalError"}:
        cls = Unavailable
    else:
        cls = AwsError
    return cls(message, code=code, operation=op)


@contextmanager
def translated(operation: str = "") -> Iterator[None]:
    """Turn botocore exceptions raised inside the block into AwsError subclasses."""
    try:
        yield
    except ClientError as exc:
        raise from_client_error(exc, operation=operation) from exc
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
    ) as exc:
        raise Unavailable(str(exc), code=type(exc).__name__, operation=operation) from exc
    except NoCredentialsError as exc:
        raise AccessDenied(str(exc), code="NoCredentials", operation=operation) from exc
    except ParamValidationError as exc:
        # Refused by botocore before anything was sent: a certain "no", not an outage.
        raise ValidationFailed(str(exc), code="ParamValidation", operation=operation) from exc
    except BotoCoreError as exc:
        raise Unavailable(str(exc), code=type(exc).__name__, operation=operation) from exc
