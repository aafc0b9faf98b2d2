"""Profile routes: parse, call a handler, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.profile import handlers
from services.profile.models import Customer
from services.profile.schemas import CustomerPublic
from shared.app import ServiceRuntime
from shared.auth import require

router = APIRouter(prefix="/v1", tags=["customers"])


def _public(customer: Customer) -> CustomerPublic:
    return CustomerPublic(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        birthday=customer.birthday,
        referrer_id=customer.referrer_id,
        consents=customer.consents,
        registered_at=customer.registered_at,
        updated_at=customer.updated_at,
        open_tickets=customer.open_tickets,
        erased=customer.erased_at is not None,
    )


@router.get(
    "/customers/{customer_id}",
    dependencies=[Depends(require("profile:read"))],
)
async def get_customer(customer_id: str, request: Request) -> CustomerPublic:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.transaction() as session:
        return _public(await handlers.get_customer(session, customer_id))


@router.delete(
    "/customers/{customer_id}",
    dependencies=[Depends(require("profile:write"))],
)
async def erase_customer(customer_id: str, request: Request) -> CustomerPublic:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.transaction() as session:
        customer = await handlers.erase_customer(
            session, customer_id, now=runtime.clock.now(), source=runtime.settings.event_source
        )
        return _public(customer)
