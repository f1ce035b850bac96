"""SpineBench-Sub: a deterministic, label-balanced subset (paper: 1,758 diagnosis + 1,000 localization questions).

Quotas are water-filled: every group gets an equal share, and a group with fewer items gives its unused share to
the others. Within a group, items are taken in the order of a hash of (seed, item id), so an item's chance does not
depend on which other sources were built.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping

from .questions import Item


def balanced_quotas(available: Mapping[Hashable, int], target: int) -> dict[Hashable, int]:
    """As equal as the groups' sizes allow, summing to min(target, total). Groups are served smallest first, each
    taking its fair share of what is left; the largest group takes the rounding remainder."""
    quotas = {group: 0 for group in available}
    remaining = min(target, sum(available.values()))
    groups = sorted(available, key=lambda g: (available[g], str(g)))
    for position, group in enumerate(groups):
        fair = remaining // (len(groups) - position)
        quotas[group] = min(available[group], fair)
        remaining -= quotas[group]
    return quotas


def draw_order(seed: int, item_id: str) -> str:
    """The sort key that orders a group's items: a hash of (seed, item id)."""
    return hashlib.sha256(f"{seed}|sub|{item_id}".encode()).hexdigest()


def select_sub(items: Iterable[Item], target: int, group_of: Callable[[Item], Hashable], seed: int) -> set[str]:
    """Ids of the balanced subset of `items` (at most `target`)."""
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for item in items:
        groups[group_of(item)].append(item.id)
    quotas = balanced_quotas({g: len(ids) for g, ids in groups.items()}, target)
    chosen = set()
    for group, ids in groups.items():
        chosen.update(sorted(ids, key=lambda item_id: draw_order(seed, item_id))[: quotas[group]])
    return chosen


def sub_group(item: Item) -> Hashable:
    """Diagnosis balances the answer disease; localization balances (source, condition)."""
    return item.disease if item.task == "diagnosis" else (item.source, item.disease)
