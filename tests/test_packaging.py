"""The one-step install: constraints.txt pins every requirement of pyproject.toml, inside the range it asks for."""

import re

import tomllib
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.split(r"==", line.strip(), maxsplit=1)
            found[canonicalize_name(name)] = version
    return found


def test_every_requirement_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    requirements += [Requirement(text) for extra in project["optional-dependencies"].values() for text in extra]
    pinned = pins()
    missing = [str(r) for r in requirements if canonicalize_name(r.name) not in pinned]
    outside = [
        f"{r} (pinned {pinned[canonicalize_name(r.name)]})"
        for r in requirements
        if canonicalize_name(r.name) in pinned
        and not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)
    ]
    assert missing == [] and outside == []
