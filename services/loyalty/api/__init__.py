"""Loyalty routes: parse, call a handler, shape the response — nothing else."""

from fastapi import APIRouter

from services.loyalty.api import customers, holds, rules

routers: list[APIRouter] = [customers.router, holds.router, rules.router]
