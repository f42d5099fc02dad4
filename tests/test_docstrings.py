"""Every function and class a gridkit package exports carries a numpydoc docstring.

"Exported" is a package's ``__all__``. A function documents each of its parameters under
Parameters, what it returns under Returns (unless it returns None), and has an Examples section
with at least one doctest (run by ``--doctest-modules``, see pyproject.toml); a class has an
Examples section and documents its fields under Parameters or Attributes.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest

import gridkit


def _exported() -> list[tuple[str, object]]:
    names = ["gridkit"] + [m.name for m in pkgutil.walk_packages(gridkit.__path__, "gridkit.")
                           if m.ispkg]
    found = []
    for package in names:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            # functools wrappers (lru_cache) keep the function's docstring and signature
            if inspect.isfunction(inspect.unwrap(obj)) or inspect.isclass(obj):
                found.append((f"{package}.{name}", obj))
    return found


EXPORTED = _exported()


def _section(doc: str, title: str) -> str | None:
    """The text of numpydoc section ``title`` (up to the next section), or None."""
    match = re.search(rf"^{title}\n-{{{len(title)}}}\n(.*?)(?=^\w[\w ]*\n-{{3,}}\n|\Z)", doc,
                      re.M | re.S)
    return match.group(1) if match else None


def _documented(section: str | None) -> set[str]:
    """Names a Parameters/Attributes section describes (``name : type`` or ``a, b : type``)."""
    names: set[str] = set()
    for line in (section or "").splitlines():
        if line and not line[0].isspace():
            head = line.split(" : ")[0]
            names.update(part.strip().lstrip("*") for part in head.split(","))
    return names


def test_packages_export_names():
    # the check below is vacuous if the walk finds nothing
    assert len(EXPORTED) > 50
    assert {"gridkit.partition.partition", "gridkit.responsibility.group"} <= {
        name for name, _ in EXPORTED}


@pytest.mark.parametrize(("name", "obj"), EXPORTED, ids=[name for name, _ in EXPORTED])
def test_numpydoc(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    examples = _section(doc, "Examples")
    runs = [line for line in (examples or "").splitlines()
            if line.lstrip().startswith(">>>") and "+SKIP" not in line]
    assert runs, f"{name}: no Examples section with a doctest that runs (not all +SKIP)"
    if inspect.isclass(obj):
        fields = ([f.name for f in dataclasses.fields(obj) if f.init]
                  if dataclasses.is_dataclass(obj) else [])
        missing = set(fields) - _documented(_section(doc, "Parameters")) - _documented(
            _section(doc, "Attributes"))
        assert not missing, f"{name}: fields not under Parameters/Attributes: {sorted(missing)}"
        return
    signature = inspect.signature(obj)
    params = [p for p in signature.parameters.values()]
    missing = {p.name for p in params} - _documented(_section(doc, "Parameters"))
    assert not missing, f"{name}: parameters not under Parameters: {sorted(missing)}"
    if signature.return_annotation not in (None, "None", inspect.Signature.empty):
        assert _section(doc, "Returns") or _section(doc, "Yields"), f"{name}: no Returns"


def test_mypy_checks_every_module_behind_the_public_api():
    # `mypy` (run by .ci/run) checks the files pyproject.toml lists; a module that starts to
    # define an exported name must be added there, or its types go unchecked.
    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    listed = {Path(p).with_suffix("").as_posix().replace("/__init__", "").replace("/", ".")
              for p in config["tool"]["mypy"]["files"]}
    defining = {inspect.unwrap(obj).__module__ for _, obj in EXPORTED}
    packages = {name.rsplit(".", 1)[0] for name, _ in EXPORTED}
    missing = sorted((defining | packages) - listed)
    assert not missing, f"add to [tool.mypy] files in pyproject.toml: {missing}"
    for path in config["tool"]["mypy"]["files"]:
        assert (root / path).is_file(), f"[tool.mypy] files lists {path}, which does not exist"
