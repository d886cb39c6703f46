"""flask-smorest's Api, with errors documented as they are served: application/problem+json."""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

from flask_smorest import Api, Blueprint

from api.schemas import ProblemSchema

PROBLEM_JSON = "application/problem+json"


class FactstoreApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["content"] = {PROBLEM_JSON: {"schema": ProblemSchema}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {"description": "An error", "content": {PROBLEM_JSON: {"schema": ProblemSchema}}},
            lazy=True,
        )


def errors(blp: Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document these error statuses on an operation (bodies: problem+json)."""

    def decorate(function: Any) -> Any:
        for code in codes:
            function = blp.alt_response(code, response=http.HTTPStatus(code).name)(function)
        return function

    return decorate
