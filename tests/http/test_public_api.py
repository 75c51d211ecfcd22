"""The names nango_scripts.http exports are exactly the documented ones."""

from __future__ import annotations

import nango_scripts.http as http


def test_exported_names() -> None:
    assert sorted(http.__all__) == [
        "ApiClient",
        "Cursor",
        "Link",
        "MASK",
        "Offset",
        "PageOptions",
        "PaginationConfig",
        "READ_AHEAD",
        "RequestOptions",
        "RetryPolicy",
        "is_secret_name",
        "pagination_from_dict",
        "scrub_url",
    ]
    assert all(hasattr(http, name) for name in http.__all__)
