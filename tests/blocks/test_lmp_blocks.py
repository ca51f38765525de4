from __future__ import annotations

from blocks.lmp import missing_notice


def test_missing_notice_lists_twenty_and_counts_the_rest() -> None:
    names = [f"Company <{i}>" for i in range(45)]
    payload = missing_notice(names).payload()  # validated by slack_sdk's models
    text = payload["blocks"][0]["text"]["text"]
    assert text.startswith("⚠️ LMP no longer lists 45 customers: *Company &lt;0&gt;*")
    assert "*Company &lt;19&gt;* and 25 more. They were kept and marked" in text
    assert "Company &lt;20&gt;" not in text
    assert payload["text"] == "LMP no longer lists 45 customers; they were kept."
