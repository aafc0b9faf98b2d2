import json
import logging

from shared.logging import JsonFormatter, redact


def test_personal_fields_are_redacted_at_any_depth():
    cleaned = redact({"customer": {"name": "Li Wei", "email": "li@example.com"}, "tier": "gold"})
    assert cleaned == {"customer": {"name": "[redacted]", "email": "[redacted]"}, "tier": "gold"}


def test_emails_and_phone_numbers_in_free_text_are_masked():
    text = redact("mail li.wei@example.com or call +86 138 0013 8000 about order o-17")
    assert "example.com" not in text and "138" not in text
    assert "order o-17" in text


def test_json_log_lines_carry_extra_fields_without_personal_data():
    record = logging.makeLogRecord(
        {"msg": "registered %s", "args": ("li@example.com",), "levelname": "INFO"}
    )
    record.phone = "13800138000"
    record.topic = "customer.registered"
    line = json.loads(JsonFormatter("profile").format(record))
    assert line["service"] == "profile"
    assert line["topic"] == "customer.registered"
    assert line["phone"] == "[redacted]"
    assert "example.com" not in line["msg"]


def test_dates_times_and_ids_are_not_mistaken_for_phone_numbers():
    text = "due 2026-11-23T00:05:59+00:00, order 20261123, ticket t-12345678"
    assert redact(text) == text
    assert redact("call 010-8888-6666 now") == "call [redacted] now"
