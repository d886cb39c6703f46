"""Schemathesis hooks for tests/e2e/test_http_server.py (SCHEMATHESIS_HOOKS names this module).

`min_position` and `Factstore-Min-Position` are taken out of the schema before testing: a
position the log has not reached is answered, by design, with a 503 after a bounded wait, and
Schemathesis counts every 5xx as a failure (and would wait on each). That contract is tested in
tests/integration/api/test_read_consistency.py and tests/integration/deploy/."""

from __future__ import annotations

from typing import Any

import schemathesis

FRESHNESS_PARAMETERS = {("query", "min_position"), ("header", "Factstore-Min-Position")}


@schemathesis.hook
def before_load_schema(ctx: Any, raw_schema: dict[str, Any]) -> None:
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if (p.get("in"), p.get("name")) not in FRESHNESS_PARAMETERS
                ]
