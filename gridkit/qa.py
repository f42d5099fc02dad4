"""QA rules and the one collector of ``qa_issue`` rows.

Every rule gridkit reports is registered here (:data:`RULES`): its name, default severity,
the layer whose features it concerns, a message template, the fix, the report's labels and
the names it had before. Two kinds of row use these names:

- ``qa_issue`` rows (LAYER, KEY, RULE, SEVERITY, MESSAGE; SPEC.md), built by
  :class:`QACollector` in every step (partition, group, grids check/adopt/repair/update,
  census import/check, events import);
- the RULE of ``component_reject``/``event_reject`` rows (an import's reject reason,
  :class:`gridkit.records.problems.Problems`).

A fault found at import and at check has one name in both: a census row rejected for a bad
OBJCODE and ``census check`` finding one both say ``objcode-invalid``. The collector and
``Problems`` refuse a name that is not registered (:class:`UnknownRule`), so a misspelt or
unregistered rule fails the first test that reaches it.

Spelling: kebab-case (``grid-code-invalid``). The rows users have the most of in their
GeoPackages, and filter to correct by hand, were already kebab-case: every census import's
``component_reject`` and ``census check``'s ``qa_issue`` rows (one per component at fault in
a census of a million); the partition's few dozen rows per district were snake_case. Rule ids
also read as words in the CLI's vocabulary (``census check``, ``--class-tolerance``). Word
order is kept as it was (``duplicate-objcode``, ``no-serial``) except where one fault had two
names; new rules put the thing at fault first (``objcode-invalid``).

Old names are aliases: :func:`canonical` maps them (``admin_gap`` → ``admin-gap``,
``bad-objcode`` → ``objcode-invalid``), and whatever reads rule names a user or an older
GeoPackage supplies (the report, :func:`canonical_rules`, :func:`rule`) accepts them. The
table of renames is in README.md ("QA rules").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

QA_FIELDS = ["LAYER", "KEY", "RULE", "SEVERITY", "MESSAGE"]
SEVERITIES = ("error", "warning")


class UnknownRule(ValueError):
    """A rule name that is neither registered nor an old name of a registered rule."""


@dataclass(frozen=True)
class Rule:
    """One QA rule.

    Parameters
    ----------
    name : str
        The rule id written to ``qa_issue.RULE`` and ``*_reject.RULE`` (kebab-case).
    severity : str
        ``error`` or ``warning``: the severity of its rows unless the caller says otherwise.
    layer : str
        The layer whose features it concerns (``qa_issue.LAYER``); ``""`` for a rule about
        any input layer (the layer is given per row).
    message : str
        Message template (``str.format`` fields) for a row whose caller gives fields, not a
        message.
    fix : str
        What the user does about it.
    label_zh, label_en : str
        The rule as a planner reads it, in the report (中文 and English).
    aliases : tuple of str
        Names the rule had before (accepted where rule names are read).
    severities : tuple of str
        Severities its rows may have; ``(severity,)`` unless the rule judges by field.
    steps : tuple of str
        The commands that emit it; ``(reject)`` marks an import's reject reason.
    """

    name: str
    severity: str
    layer: str
    message: str
    fix: str
    label_zh: str
    label_en: str
    aliases: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.severities:
            object.__setattr__(self, "severities", (self.severity,))

    def label(self, lang: str) -> str:
        """The report's label in ``lang`` (``zh`` or ``en``)."""
        return self.label_zh if lang == "zh" else self.label_en


_IMPORTS = ("census import (reject)", "events import (reject)")
_CENSUS = ("census import (reject)",)
_GEOMETRY = ("partition", "group")

