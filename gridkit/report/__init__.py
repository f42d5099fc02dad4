"""One self-contained HTML report of a gridkit GeoPackage: map, figures and QA, offline.

``build_report(gpkg, html, lang="zh", png_dir=None)`` is the library entry point; the
``gridkit report`` command (:mod:`gridkit.report.cli`) only calls it. See README.md here.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridkit.report.build import build_report, compute_figures

__all__ = ["build_report", "compute_figures"]


def __getattr__(name: str):
    # Lazy: the report's matplotlib and jinja2 would otherwise load with every gridkit
    # command, since the CLI imports gridkit.report.cli to list the report command.
    if name in __all__:
        from gridkit.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
