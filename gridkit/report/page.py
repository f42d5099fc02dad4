"""Assemble the one HTML file from a Jinja2 template (``templates/page.html.j2``).

Autoescape is on, so every value from the GeoPackage is escaped by Jinja2; charts are SVG
made by matplotlib (which escapes its text), and the map script shows user text with
``textContent`` only. The page declares a Content-Security-Policy that allows nothing from the
network: the vendored map library is inlined, and the map data (base64 of one gzip stream) comes
in pieces that a ``blob:`` worker inflates while the browser is still reading the page.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import jinja2
from markupsafe import Markup

from gridkit import __version__
from gridkit.io import run_time
from gridkit.report import charts, palette
from gridkit.report.charts import number
from gridkit.report.i18n import field_label, rule_label, strings
from gridkit.report.mapdata import MapData

MAX_ROWS = 200  # rows of a detail table; the GeoPackage has the rest
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; connect-src data: blob:; worker-src blob:")
# OpenLayers, the part the map uses, bundled from the npm registry's ol@10.11.0 (static/vendor,
# with its licence and the bundle's entry module beside it; README.md has the build command).
LIBRARY = "ol-10.11.0-subset.min.js"
LIBRARY_CSS = "ol-10.11.0.css"
# Characters of base64 per piece of map data (a multiple of 4, so each piece decodes alone):
# the worker starts inflating the first piece while the browser still reads the others.
PIECE = 1 << 21


@dataclass
class Swatch:
    """A colour square in a table cell (the template draws it)."""

    colour: str


@dataclass
class Table:
    """A table of the page.

    Attributes
    ----------
    headers : list of str
        Column headers.
    rows : list of list
        The cells.
    numeric : set of int
        Columns right-aligned as numbers.
    caption : str
        Caption above.
    wide : bool
        Spans the page's width.
    note : str
        Note below.
    """

    headers: list[str]
    rows: list[list]
    numeric: set[int] = field(default_factory=set)
    caption: str = ""
    wide: bool = False
    note: str = ""


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage; "–" when missing.

    Examples
    --------
    >>> pct(0.1234)
    '12.3%'
    """
    return "–" if value is None else f"{value:.{digits}%}"


# The charts drawn while a page renders, kept for ``--png`` (one drawing, two formats).
_DRAWN: ContextVar[list | None] = ContextVar("drawn_charts", default=None)


def figure(chart, *tables: Table) -> dict:
    """A chart (a matplotlib figure, inlined as SVG) with its tables beside it."""
    drawn = _DRAWN.get()
    if chart is not None and drawn is not None:
        drawn.append(chart)
    return {"kind": "figure", "chart": Markup(charts.svg(chart)) if chart is not None else None,
            "tables": list(tables)}


def section(anchor: str, title: str, note: str, *blocks: dict) -> dict:
    """One section of the page: anchor, title, note and its blocks."""
    return {"id": anchor, "title": title, "note": note, "blocks": list(blocks)}


def script_json(value: object) -> Markup:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _asset(name: str) -> str:
    return files("gridkit.report").joinpath(f"static/{name}").read_text(encoding="utf-8")


@cache
def _library() -> str:
    """The vendored OpenLayers subset, safe to inline in a <script> element."""
    code = _asset(f"vendor/{LIBRARY}")
    if "</script" in code.lower() or "<!--" in code:
        raise ValueError(f"static/vendor/{LIBRARY} cannot be inlined: it contains '</script' "
                         "or '<!--'; rebuild it (gridkit/report/README.md)")
    return code


