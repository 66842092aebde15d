"""`datastores.__all__` lists exactly the public names the package defines."""

from __future__ import annotations

import importlib

import datastores


def test_all_matches_public_names() -> None:
    public = {n for n in vars(datastores) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(datastores, n)).__name__ == "module"}
    assert set(datastores.__all__) - {"__version__"} == public - modules - {"annotations"}
    assert len(datastores.__all__) == len(set(datastores.__all__))


def test_every_exported_name_resolves() -> None:
    for name in datastores.__all__:
        assert getattr(datastores, name) is not None


def test_testing_kit_exports() -> None:
    testing = importlib.import_module("datastores.testing")
    for name in testing.__all__:
        assert hasattr(testing, name), name
