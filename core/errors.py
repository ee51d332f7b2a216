"""The one family of errors services raise when they will not do what was asked.

Views never decide these rules; they turn the exception into a response, with one
status per kind (403, 409, 400), through `core.views.error_response` or, for any view
that does not catch it, `core.middleware.PortalErrorMiddleware`. Nothing has changed when
one of these is raised: services raise after their transaction has rolled back, or after
committing only the audit entry of a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NON_FIELD = ""


class PortalError(Exception):
    """A request the portal will not carry out; `errors` maps form fields to messages
    ("" for the request as a whole), so a form can show each where it belongs."""

    status = 400

    def __init__(
        self,
        message: str | Iterable[str] = "",
        *,
        errors: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        collected: dict[str, list[str]] = {
            field: [str(m) for m in messages] for field, messages in (errors or {}).items()
        }
        if isinstance(message, str):
            if message:
                collected.setdefault(NON_FIELD, []).insert(0, message)
        else:
            collected.setdefault(NON_FIELD, [])[:0] = [str(m) for m in message]
        self.errors = {field: messages for field, messages in collected.items() if messages}
        super().__init__(self.message)

    @property
    def messages(self) -> list[str]:
        """Every message, the request's own first."""
        own = self.errors.get(NON_FIELD, [])
        return own + [m for field, ms in self.errors.items() if field != NON_FIELD for m in ms]

    @property
    def message(self) -> str:
        return " ".join(self.messages)


class Refused(PortalError):
    """The actor may not do this (role, or relation to the object: no self-approval).
    The service has already written the refusal to the audit log."""

    status = 403


class Conflict(PortalError):
    """The object's state does not allow this now (approving an applied shift, stopping a
    finished job); reloading the page shows why."""

    status = 409


class Invalid(PortalError):
    """The input cannot be used as given; the messages say what to change."""

    status = 400