# codes check's rules for two codes of one row that disagree: name, message, labels.
_AGREEMENT = [
    ("grid-community", "unit grid lies in community {a}, not {b}", "单元网格与社区代码不符",
     "unit grid of another community"),
    ("community-street", "community lies in street {a}, not {b}", "社区与街道代码不符",
     "community of another street"),
    ("grid-street", "unit grid lies in street {a}, not {b}", "单元网格与街道代码不符",
     "unit grid of another street"),
    ("component-county", "component coded in county {a}, its grid in {b}",
     "部件与单元网格区县不符", "component of another county"),
    ("component-major", "MAJOR {a} but the code has {b}", "大类代码与部件编码不符",
     "MAJOR of another component"),
    ("component-minor", "MINOR {a} but the code has {b}", "小类代码与部件编码不符",
     "MINOR of another component"),
    ("event-major", "MAJOR {a} but the code has {b}", "大类代码与事件编码不符",
     "MAJOR of another event"),
    ("event-minor", "MINOR {a} but the code has {b}", "小类代码与事件编码不符",
     "MINOR of another event"),
    ("rgid-street", "RGID {rgid} does not start with its STREET {street}",
     "责任网格与街道代码不符", "RGID of another street"),
]

RULES: dict[str, Rule] = {r.name: r for r in [
    # -- any input layer: features gridkit repaired or skipped (gridkit.geometry) ------------
    Rule("empty-geometry", "warning", "", "{source}: feature {feature} has no geometry; skipped",
         "give the feature its geometry or delete it", "几何为空", "empty geometry",
         ("empty_geometry",), steps=_GEOMETRY),
    Rule("invalid-geometry", "warning", "", "{source}: feature {feature} was invalid; repaired",
         "check the repaired shape; fix the source if it is wrong", "几何无效（已修复）",
         "invalid geometry (repaired)", ("invalid_geometry",), steps=_GEOMETRY),
    Rule("unusable-geometry", "warning", "", "{source}: feature {feature} is of no usable kind; "
         "skipped", "give the layer the geometry type it needs (lines, polygons)",
         "几何类型不可用（已跳过）", "unusable geometry (skipped)", ("unusable_geometry",),
         steps=_GEOMETRY),
    Rule("parts-dropped", "warning", "", "{source}: feature {feature} lost parts of another kind",
         "check the feature: only parts of the layer's kind are used", "要素部分被舍弃",
         "parts dropped", ("parts_dropped",), steps=_GEOMETRY),
    Rule("dropped-z-m", "warning", "", "{source}: Z/M values dropped; gridkit works in 2D",
         "nothing to do: heights and measures are not used", "已舍弃高程/测量值",
         "Z/M values dropped", ("dropped_z_m",), steps=_GEOMETRY),
    # -- partition ---------------------------------------------------------------------------
    Rule("admin-gap", "warning", "community", "gap between {codes} absorbed into {code}",
         "check the community boundaries; correct them at the source if the gap is real",
         "社区之间有缝隙", "gap between communities", ("admin_gap",), steps=("partition",)),
    Rule("admin-overlap", "warning", "community", "overlap between {codes} kept in {code}",
         "check the community boundaries; correct them at the source", "社区之间有重叠",
         "communities overlap", ("admin_overlap",), steps=("partition",)),
    Rule("code-folded", "warning", "community", "community code {given!r} read as {code}",
         "nothing to do; type codes as plain digits at the source", "社区代码已规范化",
         "community code normalised", steps=("partition",)),
    Rule("parts-merged", "warning", "community", "features sharing code {code} merged",
         "nothing to do if they are one community's parts; else give each its own code",
         "社区多个要素已合并", "community parts merged", steps=("partition",)),
    Rule("target-raised", "warning", "community",
         "community {code} would need too many unit grids; target raised to {target} m²",
         "nothing to do, or split the community", "目标面积已提高", "target area raised",
         ("target_raised",), steps=("partition",)),
    Rule("block-whole", "warning", "unit_grid",
         "community {code}: a block stays one unit grid: every cut would split a building",
         "check the block; cut it by hand if it should be split", "街区未切分（避免切断建筑）",
         "block kept whole", ("block_whole",), steps=("partition",)),
    Rule("building-split", "warning", "unit_grid",
         "community {code}: buildings cut by a grid boundary",
         "check the grid boundary; move it along a wall if needed", "建筑被网格边界切分",
         "building split", ("building_split",), steps=("partition",)),
    Rule("building-across-communities", "warning", "community",
         "a building lies in communities {codes}: grids follow the community border through it",
         "correct the community border if the building belongs to one of them",
         "建筑跨越社区边界", "building across communities", (), steps=("partition",)),
    # -- group (responsibility grids) --------------------------------------------------------
    Rule("density-relabel", "warning", "unit_grid",
         "{what}: too few for a {old} responsibility grid, so counted {new}",
         "nothing to do, or adjust the density areas", "密度类型已按标准调整",
         "density relabelled", ("density_relabel",), steps=("group",)),
    Rule("band-violation", "warning", "responsibility_grid",
         "{rgid} holds {units} unit grids, outside the band {band}",
         "check the responsibility grid; regroup with other options if needed",
         "单元网格数超出责任网格标准", "unit grids outside the band", ("band_violation",),
         steps=("group",)),
    Rule("not-contiguous", "error", "responsibility_grid", "{rgid} is not contiguous",
         "regroup; report the case if it recurs", "网格不连通", "grid not contiguous",
         ("not_contiguous",), steps=("group",)),
    # -- grids check / adopt (gridkit.grids.audit) -------------------------------------------
    Rule("grid-code-missing", "error", "unit_grid", "grid has no code",
         "give every unit grid its 15-digit BGID", "网格编码缺失", "grid code missing",
         ("grid_code_missing",), steps=("grids check",)),
    Rule("grid-code-invalid", "error", "unit_grid", "code {code}: {problem}",
         "correct the BGID (12-digit community code + 3-digit serial)", "网格编码无效",
         "grid code invalid", ("grid_code_invalid",), steps=("grids check",)),
    Rule("grid-code-duplicate", "error", "unit_grid", "code {code} held by {count} grids",
         "give each grid its own BGID", "网格编码重复", "grid code duplicated",
         ("grid_code_duplicate",), steps=("grids check",)),
    Rule("grid-code-community", "error", "unit_grid",
         "code {code}: prefix is not the community holding the grid",
         "recode the grid under the community it lies in", "网格编码与所在社区不符",
         "grid code of another community", ("grid_code_community",), steps=("grids check",)),
    Rule("grid-across-communities", "error", "unit_grid", "grid {code} reaches into {other}",
         "cut the grid along the community boundary", "网格跨社区", "grid across communities",
         ("grid_across_communities",), steps=("grids check",)),
    Rule("grid-gap", "error", "unit_grid", "gap of {area} m² no grid covers",
         "extend a neighbouring grid over the gap (or gridkit grids repair)",
         "网格之间有缝隙", "gap between grids", ("grid_gap",), steps=("grids check",)),
    Rule("grid-overlap", "error", "unit_grid", "overlap of {area} m² between {a} and {b}",
         "cut the overlap from one grid (or gridkit grids repair)", "网格之间有重叠",
         "grids overlap", ("grid_overlap",), steps=("grids check",)),
    Rule("grid-multipart", "error", "unit_grid", "grid {code} has {parts} parts",
         "split the grid or join its parts", "网格由多个部分组成", "grid of several parts",
         ("grid_multipart",), steps=("grids check",)),
    Rule("grid-invalid-geometry", "error", "unit_grid", "grid {code}: invalid geometry",
         "fix the polygon (or gridkit grids repair)", "网格几何无效",
         "grid geometry invalid", ("grid_invalid_geometry",), steps=("grids check",)),
    # Was grid_empty, which after kebab-casing would clash with census check's grid-empty.
    Rule("grid-empty-geometry", "error", "unit_grid", "grid {code} has no geometry",
         "draw the grid or delete the feature", "网格几何为空", "grid geometry empty",
         ("grid_empty",), steps=("grids check",)),
    Rule("grid-code-numeric", "warning", "unit_grid", "the code field is stored as a number",
         "store BGID as text", "网格编码以数字存储", "grid code stored as a number",
         ("grid_code_numeric",), steps=("grids check",)),
    Rule("grid-sliver", "warning", "unit_grid", "grid {code} is a sliver",
         "merge it into a neighbour (or gridkit grids repair)", "细碎网格", "sliver grid",
         ("grid_sliver",), steps=("grids check",)),
    Rule("grid-size-band", "warning", "unit_grid", "grid {code} is outside 0.5–2× the target",
         "split or merge the grid", "网格面积超出标准范围", "grid size outside the band",
         ("grid_size_band",), steps=("grids check", "partition")),
    Rule("grid-outside-communities", "warning", "unit_grid", "grid {code} lies in no community",
         "check the grid and the community boundaries", "网格不在任何社区内",
         "grid outside the communities", ("grid_outside_communities",),
         steps=("grids check",)),
    Rule("grid-community-disconnected", "warning", "unit_grid",
         "the grids of {prefix} fall apart", "check the codes of the detached grids",
         "同一社区的网格不相连", "a community's grids disconnected",
         ("grid_community_disconnected",), steps=("grids check",)),
    Rule("grid-serial-gap", "warning", "unit_grid", "community {prefix}: serials never used",
         "nothing to do; serials are never reused", "网格顺序码有空号", "serials skipped",
         ("grid_serial_gap",), steps=("grids check",)),
    Rule("grid-counties", "warning", "unit_grid", "the grids span counties {counties}",
         "check that the layer is one county's (or a city's on purpose)", "网格跨多个区县",
         "grids of several counties", ("grid_counties",), steps=("grids check",)),
    Rule("repair-invalid-geometry", "warning", "unit_grid", "grid {code}: invalid rings rebuilt",
         "check the repaired grid", "网格几何已修复", "grid geometry repaired",
         ("repair_invalid_geometry",), steps=("grids repair",)),
    Rule("repair-overlap", "warning", "unit_grid", "overlap kept in {keep}, cut from {cut}",
         "check the new boundary", "网格重叠已修复", "overlap repaired", ("repair_overlap",),
         steps=("grids repair",)),
    Rule("repair-gap", "warning", "unit_grid", "gap joined to {code}",
         "check the new boundary", "网格缝隙已修复", "gap repaired", ("repair_gap",),
         steps=("grids repair",)),
    Rule("repair-sliver", "warning", "unit_grid", "sliver grid {code} merged into {into}",
         "check the merged grid; the sliver's code is retired", "细碎网格已合并",
         "sliver merged", ("repair_sliver",), steps=("grids repair",)),
    Rule("grid-retired", "warning", "unit_grid", "unit grid {code} retired by the update",
         "move its components to their new grids (census check shows which)", "单元网格已撤销",
         "unit grid retired", ("grid_retired",), steps=("partition --update",)),
    # -- imports: reject reasons (component_reject / event_reject RULE), in no order --------
    Rule("bad-row", "error", "", "the record has {problem}",
         "fix the quoting or the separators of the record", "记录列数不符",
         "wrong number of cells", steps=_IMPORTS),
    Rule("no-coordinates", "error", "", "no geometry and empty coordinate cells",
         "give the row its coordinates", "缺少坐标", "no coordinates", steps=_IMPORTS),
    Rule("bad-coordinates", "error", "", "{column}: {problem}",
         "correct the coordinates (numbers, both given, in the CRS given with --crs)",
         "坐标无效", "invalid coordinates", steps=_IMPORTS),
    Rule("outside-area", "error", "", "({x}, {y}) is in no unit grid",
         "check the position and the CRS; partition the area first", "不在任何单元网格内",
         "in no unit grid", steps=_IMPORTS),
    Rule("bad-time", "error", "event", "{column}: {problem}",
         "write TIME as a date and time (2024-03-01 08:30)", "事件时间无效", "invalid time",
         steps=("events import (reject)",)),
    Rule("no-serial", "error", "component", "no six-digit serial left",
         "free serials of retired components, or split the class", "顺序码已用尽",
         "no serial left", steps=_CENSUS),
    # -- components: import and check --------------------------------------------------------
    Rule("class-unknown", "error", "component", "unknown class: {problem}",
         "give a class name or code of the catalog (gridkit codes search)",
         "部件类别无法识别", "unknown class", ("unknown-class",),
         steps=(*_IMPORTS, "census check")),
    Rule("objcode-invalid", "error", "component", "OBJCODE {code}: {problem}",
         "correct the OBJCODE (16 digits: county, class, serial) or clear it to have one "
         "allocated", "部件标识码无效", "invalid OBJCODE", ("bad-objcode",),
         steps=(*_CENSUS, "census check")),
    Rule("objcode-missing", "error", "component", "no OBJCODE",
         "re-import to have codes allocated", "缺少部件标识码", "no OBJCODE",
         steps=("census check",)),
    Rule("objcode-class", "error", "component", "OBJCODE {code} is of class {klass}",
         "correct the class or clear the OBJCODE", "标识码与部件类别不符",
         "OBJCODE of another class", steps=(*_CENSUS, "census check")),
    Rule("objcode-county", "error", "component", "OBJCODE {code} is of county {county}",
         "clear the OBJCODE to have one of its county allocated", "标识码与所在区县不符",
         "OBJCODE of another county", steps=(*_CENSUS, "census check")),
    Rule("enum-invalid", "error", "component", "{field} {value!r} is not allowed",
         "use a value of the list (OBJSTATE 完好/破损/丢失/占用; DATASOURCE 实测/地形图/调绘/其它)",
         "取值不在允许范围内", "value not allowed", ("bad-state",), ("error", "warning"),
         steps=(*_CENSUS, "census check")),
    Rule("date-invalid", "error", "component", "{field}: {problem}",
         "write the date as 2024-03-01 (after 1900, not in the future)", "日期无效",
         "invalid date", ("bad-date",), steps=(*_CENSUS, "census check")),
    Rule("date-order", "error", "component", "CHDATE {chdate} before ORDATE {ordate}",
         "correct one of the dates", "变更日期早于初始日期", "CHDATE before ORDATE",
         steps=(*_CENSUS, "census check")),
    Rule("duplicate-objcode", "error", "component", "OBJCODE {code} already held by {holder}",
         "clear one of the codes and re-import to have a new one allocated", "部件标识码重复",
         "duplicate OBJCODE", steps=("census import", "census check")),
    Rule("duplicate-position", "warning", "component",
         "{a} is {distance} m from {b}, both {klass}",
         "delete one record or correct its position", "同类部件位置重复",
         "same class at the same place", steps=("census import", "census check")),
    Rule("objname-class", "warning", "component", "OBJNAME {name!r} names class {klass}",
         "correct OBJNAME or the class", "部件名称与类别不符", "OBJNAME of another class",
         steps=("census check",)),
    Rule("bgid-unknown", "error", "component", "BGID {bgid} is not a unit grid of the file",
         "re-import the component (its BGID is found from its position)",
         "所属单元网格不存在", "unknown BGID", steps=("census check",)),
    Rule("bgid-location", "error", "component", "the component lies outside its BGID {bgid}",
         "re-import the component after the grids changed", "位置与所属单元网格不符",
         "position outside its BGID", steps=("census check",)),
    Rule("field-missing", "error", "component", "{field} is empty",
         "fill in the field", "缺少必填字段", "required field missing",
         severities=("error", "warning"), steps=("census check",)),
    Rule("field-empty", "error", "component", "{field} is empty in every component",
         "map the column with --map or fill it in", "字段全部为空", "field empty everywhere",
         severities=("error", "warning"), steps=("census check",)),
    Rule("grid-empty", "warning", "unit_grid",
         "unit grid {bgid} has no component: not surveyed yet?",
         "survey the grid (漏查?)", "单元网格内无部件", "unit grid without components",
         steps=("census check",)),
    Rule("class-sparse", "warning", "street", "class {klass} unusually sparse in street {street}",
         "survey the street for that class (漏查?)", "该类部件数量异常偏少",
         "class unusually sparse", steps=("census check",)),
    # -- events ------------------------------------------------------------------------------
    Rule("duplicate-evtid", "warning", "event", "event {evtid} appears {count} times",
         "keep one of the events or give each its own EVTID", "事件编号重复", "duplicate EVTID",
         ("duplicate_evtid",), steps=("events import",)),
    # -- codes check (a table's code columns; JSON/CSV rows, not qa_issue) -------------------
    Rule("empty", "error", "", "no {kind} code", "fill in the code",
         "代码为空", "code empty", severities=("error", "warning"), steps=("codes check",)),
    Rule("objcode-to-allocate", "warning", "", "{count} rows have no component code",
         "gridkit census import allocates one", "标识码待分配", "component code to be allocated",
         steps=("codes check",)),
    Rule("unknown-kind", "error", "", "not a code gridkit knows",
         "codes have 6, 9, 12, 15 or 16 digits", "无法识别的代码类型", "unknown code kind",
         steps=("codes check",)),
    Rule("invalid", "error", "", "{problem}", "correct the code", "代码无效", "invalid code",
         steps=("codes check",)),
    Rule("stored-as-number", "warning", "", "{count} cells are numbers, not text",
         "store codes as text", "代码以数字存储", "code stored as a number",
         steps=("codes check",)),
    Rule("duplicate", "error", "", "duplicate: also at {first}", "give each row its own code",
         "代码重复", "duplicate code", steps=("codes check",)),
    # codes check: two codes of one row that disagree
    *[Rule(name, "error", "", message, "correct one of the codes", zh, en,
           steps=("codes check",)) for name, message, zh, en in _AGREEMENT],
    Rule("name-class", "warning", "", "{name!r} names class {klass}",
         "correct the name or the code", "名称与类别不符", "name of another class",
         steps=("codes check",)),
]}

