"""Human-readable API docs rendered on the server from the OpenAPI document: no CDN, no script,
so they work offline and always match the spec."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

blueprint = Blueprint("api-docs", __name__, template_folder="templates")


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = current_app.extensions["factstore.api"].spec.to_dict()
    return spec


@blueprint.get("/v1/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(_spec())


@blueprint.get("/v1/docs")
def api_docs() -> ResponseReturnValue:
    spec = _spec()
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                tag = (operation.get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append((path, method, operation))
    return render_template("api_docs.html", spec=spec, groups=sorted(groups.items()))
