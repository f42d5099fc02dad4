"""What a record importer reads, per kind of record: the schema of components and events.

Components (部件) and events (事件) go through one importer (:mod:`gridkit.records`): read a
table (:mod:`gridkit.sources`), recognise its columns by the schema's aliases, normalise the
cells, locate each row in a unit grid, reject with a rule and a reason. A schema names what
differs: the fields and their aliases, the output and reject layers, and the reject rules in
the order a row's first problem is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field -> aliases, most specific first. CLASSCODE/X/Y/XY/WKT are inputs only: the class code
# (4 digits; or 2 digits after a MAJOR column, as 大类代码 + 小类代码 tables have it) and the
# coordinates (two columns, one "x,y" column, or WKT).
COMPONENT_ALIASES: dict[str, tuple[str, ...]] = {
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

EVENT_ALIASES: dict[str, tuple[str, ...]] = {
    "EVTID": ("evtid", "案件编号", "案卷编号", "案卷号", "事件编号", "事件编码", "工单号",
              "caseid", "eventid", "id"),
    "EVTCODE": ("evtcode", "事件代码", "事件小类代码", "小类代码", "类别代码", "classcode",
                "code"),
    "EVTNAME": ("evtname", "事件类型", "事件名称", "事件小类", "案件类型", "问题类型",
                "小类名称", "类型", "名称", "type", "name"),
    "TIME": ("time", "上报时间", "发生时间", "发现时间", "立案时间", "时间", "日期",
             "reporttime", "datetime", "date"),
    "X": COMPONENT_ALIASES["X"],
    "Y": COMPONENT_ALIASES["Y"],
    "XY": COMPONENT_ALIASES["XY"],
    "WKT": COMPONENT_ALIASES["WKT"],
}

COMPONENT_RULES = (
    "bad-row",          # a CSV record with the wrong number of cells
    "no-coordinates",   # no geometry and empty coordinate cells
    "bad-coordinates",  # not numbers, half given, outside the CRS's range, no GCJ-02 source
    "outside-area",     # in no unit grid of OUT.gpkg
    "class-unknown",    # no class, or a name/code not in the catalog
    "objcode-invalid",      # OBJCODE not a valid 16-digit component code (or an Excel number)
    "objcode-class",    # OBJCODE coded for another class than the record's
    "objcode-county",   # OBJCODE coded for another county than the location's
    "enum-invalid",        # OBJSTATE not 完好/破损/丢失/占用
    "date-invalid",     # ORDATE/CHDATE unparseable, impossible or out of range
    "date-order",       # CHDATE before ORDATE
    "no-serial",        # no six-digit serial left in the county/class
)
EVENT_RULES = (
    "bad-row", "no-coordinates", "bad-coordinates", "outside-area", "class-unknown",
    "bad-time",         # TIME unparseable, or an Excel day number in a CSV
)


@dataclass(frozen=True)
class RecordSchema:
    """One kind of record the record importer reads: its fields' aliases and its reject rules.

    Parameters
    ----------
    kind : str
        ``component`` or ``event``: also the name of the output layer.
    aliases : dict of str to tuple of str
        Field -> column names that mean it, most specific first.
    rules : tuple of str
        Reject rules, in the order a row's first problem is chosen.
    command : str
        The CLI command, for run records and messages.

    Examples
    --------
    >>> from gridkit.records import COMPONENT, EVENT
    >>> COMPONENT.reject_layer, EVENT.kind, "经度" in COMPONENT.aliases["X"]
    ('component_reject', 'event', True)
    """

    kind: str
    aliases: dict[str, tuple[str, ...]]
    rules: tuple[str, ...]
    command: str

    @property
    def reject_layer(self) -> str:
        """The layer rejected rows go to: ``component_reject``, ``event_reject``."""
        return f"{self.kind}_reject"


COMPONENT = RecordSchema("component", COMPONENT_ALIASES, COMPONENT_RULES, "census import")
EVENT = RecordSchema("event", EVENT_ALIASES, EVENT_RULES, "events import")
