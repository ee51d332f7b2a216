"""The sandbox's HTTP front: a WSGI middleware around moto, and a server to run it.

Every AWS call arrives here first. The middleware reads the service from the SigV4
credential scope and the operation from the request, answers the operations the sandbox owns
(where moto is not faithful to AWS), and passes the rest to moto unchanged. Whatever moto
cannot answer comes back as a proper AWS error in the caller's protocol instead of moto's
HTML 500, which botocore would retry before failing with a misleading message.

moto keeps its state in module-level backends, so two sandboxes in one process would share
moto's half of the world but not the sandbox's. One SandboxServer per process at a time is
therefore supported (a second ``start()`` raises); ``reset()`` clears both halves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from botocore.model import OperationNotFoundError
from moto.backends import list_of_moto_modules
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server, select_address_family

from sandbox import moto_bridge
from sandbox.aws_protocol import (
    AwsError,
    AwsRequest,
    StartResponse,
    WsgiApp,
    WsgiResponse,
    error_response,
    parse_request,
    unknown_operation,
)
from sandbox.endpoints import EndpointStore, Timings
from sandbox.model_data import ArtifactCache
from sandbox.sagemaker_api import Handler, SageMakerApi

logger = logging.getLogger(__name__)

SEEDS = ("demo", "none")
_ADMIN_PREFIX = "/_sandbox/"


class SandboxState:
    """What the sandbox itself remembers; moto remembers everything else."""

    def __init__(self, timings: Timings | None = None) -> None:
        self.endpoints = EndpointStore(timings)
        self.artifacts = ArtifactCache()

    def clear(self) -> None:
        self.endpoints.clear()
        self.artifacts.clear()


class SandboxApp:
    """The WSGI middleware: the sandbox's operations first, moto for everything else."""

    def __init__(self, state: SandboxState, moto_app: WsgiApp | None = None) -> None:
        self.state = state
        self.moto_app: WsgiApp = moto_app or DomainDispatcherApplication(create_backend_app)
        self.handlers: dict[tuple[str, str], Handler] = {}
        self._known_hosts: dict[str, bool] = {}
        self.register("sagemaker", SageMakerApi(state.endpoints, state.artifacts).operations())

    def register(self, service: str, operations: dict[str, Handler]) -> None:
        """Take over operations of a service (by SigV4 signing name) from moto."""
        for operation, handler in operations.items():
            self.handlers[(service, operation)] = handler

    def reset(self) -> None:
        """Forget everything: moto's backends and the sandbox's own state."""
        moto_bridge.reset_moto()
        self.state.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if path.startswith(_ADMIN_PREFIX):
            return self._admin(path, method).send(start_response)
        if path == "/moto-api/reset" and method == "POST":
            self.state.clear()
            return self.moto_app(environ, start_response)
        request = parse_request(environ)
        account = moto_bridge.account_for(
            request.access_key, request.headers.get("x-moto-account-id")
        )
        request = dataclasses.replace(request, account_id=account)
        handler = self.handlers.get((request.service or "", request.operation or ""))
        if handler is None:
            return self._pass_to_moto(request, environ, start_response)
        try:
            response = handler(request)
            if response is None:
                return self._pass_to_moto(request, environ, start_response)
        except AwsError as error:
            response = error_response(request, error)
        except Exception:
            logger.exception("Sandbox handler for %s failed", request.operation)
            response = error_response(
                request, AwsError("InternalFailure", "The sandbox failed internally.", 500)
            )
        return response.send(start_response)

    def _pass_to_moto(
        self, request: AwsRequest, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let moto answer, replacing its HTML error pages with AWS-shaped errors."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        if not self._moto_knows_service(environ):
            return error_response(request, unknown_operation(request)).send(start_response)
        try:
            body = self.moto_app(environ, capture)
        except (NotImplementedError, OperationNotFoundError):
            return error_response(request, unknown_operation(request)).send(start_response)
        except Exception as crash:
            logger.exception("moto failed on %s %s", request.service, request.operation)
            return error_response(request, _backend_failure(crash)).send(start_response)
        status = int(str(captured.get("status", "500")).split(" ", 1)[0])
        content_type = next(
            (v for k, v in captured.get("headers", []) if k.lower() == "content-type"), ""
        )
        if status >= 400 and content_type.startswith("text/html"):
            if hasattr(body, "close"):
                body.close()
            error = unknown_operation(request) if status in (404, 405, 501) else None
            error = error or _backend_failure(None)
            return error_response(request, error).send(start_response)
        start_response(captured["status"], captured["headers"])
        return body

    def _moto_knows_service(self, environ: dict[str, Any]) -> bool:
        """False for a signed request to a service moto has no backend for at all.

        moto would crash on such a request and answer 500, which botocore retries.
        """
        dispatcher = self.moto_app
        if not isinstance(dispatcher, DomainDispatcherApplication):
            return True
        if not environ.get("HTTP_AUTHORIZATION"):
            return True
        host = dispatcher.infer_service_region_host(environ, str(environ.get("PATH_INFO", "")))
        if host is None:
            return True
        known = self._known_hosts.get(host)
        if known is None:
            known = host in set(list_of_moto_modules()) or any(
                pattern.match(f"http://{host}") for _, pattern in dispatcher.backend_url_patterns
            )
            self._known_hosts[host] = known
        return known

    def _admin(self, path: str, method: str) -> WsgiResponse:
        """Sandbox-only controls, outside any AWS API: health and reset."""
        name = path[len(_ADMIN_PREFIX) :].strip("/")
        if name == "health" and method == "GET":
            return _plain_json(200, {"status": "ok"})
        if name == "reset" and method == "POST":
            self.reset()
            return _plain_json(200, {"status": "reset"})
        return _plain_json(404, {"message": f"No sandbox control at {method} {path}."})


def _backend_failure(crash: Exception | None) -> AwsError:
    """A 500 like AWS's InternalFailure, naming moto's exception so the cause is findable."""
    detail = f": moto raised {type(crash).__name__}: {crash}" if crash is not None else "."
    return AwsError("InternalFailure", f"The sandbox's AWS backend failed{detail}", 500)


def _plain_json(status: int, payload: dict[str, Any]) -> WsgiResponse:
    return WsgiResponse(
        status=status,
        headers=[("Content-Type", "application/json")],
        body=json.dumps(payload).encode(),
    )


class _QuietRequestHandler(MotoRequestHandler):
    """moto's handler (it keeps S3 metadata headers with underscores) without access logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port ourselves: werkzeug exits the whole process when a bind fails."""
    family = select_address_family(host, port)
    return socket.create_server((host, port), family=family, backlog=128)


_process_slot = threading.Lock()


class SandboxServer:
    """A threaded HTTP sandbox on a local port, for the CLI, tests and benchmarks.

    ``start()`` returns once the port is listening and the seed (if any) is in place; seeded
    endpoints are still ``Creating`` then and become InService after ``creating_seconds``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | None = None,
        creating_seconds: float = 5.0,
        updating_seconds: float | None = None,
        *,
        log_requests: bool = False,
    ) -> None:
        if seed is not None and seed not in SEEDS:
            raise ValueError(f"Unknown seed {seed!r}; expected one of {', '.join(SEEDS)}.")
        if creating_seconds < 0 or (updating_seconds is not None and updating_seconds < 0):
            raise ValueError("Lifecycle durations cannot be negative.")
        self.host = host
        self.port = port
        self.seed = None if seed == "none" else seed
        self.state = SandboxState(Timings(creating_seconds, updating_seconds))
        self.app = SandboxApp(self.state)
        self.log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def timings(self) -> Timings:
        """How long endpoints stay Creating and Updating on this server."""
        return self.state.endpoints.timings

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        """Listen, reset moto's process-wide state, then seed; raise if one already runs."""
        if not _process_slot.acquire(blocking=False):
            raise RuntimeError("Another SandboxServer is running in this process; stop it first.")
        try:
            handler = MotoRequestHandler if self.log_requests else _QuietRequestHandler
            listener = _listen(self.host, self.port)
            try:
                self._server = make_server(
                    self.host,
                    self.port,
                    self.app,
                    threaded=True,
                    request_handler=handler,
                    fd=listener.fileno(),
                )
            finally:
                listener.close()
            self.app.reset()
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="sandbox-http", daemon=True
            )
            self._thread.start()
            if self.seed == "demo":
                from sandbox.seed import seed_demo

                seed_demo(endpoint_url=self.url)
        except BaseException:
            self._shutdown()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and free the port; state stays until the next start() or reset()."""
        if self._server is not None:
            self._shutdown()

    def reset(self) -> None:
        """Clear all state (moto's and the sandbox's) without restarting or reseeding."""
        self.app.reset()

    def _shutdown(self) -> None:
        try:
            if self._server is not None:
                if self._thread is not None and self._thread.is_alive():
                    self._server.shutdown()
                    self._thread.join()
                self._server.server_close()
        finally:
            self._server = None
            self._thread = None
            _process_slot.release()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
