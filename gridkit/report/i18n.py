"""The report's words in Chinese and English: one table, looked up by key.

Both the HTML assembly and the map script read from here (the script gets the ``map.*``
keys in its manifest), so a label is translated once. QA rule labels live with the rules
(:data:`gridkit.qa.RULES`).
"""

from __future__ import annotations

from gridkit import qa

LANGS = ("zh", "en")

_STRINGS: dict[str, tuple[str, str]] = {
    "title": ("网格化城市管理报告", "Urban grid management report"),
    "generated": ("生成于", "Generated"),
    "source": ("数据文件", "Source file"),
    "crs": ("坐标系", "CRS"),
    "county": ("区县代码", "County code"),
    "overview": ("概况", "Overview"),
    "contents": ("目录", "Contents"),
    "map": ("地图", "Map"),
    "figures": ("数字", "Figures"),
    "layer": ("图层", "Layer"),
    "features": ("要素数", "Features"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "value": ("数值", "Value"),
    "total": ("合计", "Total"),
    "none": ("无", "none"),
    "other": ("其他", "other"),
    "street": ("街道/镇", "Street/town"),
    "streets": ("街道/镇数", "Streets/towns"),
    "community": ("社区/村", "Community/village"),
    "communities": ("社区/村数", "Communities/villages"),
    "unit_grids": ("单元网格数", "Unit grids"),
    "resp_grids": ("责任网格数", "Responsibility grids"),
    "components": ("部件数", "Components"),
    "events": ("事件数", "Events"),
    "qa_issues": ("质检问题数", "QA issues"),
    "district_area": ("管理面积", "Managed area"),
    "km2": ("平方公里", "km²"),
    "m2": ("平方米", "m²"),
    "runs": ("处理记录", "Processing history"),
    "run_time": ("时间", "Time"),
    "run_version": ("版本", "Version"),
    "run_command": ("命令", "Command"),
    "run_parameters": ("参数", "Parameters"),
    "layer_community": ("社区/村", "Communities"),
    "layer_unit_grid": ("单元网格", "Unit grids"),
    "layer_responsibility_grid": ("责任网格", "Responsibility grids"),
    "layer_component": ("部件", "Components"),
    "layer_event": ("事件", "Events"),
    "layer_qa_issue": ("质检问题", "QA issues"),
    "layer_spotcheck_result": ("抽查网格", "Spot-checked grids"),
    "layer_component_reject": ("未入库部件记录", "Rejected component rows"),
    "layer_event_reject": ("未入库事件记录", "Rejected event rows"),
    "layer_spotcheck_summary": ("抽查汇总", "Spot-check summary"),
    "layer_gridkit_run": ("处理记录", "Processing history"),
    # Unit grid areas
    "sec_unit_area": ("单元网格面积", "Unit grid areas"),
    "unit_area_note": ("面积分布与标准范围（目标面积的 0.5–2 倍）对照。",
                       "Area distribution against the band (0.5–2× the target area)."),
    "target_area": ("目标面积", "Target area"),
    "band": ("标准范围", "Band"),
    "in_band": ("范围内", "In band"),
    "below_band": ("小于 0.5 倍", "Below 0.5×"),
    "above_band": ("大于 2 倍", "Above 2×"),
    "area_m2": ("面积（平方米）", "Area (m²)"),
    "grids": ("网格数", "Grids"),
    "min": ("最小", "Min"),
    "p5": ("5% 分位", "5th percentile"),
    "median": ("中位数", "Median"),
    "mean": ("平均", "Mean"),
    "p95": ("95% 分位", "95th percentile"),
    "max": ("最大", "Max"),
    "by_street": ("分街道/镇", "By street/town"),
    # Responsibility grids
    "sec_resp": ("责任网格规模与工作量", "Responsibility grid sizes and workload"),
    "resp_note": ("每个责任网格所含单元网格数与其密度标准对照；工作量按街道/镇比较均衡程度"
                  "（变异系数越小越均衡）。",
                  "Unit grids per responsibility grid against its density band; workload "
                  "balance per street/town (a smaller coefficient of variation is more even)."),
    "units_per_rgrid": ("单元网格数/责任网格", "Unit grids per responsibility grid"),
    "density": ("密度", "Density"),
    "dense": ("密集", "dense"),
    "sparse": ("一般", "sparse"),
    "workload": ("工作量", "Workload"),
    "workload_cv": ("工作量变异系数", "Workload CV"),
    "workload_ratio": ("最大/最小", "Max/min"),
    "workload_rel": ("工作量 / 街道平均", "Workload / street mean"),
    "units_mean": ("平均单元网格数", "Mean unit grids"),
    "in_band_share": ("符合标准", "In band"),
    # Components
    "sec_components": ("部件", "Components"),
    "components_note": ("按大类、小类和所在单元网格统计的部件数。",
                        "Components per major and minor class and per unit grid."),
    "major_class": ("大类", "Major class"),
    "minor_class": ("小类", "Minor class"),
    "class_code": ("代码", "Code"),
    "class_name": ("名称", "Name"),
    "per_grid": ("每个单元网格的部件数", "Components per unit grid"),
    "per_grid_events": ("每个单元网格的事件数", "Events per unit grid"),
    "grids_with": ("有部件的网格", "Grids with components"),
    "grids_without": ("无部件的网格", "Grids without components"),
    "grids_with_events": ("有事件的网格", "Grids with events"),
    "grids_without_events": ("无事件的网格", "Grids without events"),
    "top_grids_events": ("事件最多的单元网格", "Unit grids with most events"),
    "no_bgid": ("未落入单元网格", "Not in a unit grid"),
    "state": ("部件状态", "Component state"),
    "top_grids": ("部件最多的单元网格", "Unit grids with most components"),
    "rejects": ("未入库记录（按原因）", "Rejected rows (by reason)"),
    "reason": ("原因", "Reason"),
    # Events
    "sec_events": ("事件", "Events"),
    "events_note": ("按大类、小类和街道/镇统计的事件数。",
                    "Events per major and minor class and per street/town."),
    "by_month": ("按月份", "By month"),
    "month": ("月份", "Month"),
    # QA
    "sec_qa": ("普查与数据质检结果", "Census and data checks"),
    "qa_note": ("质检问题按规则和严重程度统计（qa_issue 图层）。",
                "QA issues by rule and severity (layer qa_issue)."),
    "rule": ("规则", "Rule"),
    "severity": ("严重程度", "Severity"),
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "command": ("命令", "Command"),
    "no_issues": ("没有质检问题。", "No QA issues."),
    "stale_title": ("过期结果", "Stale results"),
    "stale_note": ("下列结果生成后，其依据的图层又有改动：数字可能已不符，请重新运行相应命令。",
                   "The layers these results were computed from changed after them: their "
                   "figures may no longer hold; run the command again."),
    "stale_item": ("{result}：{changed} 在 gridkit {command} 之后有改动",
                   "{result}: {changed} changed after gridkit {command}"),
    # Spot check
    "sec_spotcheck": ("抽查验收", "Spot-check acceptance"),
    "spot_note": ("抽查估计值及其置信区间，与 96% 验收标准对照。",
                  "Spot-check estimates with their confidence intervals against the 96% "
                  "acceptance level."),
    "verdict": ("结论", "Verdict"),
    "pass": ("通过", "pass"),
    "fail": ("未通过", "fail"),
    "empty": ("无部件", "empty"),
    "accuracy": ("准确率", "Accuracy"),
    "completeness": ("完整率", "Completeness"),
    "estimate": ("估计值", "Estimate"),
    "interval": ("区间", "Interval"),
    "low": ("下限", "Low"),
    "high": ("上限", "High"),
    "level": ("层级", "Level"),
    "overall": ("总体", "overall"),
    "spot_grids": ("抽查网格明细", "Spot-checked grids"),
    "rows_shown": ("仅显示前 {n} 行，共 {total} 行；完整数据见 GeoPackage。",
                   "First {n} of {total} rows; the GeoPackage holds them all."),
    "acceptance": ("验收标准", "Acceptance level"),
    # Omissions
    "omitted_fields": ("地图中省略的字段（取值过多，见 GeoPackage）",
                       "Fields left out of the map (too many distinct values; see the "
                       "GeoPackage)"),
    "footer": ("由 gridkit {version} 生成。本页离线可用：不加载任何网络资源。",
               "Made by gridkit {version}. This page works offline: it loads nothing from "
               "the network."),
    "noscript": ("地图需要启用 JavaScript；下方数字与图表无需脚本。",
                 "The map needs JavaScript; the figures below do not."),
    # Map (sent to the script)
    "map.loading": ("正在加载地图……", "Loading the map…"),
    "map.layers": ("图层", "Layers"),
    "map.fit": ("全图", "Whole district"),
    "map.zoom_in": ("放大", "Zoom in"),
    "map.zoom_out": ("缩小", "Zoom out"),
    "map.search": ("查找编码或名称", "Find a code or name"),
    "map.not_found": ("未找到", "Not found"),
    "map.click_hint": ("点击地图查看要素属性与编码。", "Click the map to see a feature's "
                       "attributes and codes."),
    "map.selected": ("所选位置", "At this place"),
    "map.nearest": ("最近的 {n} 个", "Nearest {n}"),
    "map.cluster": ("此处聚合 {n} 个，放大可查看单个要素", "{n} here, grouped; zoom in for "
                    "single features"),
    "map.unit_colour": ("单元网格着色", "Colour unit grids by"),
    "map.colour_none": ("不着色", "nothing"),
    "map.colour_area": ("面积/目标面积", "area / target"),
    "map.colour_components": ("部件数", "components"),
    "map.colour_events": ("事件数", "events"),
    "map.colour_density": ("密度", "density"),
    "map.code_explain": ("编码解读", "Code"),
    "map.county": ("区县", "county"),
    "map.street": ("街道/镇", "street/town"),
    "map.community": ("社区/村", "community/village"),
    "map.serial": ("顺序码", "serial"),
    "map.major": ("大类", "major class"),
    "map.minor": ("小类", "minor class"),
    "map.scale": ("比例尺", "scale"),
    "map.zoom_for_grids": ("放大后显示单元网格边界", "zoom in to see unit grid outlines"),
    "map.more_fields": ("其余字段见 GeoPackage", "other fields: see the GeoPackage"),
    "map.no_js_decompress": ("此浏览器无法解压地图数据（需 Chrome 80、Firefox 113、Safari 16.4 "
                             "或更新版本）", "this browser cannot unpack the map (needs Chrome "
                             "80, Firefox 113, Safari 16.4 or newer)"),
    "map.nothing": ("此处没有要素。", "Nothing here."),
    "map.legend": ("图例", "Legend"),
    "rule_id": ("规则编号", "Rule id"),
    "qa_repeats": ("同一要素、同一规则重复记录的 {n} 条只计一次。",
                   "{n} repeated records (same rule, same feature) counted once."),
    "layer_context_road": ("道路（底图）", "Roads (context)"),
    "layer_context_water": ("水系（底图）", "Water (context)"),
    "layer_context_building": ("建筑（底图）", "Buildings (context)"),
}

# Field names of the spot-check layers (and other tables shown as they are).
_FIELDS: dict[str, tuple[str, str]] = {
    "LEVEL": ("层级", "Level"), "KEY": ("代码", "Code"), "NAME": ("名称", "Name"),
    "BGID": ("单元网格", "Unit grid"), "STRATUM": ("抽样层", "Stratum"),
    "CHECKED": ("核查数", "Checked"), "CORRECT": ("正确数", "Correct"),
    "MISSING": ("漏查数", "Missing"), "EXTRA": ("多余数", "Extra"),
    "WRONG_POSITION": ("位置错误", "Wrong position"), "WRONG_CLASS": ("类别错误", "Wrong class"),
    "WRONG_ATTRIBUTE": ("属性错误", "Wrong attribute"), "SAMPLED": ("抽查数", "Sampled"),
    "GRIDS": ("网格数", "Grids"), "COMPONENTS": ("部件数", "Components"),
    "ACCURACY": ("准确率", "Accuracy"), "ACC_LOW": ("准确率下限", "Accuracy low"),
    "ACC_HIGH": ("准确率上限", "Accuracy high"),
    "ACCURACY_LOW": ("准确率下限", "Accuracy low"),
    "ACCURACY_HIGH": ("准确率上限", "Accuracy high"),
    "COMPLETENESS": ("完整率", "Completeness"),
    "COMPLETENESS_LOW": ("完整率下限", "Completeness low"),
    "COMPLETENESS_HIGH": ("完整率上限", "Completeness high"),
    "COMP_LOW": ("完整率下限", "Completeness low"),
    "COMP_HIGH": ("完整率上限", "Completeness high"),
    "TARGET": ("验收标准", "Target"), "VERDICT": ("结论", "Verdict"),
    "NOTE": ("备注", "Note"), "METHOD": ("方法", "Method"),
    "DESIGN_EFFECT": ("设计效应", "Design effect"),
}


def strings(lang: str) -> dict[str, str]:
    """Every label in ``lang`` ("zh" or "en")."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGS)}")
    column = LANGS.index(lang)
    return {key: pair[column] for key, pair in _STRINGS.items()}


def map_strings(lang: str) -> dict[str, str]:
    """The labels the map script needs, without their ``map.`` prefix."""
    return {key[4:]: text for key, text in strings(lang).items() if key.startswith("map.")}


def rule_label(rule: str, lang: str) -> str:
    """A QA rule id (current or old, :data:`gridkit.qa.RULES`) as words in ``lang``.

    Ids gridkit does not know (a newer rule, a reject's free-text reason) come back as they
    are.

    Parameters
    ----------
    rule : str
        The rule id.
    lang : str
        ``zh`` or ``en``.

    Returns
    -------
    str

    Examples
    --------
    >>> rule_label("duplicate-objcode", "zh")
    '部件标识码重复'
    >>> rule_label("admin_gap", "en")
    'gap between communities'
    """
    try:
        return qa.rule(str(rule)).label(lang)
    except qa.UnknownRule:
        return str(rule)


def field_label(name: str, lang: str) -> str:
    """A spot-check (or other table's) field name as a column header in ``lang``.

    Examples
    --------
    >>> field_label("ACC_LOW", "zh")
    '准确率下限'
    >>> field_label("OTHER", "zh")
    'OTHER'
    """
    pair = _FIELDS.get(str(name).upper())
    return pair[LANGS.index(lang)] if pair else str(name)
