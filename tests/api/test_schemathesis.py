"""Property-based run over the OpenAPI document: no input makes the API answer 5xx, and
every answer matches its documented schema. Bounded, so it fits in `make test`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from quantdesk.config import Env
from tests.api.conftest import Api

API = Api(Path(tempfile.mkdtemp(prefix="qd-schemathesis-")), Env.DEV)
schema = schemathesis.openapi.from_asgi("/openapi.json", API.app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_5xx_and_answers_match_the_schema(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
