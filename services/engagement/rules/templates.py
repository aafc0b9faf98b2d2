"""Message texts by template name. Unknown templates still render: their name and params."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

_TEXTS: dict[str, tuple[str, str]] = {
    "complaint_follow_up": (
        "We will call you about your complaint",
        "We are sorry about your experience. A senior service agent will call you shortly "
        "about ticket $ticket_id.",
    ),
    "new_product_trial": (
        "Try our new products first",
        "As one of our most loyal customers you are invited to try new products, with an "
        "exclusive discount.",
    ),
    "similar_to_viewed": (
        "Picked for you",
        "Products similar to what you viewed recently.",
    ),
    "restock_coupon": (
        "Back in stock, with a coupon for you",
        "Items you liked are back in stock. Here is an exclusive coupon.",
    ),
    "csat_coupon": (
        "Thank you for your feedback",
        "Thank you for rating our service. Here is a coupon for $category products.",
    ),
}


def render(template: str, params: Mapping[str, Any] | None) -> tuple[str, str]:
    """(subject, text) of a message."""
    values = {key: str(value) for key, value in (params or {}).items()}
    if template in _TEXTS:
        subject, text = _TEXTS[template]
        return Template(subject).safe_substitute(values), Template(text).safe_substitute(values)
    subject = template.replace("_", " ").capitalize()
    lines = [subject, *(f"{key}: {value}" for key, value in sorted(values.items()))]
    return subject, "\n".join(lines)
