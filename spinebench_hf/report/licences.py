"""Which images may leave the machine: a case's image is published only where its source allows redistribution
(docs/sources.md §5). BUU-LSPINE, RSNA 2024 and VinDr-SpineXR do not; an imported release's images come from them
(its rows' source is `unknown`), so they do not either."""

from __future__ import annotations

import pandas as pd

from ..schema import UNKNOWN
from ..source_catalog import CATALOG

RELEASE_IMAGES = "the authors' release (its images come from BUU-LSPINE, RSNA 2024 and VinDr-SpineXR)"


def restricted_title(source: str) -> str | None:
    """The title of a source whose images may not be redistributed; None for one that allows it."""
    info = CATALOG.get(source)
    if info is None or source == UNKNOWN:
        return RELEASE_IMAGES
    return None if info.redistributable else info.title


def withheld_images(scored: pd.DataFrame, allow_restricted_sources: bool = False) -> dict[str, str]:
    """Why each question's image may not be published, by question id; {} with `allow_restricted_sources`.

    Args:
        scored: scored questions (`details.scored_questions`), with their `id` and `source`.
        allow_restricted_sources: the user holds the right to publish every image.

    Returns:
        For every question whose source forbids redistribution, the sentence a page shows in place of its image.
    """
    if allow_restricted_sources or scored.empty:
        return {}
    withheld = {}
    for question, source in scored[["id", "source"]].drop_duplicates("id").itertuples(index=False):
        title = restricted_title(str(source))
        if title:
            withheld[question] = (
                f"image withheld: {title} does not allow its images to be redistributed "
                "(--allow-restricted-sources publishes them if you hold that right)"
            )
    return withheld
