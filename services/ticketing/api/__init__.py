"""Ticketing routes: parse, call a handler, shape the response — nothing else."""

from fastapi import APIRouter

from services.ticketing.api import agents, policy, tickets

routers: list[APIRouter] = [tickets.router, agents.router, policy.router]
