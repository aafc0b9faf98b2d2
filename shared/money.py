"""Money: ``Decimal`` yuan at the edges, integer fen (1/100 yuan) in storage and in sums."""

from __future__ import annotations

from decimal import Decimal

_FEN_PER_YUAN = Decimal(100)


def to_fen(amount: Decimal) -> int:
    """Yuan to fen, exactly: contracts carry at most two decimals, so a fraction of a fen
    is a bug upstream, never something to round away."""
    fen = amount * _FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} yuan is not a whole number of fen")
    return int(fen)


def to_yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)
