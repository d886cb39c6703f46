"""GET /v1/health: is the database reachable, and how far is the log."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> ResponseReturnValue:
    store = current_app.extensions["factstore"]
    return jsonify(
        {"status": "ok", "database": "reachable", "head_position": store.head_position()}
    )
