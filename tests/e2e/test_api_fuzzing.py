"""Every operation of the five services, fuzzed from its own OpenAPI document with schemathesis
(fixed seed, bounded examples): no request gets a 5xx, every status answered is declared, and
every response matches its declared schema. The services run as processes on a real broker and
database (PostgreSQL when ``LOOPCRM_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from shared.migrations import upgrade_async
from tests.support.databases import fresh_database
from tests.support.processes import ServiceProcess
from tests.support.services import DEV_KEY, service_parts

AUTHORIZED = {"Authorization": f"Bearer {DEV_KEY}"}
SERVICES = ("profile", "segmentation", "engagement", "ticketing", "loyalty")
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
FUZZ = settings(
    max_examples=50,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """The five services on one broker, each on a fresh database, stopped at the end."""
    directory = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    with ExitStack() as stack:
        stack.callback(loop.close)
        broker = stack.enter_context(EmbeddedBroker(log_path=directory / "broker.log"))
        loop.run_until_complete(ensure_topics(broker.bootstrap))
        running: dict[str, ServiceProcess] = {}
        for name in SERVICES:
            databases = fresh_database(directory, name)
            url = loop.run_until_complete(databases.__aenter__())
            stack.callback(
                lambda d=databases: loop.run_until_complete(d.__aexit__(None, None, None))
            )
            loop.run_until_complete(upgrade_async(service_parts(name)[2], url))
            process = ServiceProcess(
                name, bootstrap=broker.bootstrap, database_url=url, log_dir=directory
            )
            stack.callback(process.stop)
            running[name] = process.start()
        yield running


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> int:
    """Run the operation's cases in ``mode``; how many ran (raises on the first failure)."""
    ran = 0

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal ran
        ran += 1
        case.call_and_validate(checks=CHECKS, headers=AUTHORIZED)

    run()
    return ran


@pytest.mark.parametrize("name", SERVICES)
def test_no_request_gets_an_undeclared_answer(
    stack: dict[str, ServiceProcess], name: str, request: pytest.FixtureRequest
) -> None:
    schema = schemathesis.openapi.from_url(f"{stack[name].url}/openapi.json")
    failures: list[str] = []
    cases = operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                cases += _fuzz(operation, mode)
            except Unsatisfiable:
                pass  # nothing to get wrong: an operation without parameters or body
            except Exception as failure:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {failure}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"{name}: {cases} cases over {operations} operations")
    assert operations > 0
    assert failures == [], "\n\n".join(failures)
