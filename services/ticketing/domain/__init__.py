"""Pure business rules of ticketing: values, SLA policy, prioritisation, breach and dispatch.

Nothing here does I/O or reads a clock; every moment is an argument. Import from
`services.ticketing.rules`, which gathers the public names.
"""
