"""Ticketing's handlers, one function per command and per event: load, apply the rules, save,
add outbox events. Modules: `tickets`, `agents`, `policy`, `reports` (commands and queries),
`events` (the consumer's handlers)."""
