"""The OpenAPI document says what the API really answers: every /v1 operation needs an API key
(bearer), can answer 401 and 403, 422 with the service's own error body (not FastAPI's
``{detail: [...]}``), 404 when it names a resource in its path, and 503 when its database
is away."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_request"]},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "description": "each input that is not valid (422)",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "location": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
                "details": {"type": "object"},
            },
        }
    },
}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_ANSWERS = {
    "401": "No API key, or one that is not known.",
    "403": "The key lacks the scope this operation needs.",
    "422": "Input that is not valid: every offending field is named.",
    "503": "The service's database is unavailable; retry shortly.",
}
_NOT_FOUND = "No such resource (the id in the path is unknown)."


def conflicts(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers 409: what the conflicts are (the body is the
    ``ErrorBody`` every error has)."""
    return {409: {"description": description}}


def install_api_document(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and /openapi.json, /docs) build the corrected document once."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            built = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = corrected(built)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorBody"] = ERROR_BODY
    components["securitySchemes"] = {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`.",
        }
    }
    # Relative: the document is served by the service it describes, wherever that listens.
    document.setdefault("servers", [{"url": "/", "description": "this service"}])
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = []  # the probes are open, on purpose
            continue
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]
            responses = operation.setdefault("responses", {})
            for status, description in _ANSWERS.items():
                responses[status] = {"description": description, "content": _ERROR}
            if "{" in path:
                responses["404"] = {"description": _NOT_FOUND, "content": _ERROR}
            for status, answer in responses.items():
                if status.startswith("4"):  # a route's own 409s, declared by description
                    answer.setdefault("content", _ERROR)
    # FastAPI's validation error bodies, never what the API answers, once nothing names them.
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document