_OLD: dict[str, str] = {}
for _rule in RULES.values():
    for _alias in _rule.aliases:
        if _alias in RULES or _OLD.setdefault(_alias, _rule.name) != _rule.name:
            raise AssertionError(f"rule alias {_alias!r} names two rules")
del _rule, _alias


def rule(name: str) -> Rule:
    """The registered rule ``name`` (a current or an old name).

    Parameters
    ----------
    name : str
        A rule id as written to ``qa_issue.RULE`` now or by an older gridkit.

    Returns
    -------
    Rule

    Raises
    ------
    UnknownRule
        When ``name`` is neither a rule nor an old name of one.

    Examples
    --------
    >>> rule("bad-objcode").name
    'objcode-invalid'
    >>> rule("admin_gap").label("zh")
    '社区之间有缝隙'
    """
    found = RULES.get(name) or RULES.get(_OLD.get(name, ""))
    if found is None:
        raise UnknownRule(f"QA rule {name!r} is not registered in gridkit.qa.RULES")
    return found


def canonical(name: str) -> str:
    """The current name of rule ``name``.

    A name gridkit does not know comes back as it is (a row of a newer gridkit, or a user's
    own).

    Parameters
    ----------
    name : str
        A rule id, current or old.

    Returns
    -------
    str

    Examples
    --------
    >>> canonical("unknown-class"), canonical("grid_gap"), canonical("my-rule")
    ('class-unknown', 'grid-gap', 'my-rule')
    """
    return name if name in RULES else _OLD.get(name, name)


