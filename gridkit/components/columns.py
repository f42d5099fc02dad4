"""Which source column feeds which ``component`` field: Chinese and English aliases, ``--map``.

Column names are compared after NFKC, case folding and removal of spaces, underscores,
hyphens and brackets, so ``主管部门 (名称)``, ``DEPT_NAME1`` and ``deptname1`` all compare as
the alias list says. For each field the first alias (in the order below) found among the
columns wins; a column serves one field at most. Columns no field takes are kept in the
``EXTRA`` JSON column of the component, never dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from gridkit.errors import GridkitError

# Field -> aliases, most specific first. CLASSCODE/X/Y/XY/WKT are inputs only: the class code
# (4 digits; or 2 digits after a MAJOR column, as 大类代码 + 小类代码 tables have it) and the
# coordinates (two columns, one "x,y" column, or WKT).
ALIASES: dict[str, tuple[str, ...]] = {
    "OBJCODE": ("objcode", "标识码", "部件标识码", "部件编码", "部件代码", "部件编号", "objid",
                "componentcode"),
    "OBJNAME": ("objname", "部件名称", "部件小类名称", "小类名称", "部件类型", "部件类别",
                "部件小类", "部件种类", "设施名称", "设施类型", "小类", "类型", "类别", "名称",
                "部件", "classname", "class", "type", "name"),
    "CLASSCODE": ("classcode", "小类代码", "小类编码", "部件类型代码", "部件小类代码", "类别代码",
                  "类型代码", "部件类别代码"),
    "MAJOR": ("major", "大类代码", "大类编码"),
    "MINOR": ("minor",),
    "DEPTCODE1": ("deptcode1", "主管部门代码", "主管部门编码", "主管单位代码"),
    "DEPTNAME1": ("deptname1", "主管部门", "主管部门名称", "主管单位", "主管单位名称",
                  "competentdept"),
    "DEPTCODE2": ("deptcode2", "权属单位代码", "权属单位编码", "权属部门代码", "产权单位代码"),
    "DEPTNAME2": ("deptname2", "权属单位", "权属单位名称", "权属部门", "产权单位", "权属",
                  "owner"),
    "DEPTCODE3": ("deptcode3", "养护单位代码", "养护单位编码", "养护部门代码", "维护单位代码"),
    "DEPTNAME3": ("deptname3", "养护单位", "养护单位名称", "养护部门", "维护单位", "管养单位",
                  "maintainer"),
    "OBJSTATE": ("objstate", "部件状态", "状态", "现状", "完好状态", "state", "status",
                 "condition"),
    "ORDATE": ("ordate", "初始时间", "初始日期", "采集时间", "采集日期", "调查时间", "调查日期",
               "普查时间", "普查日期", "建档时间"),
    "CHDATE": ("chdate", "变更时间", "变更日期", "更新时间", "更新日期", "修改时间", "修改日期"),
    "DATASOURCE": ("datasource", "数据来源", "来源", "数据源", "source"),
    "NOTE": ("note", "备注", "说明", "remark", "remarks", "notes"),
    "PICTURE": ("picture", "照片", "照片名称", "照片路径", "照片文件", "图片", "图片路径", "相片",
                "photo", "image", "img"),
    "X": ("x", "经度", "东经", "lon", "lng", "long", "longitude", "x坐标", "坐标x", "横坐标",
          "东坐标", "easting", "pointx", "gpsx", "gps经度"),
    "Y": ("y", "纬度", "北纬", "lat", "latitude", "y坐标", "坐标y", "纵坐标", "北坐标",
          "northing", "pointy", "gpsy", "gps纬度"),
    "XY": ("经纬度", "坐标", "lnglat", "lonlat", "location", "coordinates", "坐标位置"),
    "WKT": ("wkt", "geometry", "geom", "the_geom"),
}

SPEC_FIELDS = ("OBJCODE", "OBJNAME", "MAJOR", "MINOR", "DEPTCODE1", "DEPTNAME1", "DEPTCODE2",
               "DEPTNAME2", "DEPTCODE3", "DEPTNAME3", "BGID", "OBJSTATE", "ORDATE", "CHDATE",
               "DATASOURCE", "NOTE", "PICTURE", "SRCROW")
LABELS = {
    "OBJCODE": "标识码", "OBJNAME": "部件名称", "CLASSCODE": "小类代码", "MAJOR": "大类代码",
    "MINOR": "小类代码", "DEPTCODE1": "主管部门代码", "DEPTNAME1": "主管部门",
    "DEPTCODE2": "权属单位代码", "DEPTNAME2": "权属单位", "DEPTCODE3": "养护单位代码",
    "DEPTNAME3": "养护单位", "OBJSTATE": "状态", "ORDATE": "初始时间", "CHDATE": "变更时间",
    "DATASOURCE": "数据来源", "NOTE": "备注", "PICTURE": "照片", "X": "X/经度", "Y": "Y/纬度",
    "XY": "坐标", "WKT": "WKT",
}

_DROP = set(" \t_-–—.·()（）[]【】{}<>《》:：/\\'\"")


def column_key(name: object) -> str:
    """The comparison key of a column name."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    return "".join(ch for ch in text if ch not in _DROP)


_ALIAS_KEYS = {f: tuple(column_key(a) for a in aliases) for f, aliases in ALIASES.items()}


def parse_maps(items: tuple[str, ...] | list[str],
               aliases: dict[str, tuple[str, ...]] = ALIASES) -> dict[str, str]:
    """``--map FIELD=COLUMN`` options into {FIELD: COLUMN}; FIELD is one of ``aliases``."""
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, column = item.partition("=")
        target = target.strip().upper()
        if not sep or not column.strip():
            raise GridkitError(f"--map {item!r}: write FIELD=COLUMN, e.g. --map OBJNAME=设施类型")
        if target not in aliases:
            raise GridkitError(f"--map {item!r}: {target} is not a field gridkit fills; use one "
                               f"of {', '.join(aliases)}")
        mapping[target] = column.strip()
    return mapping


@dataclass
class ColumnMap:
    """field -> source column, and the source columns no field took."""

    fields: dict[str, str]
    extra: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def map_columns(columns: list[str], explicit: dict[str, str] | None = None, *,
                source: str = "",
                aliases: dict[str, tuple[str, ...]] = ALIASES) -> ColumnMap:
    """Assign columns to fields: ``explicit`` (from --map) first, then ``aliases`` in order
    (the component fields by default; events pass their own)."""
    alias_keys = _ALIAS_KEYS if aliases is ALIASES else {
        f: tuple(column_key(a) for a in names) for f, names in aliases.items()}
    explicit = explicit or {}
    fields: dict[str, str] = {}
    taken: set[str] = set()
    for target, column in explicit.items():
        if column not in columns:
            matches = [c for c in columns if column_key(c) == column_key(column)]
            if len(matches) != 1:
                raise GridkitError(
                    f"{source}: --map {target}={column}: no column {column!r}; the columns are: "
                    f"{', '.join(columns)}"
                )
            column = matches[0]
        fields[target] = column
        taken.add(column)
    keys = {}
    for column in columns:
        keys.setdefault(column_key(column), column)
    for target, keys_of_target in alias_keys.items():
        if target in fields:
            continue
        for alias in keys_of_target:
            column = keys.get(alias)
            if column is not None and column not in taken:
                fields[target] = column
                taken.add(column)
                break
    # A lone MINOR column is only a class code together with MAJOR.
    if "MINOR" in fields and "MAJOR" not in fields and "MINOR" not in explicit:
        taken.discard(fields.pop("MINOR"))
    return ColumnMap(fields, [c for c in columns if c not in taken])
