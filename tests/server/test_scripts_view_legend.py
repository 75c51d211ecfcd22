"""The Scripts view's record counts (``Item: +5 ~0`` and a minus sign) say what their
signs mean: a legend in the column's heading, and words for screen readers."""

from __future__ import annotations

import re

import pytest
from support.server_harness import SECRET, Harness, anonymous

pytestmark = pytest.mark.anyio

MINUS = "\N{MINUS SIGN}"
"""The page's sign for deleted records (as typeset, not a hyphen)."""


async def test_the_counts_have_a_legend_and_words_for_screen_readers(harness: Harness) -> None:
    await harness.run_items("c1")  # the fake API answers five items

    async with anonymous(harness) as browser:
        login = await browser.post("/login", data={"key": SECRET, "next": "/scripts-view"})
        assert login.status_code == 303
        view = await browser.get("/scripts-view")
    assert view.status_code == 200

    [heading] = re.findall(r"<th>Latest result(.*?)</th>", view.text, re.S)
    assert f"+ added, ~ updated, {MINUS} deleted" in heading
    [counts] = re.findall(r'<span class="counts">(.*?)</span></span>', view.text, re.S)
    assert f'<span aria-hidden="true">Item: +5 ~0 {MINUS}0</span>' in counts
    assert '<span class="sr-only">Item: 5 added, 0 updated, 0 deleted' in counts