def canonical_rules(values: pd.Series) -> pd.Series:
    """``values`` (a RULE column, perhaps of an older GeoPackage) with old names replaced.

    Examples
    --------
    >>> canonical_rules(pd.Series(["admin_gap", "grid-gap", "bad-date"])).tolist()
    ['admin-gap', 'grid-gap', 'date-invalid']
    """
    return values.replace(_OLD)


def registered(name: str, severity: str | None = None) -> tuple[Rule, str]:
    """The rule ``name`` (its current name only) and the severity of its row.

    What every emitter calls: code must use a rule's current name, so an old or misspelt
    name fails here (and in the first test that reaches it).

    Parameters
    ----------
    name : str
        The rule's current name.
    severity : str, optional
        The row's severity; the rule's default when not given.

    Returns
    -------
    (Rule, str)
        The rule and the severity.

    Raises
    ------
    UnknownRule
        An unregistered or old name, or a severity the rule does not have.

    Examples
    --------
    >>> registered("field-missing", "warning")[1]
    'warning'
    """
    if name not in RULES:
        hint = f" (renamed {RULES[_OLD[name]].name!r})" if name in _OLD else ""
        raise UnknownRule(f"QA rule {name!r} is not registered in gridkit.qa.RULES{hint}")
    found = RULES[name]
    severity = severity or found.severity
    if severity not in found.severities:
        raise UnknownRule(f"QA rule {name!r} is {'/'.join(found.severities)}, not {severity!r}")
    return found, severity


