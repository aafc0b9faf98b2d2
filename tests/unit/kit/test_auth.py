from shared.auth import KeyRing, digest
from shared.settings import ApiKeyConfig


def test_keys_are_matched_by_digest_and_carry_their_scopes():
    ring = KeyRing(
        [
            ApiKeyConfig(name="cs", key="cs-key", scopes=["ticketing:read"]),
            ApiKeyConfig(name="ops", key_sha256=digest("ops-key"), scopes=["admin"]),
        ]
    )
    cs = ring.authenticate("cs-key")
    assert cs is not None and cs.allows("ticketing:read") and not cs.allows("ticketing:write")
    ops = ring.authenticate("ops-key")
    assert ops is not None and ops.allows("loyalty:write")
    assert ring.authenticate("guess") is None


def test_the_dev_key_has_every_scope():
    ring = KeyRing([], dev_key="dev-key-123456")
    principal = ring.authenticate("dev-key-123456")
    assert principal is not None and principal.allows("anything:write")
