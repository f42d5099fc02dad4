"""``gridkit grids check`` and ``gridkit grids adopt`` as a library.

In memory, :func:`~gridkit.grids.check_grids` (the grids read, an
:class:`~gridkit.grids.Audit` with ``.qa`` and ``.figures`` out); from files,
:func:`check_grids_file` with :class:`GridsCheckOptions` and :func:`adopt_geopackage` with
:class:`GridsAdoptOptions`, what the commands run.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gridkit.errors import InputError
from gridkit.grids.adopt import (
    GridInputs,
    adopt_to_geopackage,
    check_grids,
    read_inputs,
    unit_grid_frame,
)
from gridkit.grids.audit import Audit
from gridkit.grids.repair import REPAIR_AREA
from gridkit.options import PATH, crs_field, layer_field, option, record
from gridkit.result import StepResult

__all__ = ["GridsAdoptOptions", "GridsCheckOptions", "adopt_geopackage", "check_grids_file"]


@dataclass(frozen=True)
class GridInputOptions:
    """The inputs ``grids check`` and ``grids adopt`` share (see their options classes)."""

    grids: Path = option(dataclasses.MISSING, flag="GRIDS", argument=True, type=PATH,
                         record=False)
    layer: str | None = option(None, help="Layer of GRIDS, when the file has several.")
    code_field: str | None = option(
        None, help="Field of the 15-digit grid codes (default: BGID, 网格编码, 单元网格编码, "
                   "DYWGBM, WGBM, ...).")
    communities: Path | None = option(
        None, type=PATH, record=False,
        help="Community polygons (12-digit CODE): check each grid's prefix and that it lies "
             "in one community; gaps are measured against them.")
    communities_layer: str | None = layer_field("--communities")
    target_area: float = option(10_000, type=float, show_default=True,
                                help="The city's unit grid area, m² (slivers, size band).")
    crs: str | None = crs_field("CRS of inputs that have none, e.g. EPSG:4549.")

    def read(self, area: Path | None = None) -> GridInputs:
        """The grids (and communities, a managed ``area``) read and in one working CRS.

        Parameters
        ----------
        area : pathlib.Path, optional
            Managed area polygons: keep only the grids inside.

        Returns
        -------
        GridInputs
            For :func:`~gridkit.grids.check_grids` and the adoption.

        Raises
        ------
        GridkitError
            Unreadable files, no code field, bad community codes.
        """
        return read_inputs(self.grids, layer=self.layer, code_field=self.code_field,
                           communities=self.communities,
                           communities_layer=self.communities_layer, area=area, crs=self.crs)


@dataclass(frozen=True)
class GridsCheckOptions(GridInputOptions):
    """Options of ``gridkit grids check``.

    Parameters
    ----------
    grids : pathlib.Path
        The city's unit grid layer: Shapefile (GBK or UTF-8 DBF), GeoPackage, GeoJSON, ...
        The ``GRIDS`` argument.
    layer : str, optional
        Layer of ``grids``. ``--layer``.
    code_field : str, optional
        Field of the 15-digit grid codes (default: found by name). ``--code-field``.
    communities : pathlib.Path, optional
        Community polygons (12-digit CODE). ``--communities``.
    communities_layer : str, optional
        Its layer. ``--communities-layer``.
    target_area : float
        The city's unit grid area, m². ``--target-area``.
    crs : str, optional
        CRS of inputs that have none, e.g. ``EPSG:4549``. ``--crs``.
    output : pathlib.Path, optional
        Write the HTML report (with its QA section) to this file. ``-o``.

    Examples
    --------
    >>> GridsCheckOptions(Path("grids.shp"), target_area=8000).target_area
    8000
    """

    output: Path | None = option(None, flag=("-o", "--output"), type=PATH, toml=False,
                                 help="Write the HTML report (with its QA section) to this "
                                      "file.")


@dataclass(frozen=True)
class GridsAdoptOptions(GridInputOptions):
    """Options of ``gridkit grids adopt`` (and of the ``[grids]`` section of ``gridkit run``).

    Parameters
    ----------
    grids, layer, code_field, communities, communities_layer, target_area, crs
        As :class:`GridsCheckOptions`.
    repair : bool
        Fix what is safe: invalid rings, gaps and overlaps up to ``repair_area``, slivers
        (merged into a neighbour, code retired); each repair reported. ``--repair``.
    repair_area : float
        Largest gap or overlap ``repair`` resolves, m² (> 0). ``--repair-area``.
    recode : bool
        Give every grid a new code in gridkit's order (old one in SRCCODE). ``--recode``.
    area : pathlib.Path, optional
        Managed area polygons: adopt only the grids inside it. ``--area``.

    Examples
    --------
    >>> GridsAdoptOptions(Path("grids.shp"), repair=True).repair_area
    100.0
    """

    repair: bool = option(
        False, is_flag=True,
        help="Fix what is safe: invalid rings, gaps and overlaps up to --repair-area, slivers "
             "(merged into a neighbour, code retired); each repair reported.")
    repair_area: float = option(REPAIR_AREA, type=float, show_default=True,
                                help="Largest gap or overlap --repair resolves, m².")
    recode: bool = option(
        False, is_flag=True,
        help="Give every grid a new code in gridkit's order (old one in SRCCODE).")
    area: Path | None = option(None, type=PATH, record=False,
                               help="Managed area polygons: adopt only the grids inside it.")


def check_grids_file(options: GridsCheckOptions) -> tuple[StepResult, Audit]:
    """Audit a city's unit grid layer against GB/T 30428.1 (and write its report if asked).

    Codes, communities, gaps, overlaps, slivers, size band, multi-part and invalid geometry,
    serial gaps. Nothing is written but the optional HTML report.

    Parameters
    ----------
    options : GridsCheckOptions
        The grid layer, the communities, the target area, the report file.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit grids check --json`` prints (unit_grids, communities,
        code_field, by_rule, errors, warnings, report); ``qa``: the audit's issues.
    Audit
        The audit itself (grids with CODE, FID, VALID, HOLDER; the issues).

    Raises
    ------
    GridkitError
        Unreadable files, no code field, bad community codes.

    Examples
    --------
    >>> result, audit = check_grids_file(GridsCheckOptions(Path("city_grids.shp")))
    ... # doctest: +SKIP
    >>> result["errors"] == audit.errors  # doctest: +SKIP
    True
    """
    inputs = options.read()
    audit = check_grids(inputs, target_area=options.target_area)
    figures = dict(audit.figures)
    if options.output is not None:
        figures["report"] = _report(audit, inputs, options.output)
    return StepResult(figures, audit.qa), audit


def _report(audit: Audit, inputs: GridInputs, output: Path) -> str:
    """The report page of the audit, drawn by ``gridkit report``.

    Grids, communities and the QA layer go into a scratch GeoPackage.
    """
    from gridkit.grids.adopt import _community_layer
    from gridkit.io import write_geopackage
    from gridkit.report import ReportOptions, report_geopackage

    frame = audit.grids[audit.grids["VALID"]]
    codes = [c if c else f"#{f}" for c, f in zip(frame["CODE"], frame["FID"], strict=True)]
    layer = unit_grid_frame(codes, frame.geometry.to_numpy(), frame.crs)
    with tempfile.TemporaryDirectory(prefix="gridkit-audit-") as folder:
        scratch = Path(folder) / "audit.gpkg"
        valid = layer[layer["COMMUNITY"].str.fullmatch(r"\d{12}")]
        write_geopackage(scratch, {
            "community": _community_layer(valid, inputs.communities, 10_000),
            "unit_grid": layer,
            "qa_issue": audit.qa.assign(COMMAND="grids check"),
        })
        return report_geopackage(scratch, ReportOptions(output=output))["output"]


def adopt_geopackage(gpkg: str | Path, options: GridsAdoptOptions) -> StepResult:
    """Audit, repair if asked, and write a city's unit grids to ``gpkg`` as ``unit_grid``.

    Their codes are kept (or, with ``recode``, replaced and kept in SRCCODE); ``community``,
    ``qa_issue``, ``bgid_registry`` and a ``gridkit_run`` row are written with them, and
    ``responsibility_grid`` removed. Then every other step works on them as on partitioned
    grids.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage to write (created when absent).
    options : GridsAdoptOptions
        The grid layer, communities, repairs.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit grids adopt --json`` prints (read, unit_grids,
        communities, repairs, retired, errors, warnings, audit, ...); ``qa``: the issues of
        the adopted grids and the repairs.

    Raises
    ------
    GridkitError
        ``repair_area`` not above 0; a fault ``unit_grid`` cannot hold (without ``repair``
        or ``recode``); unreadable inputs.

    Examples
    --------
    >>> result = adopt_geopackage("out/district.gpkg",
    ...                           GridsAdoptOptions(Path("city_grids.shp"), repair=True))
    ... # doctest: +SKIP
    >>> result["unit_grids"] <= result["read"]  # doctest: +SKIP
    True
    """
    if not options.repair_area > 0:
        raise InputError(f"`repair_area={options.repair_area:g}`: give an area above 0 m²",
                         parameter="repair_area")
    inputs = options.read(area=options.area)
    return adopt_to_geopackage(
        inputs, Path(gpkg), target_area=options.target_area, repair=options.repair,
        repair_area=options.repair_area, recode=options.recode,
        parameters=record(options, crs=inputs.crs.to_string(),
                          code_field=inputs.layer.code_field))