@dataclass
class QAIssue:
    """One ``qa_issue`` row, its rule registered under its current name.

    For steps that hand their findings around in memory (partition, group, grids check:
    ``result.issues``) before :class:`QACollector` makes them rows.

    Raises
    ------
    UnknownRule
        An unregistered or old rule name, a severity or a layer the rule does not have.

    Examples
    --------
    >>> QAIssue("unit_grid", "310101001001001", "grid-sliver", "warning", "a sliver").rule
    'grid-sliver'
    """

    layer: str
    key: str
    rule: str
    severity: str  # "error" or "warning"
    message: str
    geometry: BaseGeometry | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_layer(registered(self.rule, self.severity)[0], self.layer)


def _check_layer(found: Rule, layer: str | None) -> None:
    if found.layer and layer and layer != found.layer:
        raise UnknownRule(f"QA rule {found.name!r} concerns layer {found.layer}, not {layer}")


class QACollector:
    """The ``qa_issue`` rows of one step, one by one or many at once, as one GeoDataFrame.

    Every row's rule is checked against :data:`RULES` (:class:`UnknownRule` otherwise);
    the severity defaults to the rule's, the layer to the rule's (or to ``layer``).

    Parameters
    ----------
    issues : iterable of QAIssue, optional
        Issues found already (e.g. by :func:`gridkit.geometry.clean_geometries`).
    layer : str, optional
        The LAYER of rows whose rule concerns any layer and whose caller names none.

    Examples
    --------
    >>> qa = QACollector()
    >>> qa.add("grid-sliver", "310101001001001", "grid 310101001001001 is a sliver")
    >>> qa.rows("grid-gap", ["gap@1,2", "gap@3,4"], area=["2.0", "3.5"])
    >>> frame = qa.frame("EPSG:4547")
    >>> frame[["LAYER", "RULE", "SEVERITY", "MESSAGE"]].values.tolist()[1]
    ['unit_grid', 'grid-gap', 'error', 'gap of 2.0 m² no grid covers']
    """

    def __init__(self, issues: Iterable[QAIssue] = (), *, layer: str | None = None) -> None:
        self.layer = layer
        self._parts: list[dict] = []
        self.extend(issues)

    def __len__(self) -> int:
        return sum(len(part["KEY"]) for part in self._parts)

    def _layer(self, found: Rule, layer: str | None) -> str:
        _check_layer(found, layer)
        chosen = layer or found.layer or self.layer
        if not chosen:
            raise UnknownRule(f"QA rule {found.name!r} concerns any layer: name the layer")
        return chosen

    def add(self, rule: str, key: str, message: str | None = None,
            geometry: BaseGeometry | None = None, *, layer: str | None = None,
            severity: str | None = None, **fields: object) -> None:
        """Add one row; without ``message`` the rule's template is filled with ``fields``."""
        self.rows(rule, [key], None if message is None else [message], [geometry],
                  layer=layer, severity=severity, **{k: [v] for k, v in fields.items()})

    def rows(self, rule: str, keys: Sequence[str], messages: Sequence[str] | str | None = None,
             geometry: Sequence | np.ndarray | None = None, *, layer: str | None = None,
             severity: str | None = None, **fields: Sequence) -> None:
        """Add many rows of one rule.

        Parameters
        ----------
        rule : str
            The rule's current name.
        keys : sequence of str
            The KEY of each row (n).
        messages : sequence of str or str, optional
            One message per row, or one for all; without them the rule's template is filled
            with ``fields``.
        geometry : sequence of shapely geometries, optional
            One per row (n); None for rows without a place.
        layer, severity : str, optional
            The rule's (or the collector's) when not given.
        **fields : sequence
            Template fields, one value per row.

        Raises
        ------
        UnknownRule
            See :func:`registered`; ValueError when the lengths differ.
        """
        found, severity = registered(rule, severity)
        n = len(keys)
        if n == 0:
            return
        if messages is None:
            messages = [found.message.format(**{k: v[i] for k, v in fields.items()})
                        for i in range(n)]
        elif isinstance(messages, str):
            messages = [messages] * n
        if len(messages) != n or (geometry is not None and len(geometry) != n):
            raise ValueError(f"QA rule {rule!r}: {n} keys but {len(messages)} messages")
        self._parts.append({
            "LAYER": np.full(n, self._layer(found, layer), dtype=object),
            "KEY": np.asarray(keys, dtype=object), "RULE": np.full(n, rule, dtype=object),
            "SEVERITY": np.full(n, severity, dtype=object),
            "MESSAGE": np.asarray(messages, dtype=object),
            "geometry": (np.full(n, None, dtype=object) if geometry is None
                         else np.asarray(geometry, dtype=object))})

    def append(self, issue: QAIssue) -> None:
        """Add one :class:`QAIssue`."""
        self.add(issue.rule, issue.key, issue.message, issue.geometry, layer=issue.layer,
                 severity=issue.severity)

    def extend(self, issues: Iterable[QAIssue]) -> None:
        """Add :class:`QAIssue` objects (checked when they were made) as one part."""
        issues = list(issues)
        if not issues:
            return
        columns = {"LAYER": [i.layer for i in issues], "KEY": [i.key for i in issues],
                   "RULE": [i.rule for i in issues], "SEVERITY": [i.severity for i in issues],
                   "MESSAGE": [i.message for i in issues],
                   "geometry": [i.geometry for i in issues]}
        part = {}
        for name, values in columns.items():
            part[name] = np.empty(len(issues), dtype=object)
            part[name][:] = values
        self._parts.append(part)

    def frame(self, crs) -> gpd.GeoDataFrame:
        """The rows so far as a ``qa_issue`` GeoDataFrame (:data:`QA_FIELDS` + geometry).

        Parameters
        ----------
        crs : pyproj.CRS or str
            The CRS of the geometries.
        """
        data = {name: (np.concatenate([p[name] for p in self._parts]) if self._parts
                       else np.empty(0, dtype=object)) for name in [*QA_FIELDS, "geometry"]}
        geometry = data.pop("geometry")
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)


def qa_frame(issues: Iterable[QAIssue], crs) -> gpd.GeoDataFrame:
    """``qa_issue`` rows of ``issues``: ``QACollector(issues).frame(crs)``.

    Examples
    --------
    >>> qa_frame([], "EPSG:4326").columns.tolist()
    ['LAYER', 'KEY', 'RULE', 'SEVERITY', 'MESSAGE', 'geometry']
    """
    return QACollector(issues).frame(crs)