def pieces(payload: str, size: int | None = None) -> list[str]:
    """The base64 payload cut into pieces of ``size`` characters (a multiple of 4).

    Parameters
    ----------
    payload : str
        Base64 text of the gzipped map data.
    size : int, optional
        Characters per piece, a multiple of 4; :data:`PIECE` (2 Mi) by default.

    Returns
    -------
    list of str
        At least one piece; joined, they are ``payload``.

    Raises
    ------
    ValueError
        If ``size`` is not a positive multiple of 4.

    Examples
    --------
    >>> pieces("QUJDREVGR0g=", 8)
    ['QUJDREVG', 'R0g=']
    """
    size = PIECE if size is None else size
    if size <= 0 or size % 4:
        raise ValueError(f"size must be a positive multiple of 4 characters, not {size}")
    return [payload[k:k + size] for k in range(0, len(payload), size)] or [""]


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("gridkit.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    environment.tests["swatch"] = lambda value: isinstance(value, Swatch)
    return environment


class Labels:
    """Street and community codes with their names beside them, as the tables show them."""

    def __init__(self, figures: dict):
        self.streets = figures["overview"].get("street_names", {})
        self.communities = figures["overview"].get("community_names", {})

    def street(self, code: object) -> str:
        """A street/town code with its name (``310116001 东林街道``), or "–"."""
        code = "" if code is None else str(code)
        name = self.streets.get(code) or self.communities.get(code, "")
        return f"{code} {name}".strip() if code else "–"


def render(figures: dict, map_data: MapData, lang: str,
           drawn: list | None = None) -> str:
    """The whole page as one string; each chart's figure is appended to ``drawn`` if given."""
    token = _DRAWN.set(drawn)
    try:
        return _render(figures, map_data, lang)
    finally:
        _DRAWN.reset(token)


def _render(figures: dict, map_data: MapData, lang: str) -> str:
    w = strings(lang)
    names = Labels(figures)
    sections = [overview_section(figures, w),
                *([stale_section(figures["stale"], w)] if figures.get("stale") else []),
                section("map", w["map"], ""),
                unit_area_section(figures["unit_areas"], w, names)]
    if figures.get("responsibility"):
        sections.append(responsibility_section(figures["responsibility"], w, names))
    points = figures.get("points", {})
    for name in ("component", "event"):
        if name in points:
            sections.append(points_section(name, points[name], w, lang, names,
                                           figures.get("rejects", {}).get(f"{name}_reject")))
    sections.append(qa_section(figures.get("qa"), w, lang))
    if figures.get("spotcheck"):
        sections.append(spotcheck_section(figures["spotcheck"], w, lang, names))
    if figures.get("runs"):
        sections.append(runs_section(figures["runs"], w))
    omitted = "; ".join(f"{name}: {', '.join(fields)}"
                        for name, fields in map_data.omitted.items())
    # Every stream in pieces numbered through the page; the opening stream's before the map
    # script, the others after it (the map is drawn while the browser still reads them).
    streams, numbered, k = [], [], 0
    for stream, payload in zip(map_data.header["streams"], map_data.payloads, strict=True):
        cut = pieces(payload)
        streams.append({**stream, "pieces": [k, len(cut)]})
        numbered.append([{"k": k + j, "text": Markup(p)} for j, p in enumerate(cut)])
        k += len(cut)
    return _environment().get_template("page.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en", csp=Markup(CSP), w=w,
        title=f"{figures['overview']['name']} · {w['title']}",
        css=Markup(_asset(f"vendor/{LIBRARY_CSS}") + "\n" + _asset("report.css")),
        sections=sections, omitted=omitted,
        nav=[(s["id"], s["title"]) for s in sections],
        footer=w["footer"].format(version=__version__),
        header_json=script_json({**map_data.header, "streams": streams, "pieces": k}),
        opening=numbered[0], later=[p for stream in numbered[1:] for p in stream],
        unpack=Markup(_asset("unpack.js")),
        script=Markup(_library() + ";\n" + _asset("map.js")))


def stale_section(stale: list[dict], w: dict) -> dict:
    """The results whose inputs changed after them (they are shown, but not to be trusted)."""
    return section("stale", w["stale_title"], w["stale_note"], *(
        {"kind": "text", "text": w["stale_item"].format(
            result=s["result"], command=s["command"], changed=", ".join(s["changed"]))}
        for s in stale))


def overview_section(figures: dict, w: dict) -> dict:
    """The overview section: cards with the district's figures."""
    o = figures["overview"]
    generated = run_time().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    cards = [(w["district_area"], f"{o['area_km2']:,.2f} {w['km2']}"),
             (w["streets"], f"{o['streets']:,}"),
             (w["communities"], f"{o['layers'].get('community', 0):,}"),
             (w["unit_grids"], f"{o['layers'].get('unit_grid', 0):,}")]
    for layer, key in (("responsibility_grid", "resp_grids"), ("component", "components"),
                       ("event", "events"), ("qa_issue", "qa_issues")):
        if layer in o["layers"]:
            cards.append((w[key], f"{o['layers'][layer]:,}"))
    meta = Table([w["source"], w["crs"], w["county"], w["generated"]],
                 [[o["source"], f"{o['crs']} · {o['crs_name']}", ", ".join(o["county"]),
                   generated]])
    layers = Table([w["layer"], w["features"]],
                   [[f"{name} · {w.get('layer_' + name, name)}", f"{count:,}"]
                    for name, count in o["layers"].items()], {1})
    streets = Table([w["street"], w["communities"]],
                    [[f"{code} {name}".strip(), f"{o['street_communities'].get(code, 0):,}"]
                     for code, name in o["street_list"]], {1})
    return section("overview", w["overview"], "", {"kind": "cards", "cards": cards},
                   {"kind": "figure", "chart": None, "tables": [meta, streets]},
                   {"kind": "figure", "chart": None, "tables": [layers]})


def unit_area_section(u: dict, w: dict, names: Labels) -> dict:
    """The unit grid area section: histogram against the target and the outliers."""
    h = u["histogram"]
    if u["single_target"]:
        xlabel, fmt = w["area_m2"], (lambda v: f"{v:,.0f}")
    else:
        xlabel, fmt = f"{w['area_m2']} / {w['target_area']}", (lambda v: f"{v:g}×")
    chart = charts.histogram(h["edges"], h["counts"], title=w["sec_unit_area"], xlabel=xlabel,
                             ylabel=w["grids"], band=tuple(h["band"]),
                             band_label=f"{w['band']} 0.5–2×", mark=h["target"],
                             mark_label=w["target_area"], fmt=fmt)
    s = u["stats"]
    stats = Table([w["value"], w["m2"]], [
        [w["grids"], f"{u['grids']:,}"],
        [w["target_area"], number(u["target"])],
        *[[w[k], number(s[k])] for k in ("min", "p5", "median", "mean", "p95", "max") if k in s],
        [w["in_band"], pct(u["in_band"])],
        [w["below_band"], pct(u["below"])],
        [w["above_band"], pct(u["above"])],
    ], {1})
    streets = Table([w["street"], w["grids"], w["median"], w["in_band"]],
                    [[names.street(r["street"]), f"{r['grids']:,}", number(r["median"]),
                      pct(r["in_band"])] for r in u["streets"]], {1, 2, 3}, w["by_street"])
    return section("unit-areas", w["sec_unit_area"], w["unit_area_note"],
                   figure(chart, stats, streets))


def responsibility_section(r: dict, w: dict, names: Labels) -> dict:
    """The responsibility grid section: unit grids per responsibility grid, by band."""
    blocks = []
    for band in r["bands"]:
        limits = band["limits"]
        colours = [charts.BAR if limits and limits[0] <= k <= limits[1] else charts.MARK
                   for k in band["histogram"]]
        density = ", ".join(w.get(d, d) for d in band["density"])
        title = f"{w['band']} {band['band']}" + (f" ({density})" if density else "")
        chart = charts.columns([str(k) for k in band["histogram"]],
                               list(band["histogram"].values()), title=title,
                               xlabel=w["units_per_rgrid"], ylabel=w["resp_grids"],
                               colours=colours)
        info = Table([w["value"], ""], [[w["band"], band["band"] or "–"],
                                        [w["density"], density or "–"],
                                        [w["resp_grids"], f"{band['grids']:,}"],
                                        [w["in_band_share"], pct(band["in_band"])]], {1}, title)
        blocks.append(figure(chart, info))
    rows = [(names.street(s["street"]), s["relative"]) for s in r["streets"]]
    chart = charts.boxes(rows, title=w["workload_rel"], xlabel=w["workload_rel"])
    streets = Table(
        [w["street"], w["resp_grids"], w["units_mean"], w["in_band_share"], w["workload_cv"],
         w["workload_ratio"]],
        [[names.street(s["street"]), f"{s['grids']:,}", number(s["units_mean"], 1),
          pct(s["in_band"]),
          number(s["workload_cv"], 3) if s["workload_cv"] is not None else "–",
          number(s["workload_ratio"], 2) if s["workload_ratio"] is not None else "–"]
         for s in r["streets"]], {1, 2, 3, 4, 5}, w["by_street"])
    blocks.append(figure(chart, streets))
    return section("responsibility", w["sec_resp"], w["resp_note"], *blocks)


def _class_name(entry: dict, lang: str) -> str:
    return entry["name"] if lang == "zh" else (entry.get("name_en") or entry["name"])


def points_section(name: str, p: dict, w: dict, lang: str, names: Labels,
                   rejects: dict | None) -> dict:
    """The component or event section: major classes, grids and states, rejects."""
    majors = p["majors"]
    codes = [m["code"] for m in majors]
    rows = [(f"{m['code']} {_class_name(m, lang)}".strip() or w["other"], m["count"],
             palette.class_colour(m["code"], codes)) for m in majors]
    chart = charts.bars(rows, title=w["major_class"], xlabel=w["count"])
    total = max(p["count"], 1)
    major_table = Table(
        ["", w["class_code"], w["class_name"], w["count"], w["share"]],
        [[Swatch(palette.class_colour(m["code"], codes)), m["code"] or "–",
          _class_name(m, lang), f"{m['count']:,}", pct(m["count"] / total)] for m in majors],
        {3, 4}, w["major_class"])
    minor_table = Table([w["class_code"], w["class_name"], w["count"], w["share"]],
                        [[m["code"] or "–", _class_name(m, lang), f"{m['count']:,}",
                          pct(m["count"] / total)] for m in p["minors"][:MAX_ROWS]],
                        {2, 3}, w["minor_class"])
    h = p["per_grid_histogram"]
    per_grid_label = w["per_grid"] if name == "component" else w["per_grid_events"]
    grid_chart = charts.columns(h["labels"], h["counts"], title=per_grid_label,
                                xlabel=per_grid_label, ylabel=w["grids"])
    s = p["per_grid_stats"]
    suffix = "" if name == "component" else "_events"
    grid_table = Table([w["value"], w["count"]], [
        [w["grids_with" + suffix], f"{p['grids_with']:,}"],
        [w["grids_without" + suffix], f"{p['grids_without']:,}"],
        [w["no_bgid"], f"{p['not_in_grid']:,}"],
        *[[w[k], number(s[k], 1)] for k in ("median", "mean", "p95", "max") if k in s],
    ], {1}, per_grid_label)
    top = Table(["BGID", w["community"], w["count"]],
                [[t["bgid"], names.communities.get(t["bgid"][:12], ""), f"{t['count']:,}"]
                 for t in p["top_grids"]], {2}, w["top_grids" + suffix])
    extra = [minor_table]
    if p.get("states"):
        extra.append(Table([w["state"], w["count"]],
                           [[r["state"] or "–", f"{r['count']:,}"] for r in p["states"]],
                           {1}, w["state"]))
    if p.get("streets"):
        extra.append(Table([w["street"], w["count"]],
                           [[names.street(r["street"]), f"{r['count']:,}"]
                            for r in p["streets"]], {1}, w["by_street"]))
    if rejects:
        extra.append(Table([w["reason"], w["count"]],
                           [[rule_label(r["reason"], lang) or "–", f"{r['count']:,}"]
                            for r in rejects["reasons"]],
                           {1}, f"{w['rejects']} · {rejects['count']:,}"))
    blocks = [figure(chart, major_table), figure(grid_chart, grid_table, top),
              {"kind": "figure", "chart": None, "tables": extra}]
    if p.get("months"):
        months = p["months"]
        blocks.append(figure(
            charts.columns([m["month"] for m in months], [m["count"] for m in months],
                           title=w["by_month"], xlabel=w["month"], ylabel=w["count"]),
            Table([w["month"], w["count"]], [[m["month"], f"{m['count']:,}"] for m in months],
                  {1})))
    key = "sec_components" if name == "component" else "sec_events"
    note = "components_note" if name == "component" else "events_note"
    return section(name, w[key], w[note], *blocks)


def qa_section(q: dict | None, w: dict, lang: str) -> dict:
    """The QA section: issues by rule and severity."""
    if not q or not q["count"]:
        return section("qa", w["sec_qa"], w["qa_note"], {"kind": "text", "text": w["no_issues"]})
    series = [(w["error"], palette.SEVERITY["error"]),
              (w["warning"], palette.SEVERITY["warning"]), (w["other"], palette.OTHER)]
    if not any(r["other"] for r in q["rules"]):
        series = series[:2]
    rows = [(f"{rule_label(r['rule'], lang)} · {w.get('layer_' + r['layer'], r['layer'])}",
             [r["error"], r["warning"], r["other"]][:len(series)]) for r in q["rules"][:30]]
    chart = charts.stacked_bars(rows, series, title=w["sec_qa"], xlabel=w["count"])
    detail = Table([w["rule"], w["rule_id"], w["layer"], w["error"], w["warning"], w["total"]],
                   [[rule_label(r["rule"], lang), r["rule"],
                     w.get("layer_" + r["layer"], r["layer"]), f"{r['error']:,}",
                     f"{r['warning']:,}", f"{r['total']:,}"] for r in q["rules"]], {3, 4, 5})
    totals = Table([w["severity"], w["count"]], [[w["error"], f"{q['error']:,}"],
                                                  [w["warning"], f"{q['warning']:,}"],
                                                  [w["total"], f"{q['count']:,}"]], {1},
                   note=(w["qa_repeats"].format(n=q["repeats"]) if q.get("repeats") else ""))
    commands = Table([w["command"], w["count"]],
                     [[k, f"{v:,}"] for k, v in q["commands"].items()], {1})
    return section("qa", w["sec_qa"], w["qa_note"], figure(chart, totals, detail, commands))


def spotcheck_section(s: dict, w: dict, lang: str, names: Labels) -> dict:
    """The spot check section: verdict, accuracy and completeness with their intervals."""
    level = s["acceptance"]
    blocks: list[dict] = []
    overall = s.get("overall")
    if overall:
        verdict = str(overall.get("VERDICT", ""))
        blocks.append({"kind": "verdict", "label": w["verdict"], "text": w.get(verdict, verdict),
                       "colour": palette.VERDICT.get(verdict, palette.OTHER)})
    if s.get("summary"):
        rows = []
        for record in s["summary"]:
            key = names.street(record["KEY"]) if record.get("KEY") else ""
            name = str(record.get("NAME") or "")
            label = " ".join(str(v) for v in (record.get("LEVEL"), key,
                                              "" if name and name in key else name) if v)
            label = label.replace("overall", w["overall"]).replace("street", w["street"])
            for estimate, low, high in s["summary_intervals"]:
                colour = palette.VERDICT.get(str(record.get("VERDICT", "")), charts.BAR)
                rows.append((f"{label} · {field_label(estimate, lang)}", record.get(estimate),
                             record.get(low), record.get(high), colour))
        table = _generic_table(s["summary_columns"], s["summary"], w, lang, names)
        if rows:
            chart = charts.intervals(rows[:40], title=w["sec_spotcheck"],
                                     xlabel=f"{w['estimate']} / {w['interval']}",
                                     reference=level,
                                     reference_label=f"{w['acceptance']} {level:.0%}")
            blocks.append(figure(chart, table))
        else:
            blocks.append({"kind": "figure", "chart": None, "tables": [table]})
    if s.get("result") is not None:
        if s.get("verdicts"):
            colours = [palette.VERDICT.get(k, palette.OTHER) for k in s["verdicts"]]
            chart = charts.columns([w.get(k, k) or "–" for k in s["verdicts"]],
                                   list(s["verdicts"].values()), title=w["verdict"],
                                   xlabel=w["verdict"], ylabel=w["grids"], colours=colours)
            blocks.append(figure(chart, Table([w["verdict"], w["grids"]],
                                              [[w.get(k, k), f"{v:,}"]
                                               for k, v in s["verdicts"].items()], {1})))
        triples = s["result_intervals"]
        if triples and len(s["result"]) <= 40:
            estimate, low, high = triples[0]
            rows = [(str(r.get("BGID", k)), r.get(estimate), r.get(low), r.get(high),
                     palette.VERDICT.get(str(r.get("VERDICT", "")), charts.BAR))
                    for k, r in enumerate(s["result"])]
            blocks.append(figure(charts.intervals(
                rows, title=w["spot_grids"], xlabel=field_label(estimate, lang),
                reference=level, reference_label=f"{level:.0%}")))
        blocks.append({"kind": "heading", "text": w["spot_grids"]})
        blocks.append({"kind": "figure", "chart": None, "tables": [
            _generic_table(s["result_columns"], s["result"], w, lang, names)]})
    return section("spotcheck", w["sec_spotcheck"], w["spot_note"], *blocks)


def _generic_table(columns: list[str], records: list[dict], w: dict, lang: str,
                   names: Labels) -> Table:
    """Any layer's rows as they are, headed by the field's label (and its name) in ``lang``."""
    shown = records[:MAX_ROWS]
    numeric = {k for k, c in enumerate(columns)
               if all(isinstance(r.get(c), int | float) or r.get(c) is None for r in shown)}

    def cell(column: str, value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
        if column == "VERDICT":
            return w.get(str(value), str(value))
        if column == "LEVEL":
            return {"overall": w["overall"], "street": w["street"]}.get(str(value), str(value))
        if column == "KEY" and value:
            return names.street(value)
        if column == "BGID" and value:
            return f"{value} {names.communities.get(str(value)[:12], '')}".strip()
        return "" if value is None else str(value)

    note = (w["rows_shown"].format(n=MAX_ROWS, total=len(records))
            if len(records) > MAX_ROWS else "")
    return Table([field_label(c, lang) for c in columns],
                 [[cell(c, r.get(c)) for c in columns] for r in shown], numeric, wide=True,
                 note=note)


def runs_section(runs: list[dict], w: dict) -> dict:
    """The runs section: the commands that made the file."""
    rows = [[r.get("TIME", ""), r.get("VERSION", ""), r.get("COMMAND", ""),
             r.get("PARAMETERS", "")] for r in runs[-MAX_ROWS:]]
    return section("runs", w["runs"], "", {"kind": "figure", "chart": None, "tables": [
        Table([w["run_time"], w["run_version"], w["run_command"], w["run_parameters"]], rows,
              wide=True)]})
