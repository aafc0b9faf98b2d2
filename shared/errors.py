"""One error shape for every API: {"error": {"code", "message", "fields"?}}; never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class NotFound(ApiError):
    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(404, "not_found", f"No {what} with id {identifier!r}.")


class Conflict(ApiError):
    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(409, code, message, details=details or None)


class InvalidInput(ApiError):
    """A field the schema accepts but a rule refuses (an ``opened_at`` in the future, a cursor
    this API never issued): the same 422 as a schema error, naming the field as it does
    (``opened_at`` in the body, ``query.cursor`` in the query string); a rule across several
    fields names them all."""

    def __init__(self, field: str | Sequence[str], message: str, *, location: str = "body") -> None:
        given = [field] if isinstance(field, str) else list(field)
        names = [f if location == "body" else f"{location}.{f}" for f in given]
        super().__init__(422, "invalid_request", f"Invalid input: {', '.join(names)}.")
        self.fields = [{"field": n, "location": location, "message": message} for n in names]


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key sent again with a different request: 409 in every service."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        )


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", ...}}`` (empty extras left out)."""
    return {"error": {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        fields = exc.fields if isinstance(exc, InvalidInput) else None
        return JSONResponse(
            error_body(exc.code, exc.message, details=exc.details, fields=fields),
            status_code=exc.status,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field_of(error) for error in exc.errors()]
        names = ", ".join(sorted({f["field"] for f in fields}))
        return JSONResponse(
            error_body("invalid_request", f"Invalid input: {names}.", fields=fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI's answer to a JSON body that is not UTF-8: the same 422 as other
            # bodies that are not JSON.
            field = {"field": "body", "location": "body", "message": "not valid JSON: not UTF-8"}
            return JSONResponse(
                error_body("invalid_request", "Invalid input: body.", fields=[field]),
                status_code=422,
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(OperationalError)
    async def _unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable", extra={"error": repr(exc)[:300]})
        return JSONResponse(
            error_body("unavailable", "The service's database is unavailable; retry shortly."),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side; it has been logged."),
            status_code=500,
        )


def _field_of(error: Any) -> dict[str, str]:
    """A validation error as the field it is about. A body that is not JSON at all is about
    the body (pydantic places that error at the character where decoding stopped)."""
    if error.get("type") == "json_invalid":
        return {"field": "body", "location": "body", "message": f"not valid JSON: {error['msg']}"}
    return {
        "field": ".".join(str(p) for p in error["loc"] if p != "body") or "body",
        "location": error["loc"][0] if error["loc"] else "body",
        "message": error["msg"],
    }
