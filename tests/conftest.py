"""Test tiers (STYLE.md rule 13): `slow` tests run as a bounded subset unless --slow=all."""

import re

SLOW_SUBSET = 3     # parametrized cases kept per slow test function by default


def pytest_addoption(parser):
    parser.addoption("--slow", choices=["subset", "all", "none"], default="subset",
                     help="slow tests: the first few cases of each (default), all, or none")


def pytest_collection_modifyitems(config, items):
    mode = config.getoption("--slow")
    if mode == "all":
        return
    kept, dropped, seen = [], [], {}
    for item in items:
        if item.get_closest_marker("slow") is None:
            kept.append(item)
            continue
        base = re.sub(r"\[.*\]$", "", item.nodeid)
        seen[base] = seen.get(base, 0) + 1
        (kept if mode == "subset" and seen[base] <= SLOW_SUBSET else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
