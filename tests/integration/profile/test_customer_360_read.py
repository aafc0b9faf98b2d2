"""The customer 360 as the API reads it on the service's real database: on PostgreSQL through
the driver's own pool (``shared/keyed_reads.py``), on SQLite through SQLAlchemy; a customer
heard of is their document, one never heard of is 404 (not None turned into a 500)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from tests.support import builders
from tests.support.builders import new_id
from tests.support.events import publish
from tests.support.polling import eventually


async def test_the_360_of_a_customer_heard_of_and_of_one_never_heard_of(broker, service):
    customer_id = new_id("c")
    async with service("profile") as profile:
        runtime = profile.runtime
        on_postgresql = make_url(str(runtime.engine.url)).get_backend_name() == "postgresql"
        assert (runtime.keyed_reads._pool is not None) == on_postgresql

        await publish(broker.bootstrap, builders.customer_registered(customer_id, name="Li Wei"))

        async def the_360():
            return await profile.client.get(f"/v1/customers/{customer_id}")

        found = await eventually(the_360, lambda r: r.status_code == 200, timeout=60)
        assert found.json()["customer_id"] == customer_id
        assert found.json()["name"] == "Li Wei"

        unknown = await profile.client.get(f"/v1/customers/{new_id('nobody')}")
        assert unknown.status_code == 404
