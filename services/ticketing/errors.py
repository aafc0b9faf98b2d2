"""Input the schemas accept but the rules refuse, reported like any other 422."""

from __future__ import annotations

from inspect import isawaitable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response


class InvalidInput(Exception):
    """A request field that fails a business check, e.g. an `opened_at` in the future."""

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.location = location


def install_invalid_input_handler(app: FastAPI) -> None:
    """Answer `InvalidInput` through the app's own validation handler: one 422 shape."""

    async def _invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InvalidInput)
        error = {
            "loc": (exc.location, *exc.field.split(".")),
            "msg": exc.message,
            "type": "value_error",
        }
        validation_handler = app.exception_handlers[RequestValidationError]
        response = validation_handler(request, RequestValidationError([error]))
        return await response if isawaitable(response) else response

    app.add_exception_handler(InvalidInput, _invalid)
