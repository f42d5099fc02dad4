"""``gridkit census import`` and ``gridkit census check`` as a library.

In memory, :func:`~gridkit.components.import_census` (files and unit grids in, a
:class:`~gridkit.components.CensusImport` with ``.qa`` and ``.figures`` out) and
:func:`~gridkit.components.check_components`; on a GeoPackage,
:func:`import_census_geopackage` with :class:`CensusImportOptions` and
:func:`check_census_geopackage` with :class:`CensusCheckOptions`, what the commands run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gridkit.codes.catalog import national_catalog
from gridkit.components.check import CheckOptions, check_to_geopackage
from gridkit.components.duplicates import parse_tolerances
from gridkit.components.gpkg import import_to_geopackage
from gridkit.components.importer import MODES, ImportOptions
from gridkit.errors import InputError, mention
from gridkit.options import catalog_field, option, record
from gridkit.records.options import RecordImportOptions
from gridkit.records.schema import COMPONENT
from gridkit.result import StepResult
from gridkit.sources.columns import parse_maps

__all__ = ["CensusCheckOptions", "CensusImportOptions", "check_census_geopackage",
           "import_census_geopackage"]


def _tolerance_field():
    """``--dup-tolerance``, shared by the import and the check.

    Recorded as the parsed ``tolerance`` and ``class_tolerance`` (:func:`run_parameters`).
    """
    return option(factory=list, multiple=True, metavar="M|CLASS=M", toml=False, record=False,
                  help="Distance under which two components of one class are reported as "
                       "duplicates, metres (default 0.5); CLASS=M for one class, e.g. 0118=2. "
                       "Repeatable.")


def _catalog_and_tolerances(options: CensusImportOptions | CensusCheckOptions) -> dict:
    """``catalog``, ``tolerance`` and ``class_tolerance`` of the import's and check's settings.

    From the ``--catalog``/``--extend``/``--dup-tolerance`` fields both commands share.
    """
    default, per_class = parse_tolerances(list(options.dup_tolerance))
    if options.catalog is None:
        catalog = national_catalog("component")
    else:
        from gridkit.codes.local import load_catalog

        catalog = load_catalog(options.catalog, "component", extend=options.extend)
    return {"catalog": catalog, "tolerance": default, "class_tolerance": per_class}


@dataclass(frozen=True)
class CensusImportOptions(RecordImportOptions):
    """Options of ``gridkit census import`` (and of the ``[census]`` section of ``gridkit run``).

    Parameters
    ----------
    files, crs, sheet, layer, header_row
        The files and how to read them: as :class:`~gridkit.records.options.RecordImportOptions`
        (``FILES``, ``--crs``, ``--sheet``, ``--layer``, ``--header-row``).
    x, y : str, optional
        Columns of X/longitude and Y/latitude (default: recognised by name). ``--x``, ``--y``.
    map : list of str
        ``FIELD=COLUMN`` items: take FIELD from COLUMN. ``--map``.
    mode : {"append", "replace"}
        ``append`` replaces only the components of these files; ``replace`` starts the
        component layer afresh. ``--mode``.
    allow_duplicates : bool
        Import rows even when most are components already held from another file.
        ``--allow-duplicates``.
    catalog : str, optional
        A local component catalog (CSV/XLSX); replaces the national one unless ``extend``.
        ``--catalog`` (not in TOML).
    extend : bool
        Add the ``catalog`` classes to the national catalog. ``--extend`` (not in TOML).
    dup_tolerance : list of str
        Duplicate distances, metres: ``M`` for every class, ``CLASS=M`` for one.
        ``--dup-tolerance`` (not in TOML).

    Examples
    --------
    >>> options = CensusImportOptions([Path("井盖普查.csv")], crs="gcj02", map=["OBJNAME=设施"])
    >>> options.resolved().maps
    {'OBJNAME': '设施'}
    """

    # x and y are recorded inside ``map``, the resolved FIELD → COLUMN map (run_parameters).
    x: str | None = option(None, record=False,
                           help="Column of X/longitude (default: recognised by name).")
    y: str | None = option(None, record=False,
                           help="Column of Y/latitude (default: recognised by name).")
    map: list[str] = option(
        factory=list, multiple=True, metavar="FIELD=COLUMN", kind=list[str],
        help="Take FIELD from COLUMN, e.g. --map OBJNAME=设施类型 --map DEPTNAME2=产权人. "
             "Repeatable.")
    mode: str = option(
        "append", type=click.Choice(MODES), show_default=True,
        help="append: replace only the components of these files (re-importing a file never "
             "duplicates it); replace: start the component layer afresh.")
    allow_duplicates: bool = option(
        False, is_flag=True, record=False,
        help="Import rows even when most of them are components already held from another "
             "file (same class and position), or the file's content was imported before "
             "under another name.")
    # The catalog is recorded as the one loaded (its description, with --extend's part).
    catalog: str | None = catalog_field()
    extend: bool = catalog_field(extend=True, record=False)
    dup_tolerance: list[str] = _tolerance_field()

    def resolved(self) -> ImportOptions:
        """The importer's settings: columns mapped, catalog loaded, tolerances parsed.

        Returns
        -------
        ImportOptions
            For :func:`~gridkit.components.import_census`.

        Raises
        ------
        GridkitError
            A ``map`` item that is not FIELD=COLUMN of a component field, a bad tolerance,
            an unreadable catalog.
        """
        mapping = parse_maps(list(self.map), COMPONENT.aliases)
        for field, column in (("X", self.x), ("Y", self.y)):
            if column:
                mapping[field] = column
        return ImportOptions(crs=self.crs, sheet=self.sheet, layer=self.layer,
                             header_row=self.header_row, maps=mapping, mode=self.mode,
                             **_catalog_and_tolerances(self))


def import_census_geopackage(gpkg: str | Path, options: CensusImportOptions, *,
                             progress=None) -> StepResult:
    """Import census files into ``gpkg``: layers ``component`` and ``component_reject``.

    Every row is accepted (located in its unit grid, classed, coded) or rejected with its
    reason; rows in = accepted + rejected. Duplicates go to ``qa_issue``, never dropped.
    One transaction: a failed import leaves ``gpkg`` as it was.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage holding ``unit_grid`` (from ``gridkit partition``).
    options : CensusImportOptions
        The files and how to read them.
    progress : callable, optional
        Called with the name of each stage.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit census import --json`` prints (rows, accepted,
        rejected, files, codes, duplicates, ...); ``qa``: the import's issues.

    Raises
    ------
    GridkitError
        No file, an unreadable file, no unit grids, rows already imported from another file.

    Examples
    --------
    >>> result = import_census_geopackage(
    ...     "out/district.gpkg", CensusImportOptions([Path("census.csv")], crs="gcj02"))
    ... # doctest: +SKIP
    >>> result["rows"] == result["accepted"] + result["rejected"]  # doctest: +SKIP
    True
    """
    resolved = options.resolved()
    return import_to_geopackage(list(options.files), Path(gpkg), resolved, progress,
                                allow_duplicates=options.allow_duplicates,
                                parameters=run_parameters(options, resolved))


def run_parameters(options: CensusImportOptions | CensusCheckOptions,
                   resolved: ImportOptions | CheckOptions) -> dict:
    """The ``gridkit_run`` parameters of a census import or check.

    The options' record (:func:`gridkit.options.record`), with what they resolve to in place
    of what was typed: the catalog loaded (its description), the duplicate tolerances parsed,
    and for the import the column map with ``x``/``y`` in it.

    Parameters
    ----------
    options : CensusImportOptions or CensusCheckOptions
        The step's options.
    resolved : ImportOptions or CheckOptions
        ``options.resolved()``.

    Returns
    -------
    dict
        Record key → value.

    Examples
    --------
    >>> options = CensusCheckOptions(dup_tolerance=["1.5"])
    >>> run_parameters(options, options.resolved())["tolerance"]
    1.5
    """
    catalog = resolved.catalog.describe() if resolved.catalog else None
    values: dict[str, Any] = {"catalog": catalog, "tolerance": resolved.tolerance,
              "class_tolerance": resolved.class_tolerance}
    if isinstance(resolved, ImportOptions):
        values["map"] = resolved.maps
    return record(options, **values)


@dataclass(frozen=True)
class CensusCheckOptions:
    """Options of ``gridkit census check``.

    Parameters
    ----------
    catalog : str, optional
        A local component catalog (CSV/XLSX); replaces the national one unless ``extend``.
        ``--catalog``.
    extend : bool
        Add the ``catalog`` classes to the national catalog. ``--extend``.
    dup_tolerance : list of str
        Duplicate distances, metres: ``M`` for every class, ``CLASS=M`` for one.
        ``--dup-tolerance``.
    sparse_ratio : float
        Flag a class in a street when its density is below this share (0-1) of the
        district's. ``--sparse-ratio``.
    min_expected : float
        Only flag a sparse class where the district's density predicts at least this many
        components in the street. ``--min-expected``.

    Examples
    --------
    >>> CensusCheckOptions(dup_tolerance=["0118=2"]).resolved().class_tolerance
    {'0118': 2.0}
    """

    catalog: str | None = catalog_field()
    extend: bool = catalog_field(extend=True, record=False)
    dup_tolerance: list[str] = _tolerance_field()
    sparse_ratio: float = option(
        0.25, type=float, show_default=True, toml=False,
        help="Flag a class in a street when its density is below this share of the "
             "district's.")
    min_expected: float = option(
        20, type=float, show_default=True, toml=False,
        help="Only flag a sparse class where the district's density predicts at least this "
             "many components in the street.")

    def resolved(self) -> CheckOptions:
        """The checker's settings: catalog loaded, tolerances parsed.

        Returns
        -------
        CheckOptions
            For :func:`~gridkit.components.check_components`.

        Raises
        ------
        GridkitError
            ``sparse_ratio`` outside (0, 1), a bad tolerance, an unreadable catalog.
        """
        options = CheckOptions(sparse_ratio=self.sparse_ratio, min_expected=self.min_expected,
                               **_catalog_and_tolerances(self))
        if self.sparse_ratio <= 0 or self.sparse_ratio >= 1:
            raise InputError(f"{mention(sparse_ratio=self.sparse_ratio)}: give a share between "
                             "0 and 1", parameter="sparse_ratio")
        return options


def check_census_geopackage(gpkg: str | Path, options: CensusCheckOptions | None = None, *,
                            progress=None) -> StepResult:
    r"""Check the ``component`` layer of ``gpkg``: coding, attributes and coverage.

    Writes the issues to ``qa_issue``, the components per unit grid and class to
    ``component_coverage`` and a ``gridkit_run`` row.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        A GeoPackage with ``unit_grid`` and ``component``.
    options : CensusCheckOptions, optional
        Catalog, duplicate distances, coverage thresholds.
    progress : callable, optional
        Called with the name of each stage.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit census check --json`` prints (components, unit_grids,
        errors, warnings, by_rule, ...); ``qa``: the issues found.

    Raises
    ------
    GridkitError
        When ``gpkg`` has no component layer, or an option is out of range.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> from gridkit.components import ImportOptions, UnitGrids, import_census
    >>> from gridkit.io import ArrowLayer, write_geopackage
    >>> square = shapely.box(624_000, 3_398_000, 624_100, 3_398_100)  # EPSG:4549 metres
    >>> grids = gpd.GeoDataFrame({"BGID": ["310116001001001"]}, geometry=[square], crs=4549)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "census.csv").write_text("部件名称,X,Y\n路灯,624050,3398050\n",
    ...                                         encoding="utf-8")
    >>> census = import_census([folder / "census.csv"], UnitGrids(grids),
    ...                        ImportOptions(crs="EPSG:4549"))
    >>> write_geopackage(folder / "out.gpkg", {"unit_grid": grids, "component": ArrowLayer(
    ...     census.component_table(), "EPSG:4549", census.geometry_type)})
    >>> result = check_census_geopackage(folder / "out.gpkg")
    >>> result["components"], len(result.qa) >= result["errors"]
    (1, True)
    """
    options = options or CensusCheckOptions()
    resolved = options.resolved()
    return check_to_geopackage(Path(gpkg), resolved, progress=progress,
                               parameters=run_parameters(options, resolved))
