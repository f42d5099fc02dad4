"""Assemble the one HTML file: header, map, figure sections, inline CSS, data and script.

Every value from the GeoPackage is escaped here or in :mod:`gridkit.report.charts`; the map
script shows user text with ``textContent`` only. The page declares a Content-Security-Policy
that forbids loading anything, so it cannot reach the network even by accident.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files

from gridkit import __version__
from gridkit.io import run_time
from gridkit.report import charts, palette
from gridkit.report.charts import number
from gridkit.report.i18n import strings
from gridkit.report.mapdata import MapData

MAX_ROWS = 200  # rows of a detail table; the GeoPackage has the rest
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; connect-src data: blob:")


class Raw(str):
    """Markup made here (a colour swatch), not user data: inserted without escaping."""


def esc(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    return escape("" if value is None else str(value), quote=True)


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def swatch(colour: str) -> Raw:
    return Raw(f'<span class="sw" style="background:{escape(colour, quote=True)}"></span>')


def table(headers: list[str], rows: list[list], numeric: set[int] | None = None,
          caption: str | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th{" class=num" if k in numeric else ""}>{esc(h)}</th>'
                   for k, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if k in numeric else ""}>{esc(v)}</td>'
                         for k, v in enumerate(row)) + "</tr>"
        for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure(chart: str, *tables: str) -> str:
    return f'<div class="fig"><div class="chart-box">{chart}</div>' \
           f'<div class="tables">{"".join(tables)}</div></div>'


def section(anchor: str, title: str, note: str, *content: str) -> str:
    return (f'<section id="{anchor}"><h2>{esc(title)}</h2><p class="note">{esc(note)}</p>'
            + "".join(content) + "</section>")


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return files("gridkit.report").joinpath(f"static/{name}").read_text(encoding="utf-8")


def render(figures: dict, map_data: MapData, lang: str) -> str:
    w = strings(lang)
    sections = [
        overview_section(figures, w),
        map_section(map_data, w),
        unit_area_section(figures["unit_areas"], w),
    ]
    if figures.get("responsibility"):
        sections.append(responsibility_section(figures["responsibility"], w))
    points = figures.get("points", {})
    if "component" in points:
        sections.append(points_section("component", points["component"], w, lang,
                                       figures.get("rejects", {}).get("component_reject")))
    if "event" in points:
        sections.append(points_section("event", points["event"], w, lang,
                                       figures.get("rejects", {}).get("event_reject")))
    sections.append(qa_section(figures.get("qa"), w))
    if figures.get("spotcheck"):
        sections.append(spotcheck_section(figures["spotcheck"], w))
    if figures.get("runs"):
        sections.append(runs_section(figures["runs"], w))
    nav = "".join(f'<a href="#{anchor}">{esc(label)}</a>' for anchor, label in _nav(figures, w))
    html_lang = "zh-CN" if lang == "zh" else "en"
    footer = w["footer"].format(version=__version__)
    return "".join([
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(w['title'])} · {esc(figures['overview']['name'])}</title>",
        f"<style>{_asset('report.css')}</style></head><body>",
        f'<header><h1>{esc(w["title"])}</h1><nav>{nav}</nav></header><main>',
        *sections,
        f'</main><footer>{esc(footer)}</footer>',
        f'<script type="application/json" id="gk-header">{_script_json(map_data.header)}'
        "</script>",
        f'<script type="application/octet-stream" id="gk-data">{map_data.payload}</script>',
        f"<script>{_asset('inflate.js')}\n{_asset('map.js')}</script>",
        "</body></html>",
    ])


def _nav(figures: dict, w: dict) -> list[tuple[str, str]]:
    items = [("overview", w["overview"]), ("map", w["map"]), ("unit-areas", w["sec_unit_area"])]
    if figures.get("responsibility"):
        items.append(("responsibility", w["sec_resp"]))
    for name, key in (("component", "sec_components"), ("event", "sec_events")):
        if name in figures.get("points", {}):
            items.append((name, w[key]))
    items.append(("qa", w["sec_qa"]))
    if figures.get("spotcheck"):
        items.append(("spotcheck", w["sec_spotcheck"]))
    if figures.get("runs"):
        items.append(("runs", w["runs"]))
    return items


def overview_section(figures: dict, w: dict) -> str:
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
    card_html = "".join(f'<div class="card"><div class="v">{esc(v)}</div>'
                        f'<div class="k">{esc(k)}</div></div>' for k, v in cards)
    meta = table([w["source"], w["crs"], w["county"], w["generated"]],
                 [[o["source"], f"{o['crs']} · {o['crs_name']}", ", ".join(o["county"]),
                   generated]])
    layers = table([w["layer"], w["features"]],
                   [[f"{name} · {w.get('layer_' + name, name)}", f"{count:,}"]
                    for name, count in o["layers"].items()], {1})
    return (f'<section id="overview"><h2>{esc(w["overview"])} · {esc(o["name"])}</h2>'
            f'<div class="cards" id="gk-cards">{card_html}</div>'
            f'<div class="fig"><div class="tables">{meta}</div>'
            f'<div class="tables">{layers}</div></div></section>')


def map_section(map_data: MapData, w: dict) -> str:
    omitted = ""
    if map_data.omitted:
        items = "; ".join(f"{name}: {', '.join(fields)}"
                          for name, fields in map_data.omitted.items())
        omitted = f'<p class="note">{esc(w["omitted_fields"])}: {esc(items)}</p>'
    return (f'<section id="map"><h2>{esc(w["map"])}</h2>'
            '<div id="gk-map" class="map"><div class="map-canvas" id="gk-canvas-box">'
            f'<canvas id="gk-canvas" aria-label="{esc(w["map"])}"></canvas>'
            f'<div class="map-status" id="gk-status">{esc(w["map.loading"])}</div>'
            '<div class="map-buttons" id="gk-buttons"></div></div>'
            '<aside class="map-side"><div id="gk-layers"></div>'
            f'<div id="gk-info" class="info"><p class="note">{esc(w["map.click_hint"])}</p>'
            f'</div></aside></div><noscript>{esc(w["noscript"])}</noscript>{omitted}'
            "</section>")


def unit_area_section(u: dict, w: dict) -> str:
    h = u["histogram"]
    target = u["target"]
    if u["single_target"]:
        xlabel, fmt = w["area_m2"], (lambda v: f"{v:,.0f}")
    else:
        xlabel, fmt = f"{w['area_m2']} / {w['target_area']}", (lambda v: f"{v:g}×")
    band_label = f"{w['band']} 0.5–2×"
    chart = charts.histogram(h["edges"], h["counts"], title=w["sec_unit_area"], xlabel=xlabel,
                             ylabel=w["grids"], band=tuple(h["band"]), band_label=band_label,
                             mark=h["target"], mark_label=w["target_area"], fmt=fmt)
    s = u["stats"]
    stats = table([w["value"], w["m2"]], [
        [w["grids"], f"{u['grids']:,}"],
        [w["target_area"], number(target)],
        *[[w[k], number(s[k])] for k in ("min", "p5", "median", "mean", "p95", "max") if k in s],
        [w["in_band"], pct(u["in_band"])],
        [w["below_band"], pct(u["below"])],
        [w["above_band"], pct(u["above"])],
    ], {1})
    streets = table([w["street"], w["grids"], w["median"], w["in_band"]],
                    [[r["street"], f"{r['grids']:,}", number(r["median"]), pct(r["in_band"])]
                     for r in u["streets"]], {1, 2, 3}, w["by_street"])
    return section("unit-areas", w["sec_unit_area"], w["unit_area_note"],
                   figure(chart, stats, streets))


def responsibility_section(r: dict, w: dict) -> str:
    parts = []
    for band in r["bands"]:
        limits = band["limits"]
        labels = [str(k) for k in band["histogram"]]
        values = list(band["histogram"].values())
        colours = [charts.BAR if limits and limits[0] <= k <= limits[1] else charts.MARK
                   for k in band["histogram"]]
        density = ", ".join(w.get(d, d) for d in band["density"])
        title = f"{w['band']} {band['band']}" + (f" ({density})" if density else "")
        chart = charts.columns(labels, values, title=title, xlabel=w["units_per_rgrid"],
                               ylabel=w["resp_grids"], colours=colours)
        info = table([w["value"], ""], [[w["band"], band["band"] or "–"],
                                        [w["density"], density or "–"],
                                        [w["resp_grids"], f"{band['grids']:,}"],
                                        [w["in_band_share"], pct(band["in_band"])]], {1},
                     title)
        parts.append(figure(chart, info))
    rows = [(s["street"], s["relative"]) for s in r["streets"]]
    chart = charts.boxes(rows, title=w["workload_rel"], xlabel=w["workload_rel"])
    streets = table(
        [w["street"], w["resp_grids"], w["units_mean"], w["in_band_share"], w["workload_cv"],
         w["workload_ratio"]],
        [[s["street"], f"{s['grids']:,}", number(s["units_mean"], 1), pct(s["in_band"]),
          number(s["workload_cv"], 3) if s["workload_cv"] is not None else "–",
          number(s["workload_ratio"], 2) if s["workload_ratio"] is not None else "–"]
         for s in r["streets"]], {1, 2, 3, 4, 5}, w["by_street"])
    parts.append(figure(chart, streets))
    return section("responsibility", w["sec_resp"], w["resp_note"], *parts)


def _class_name(entry: dict, lang: str) -> str:
    return entry["name"] if lang == "zh" else (entry.get("name_en") or entry["name"])


def points_section(name: str, p: dict, w: dict, lang: str, rejects: dict | None) -> str:
    majors = p["majors"]
    codes = [m["code"] for m in majors]
    rows = [(f"{m['code']} {_class_name(m, lang)}".strip() or w["other"], m["count"],
             palette.class_colour(m["code"], codes)) for m in majors]
    chart = charts.bars(rows, title=w["major_class"], xlabel=w["count"])
    total = max(p["count"], 1)
    major_table = table(
        ["", w["class_code"], w["class_name"], w["count"], w["share"]],
        [[swatch(palette.class_colour(m["code"], codes)), m["code"] or "–",
          _class_name(m, lang), f"{m['count']:,}", pct(m["count"] / total)] for m in majors],
        {3, 4}, w["major_class"])
    minors = p["minors"]
    minor_table = table([w["class_code"], w["class_name"], w["count"], w["share"]],
                        [[m["code"] or "–", _class_name(m, lang), f"{m['count']:,}",
                          pct(m["count"] / total)] for m in minors[:MAX_ROWS]],
                        {2, 3}, w["minor_class"])
    h = p["per_grid_histogram"]
    per_grid_label = w["per_grid"] if name == "component" else w["per_grid_events"]
    grid_chart = charts.columns(h["labels"], h["counts"], title=per_grid_label,
                                xlabel=per_grid_label, ylabel=w["grids"])
    s = p["per_grid_stats"]
    suffix = "" if name == "component" else "_events"
    grid_table = table([w["value"], w["count"]], [
        [w["grids_with" + suffix], f"{p['grids_with']:,}"],
        [w["grids_without" + suffix], f"{p['grids_without']:,}"],
        [w["no_bgid"], f"{p['not_in_grid']:,}"],
        *[[w[k], number(s[k], 1)] for k in ("median", "mean", "p95", "max") if k in s],
    ], {1}, per_grid_label)
    top = table(["BGID", w["count"]], [[t["bgid"], f"{t['count']:,}"] for t in p["top_grids"]],
                {1}, w["top_grids" + ("" if name == "component" else "_events")])
    content = [figure(chart, major_table), figure(grid_chart, grid_table, top),
               f'<div class="fig"><div class="tables">{minor_table}</div>']
    extra = []
    if p.get("states"):
        extra.append(table([w["state"], w["count"]],
                           [[r["state"] or "–", f"{r['count']:,}"] for r in p["states"]],
                           {1}, w["state"]))
    if p.get("streets"):
        extra.append(table([w["street"], w["count"]],
                           [[r["street"] or "–", f"{r['count']:,}"] for r in p["streets"]],
                           {1}, w["by_street"]))
    if rejects:
        extra.append(table([w["reason"], w["count"]],
                           [[r["reason"] or "–", f"{r['count']:,}"] for r in rejects["reasons"]],
                           {1}, f"{w['rejects']} · {rejects['count']:,}"))
    content.append(f'<div class="tables">{"".join(extra)}</div></div>')
    if p.get("months"):
        months = p["months"]
        content.append(figure(
            charts.columns([m["month"] for m in months], [m["count"] for m in months],
                           title=w["by_month"], xlabel=w["month"], ylabel=w["count"]),
            table([w["month"], w["count"]], [[m["month"], f"{m['count']:,}"] for m in months],
                  {1})))
    key = "sec_components" if name == "component" else "sec_events"
    note = "components_note" if name == "component" else "events_note"
    return section(name, w[key], w[note], *content)


def qa_section(q: dict | None, w: dict) -> str:
    if not q or not q["count"]:
        return section("qa", w["sec_qa"], w["qa_note"], f'<p>{esc(w["no_issues"])}</p>')
    series = [(w["error"], palette.SEVERITY["error"]), (w["warning"], palette.SEVERITY["warning"]),
              (w["other"], palette.OTHER)]
    has_other = any(r["other"] for r in q["rules"])
    if not has_other:
        series = series[:2]
    rows = [(f"{r['rule']} · {r['layer']}",
             [r["error"], r["warning"], r["other"]][:len(series)]) for r in q["rules"][:30]]
    chart = charts.stacked_bars(rows, series, title=w["sec_qa"], xlabel=w["count"])
    detail = table([w["rule"], w["layer"], w["error"], w["warning"], w["total"]],
                   [[r["rule"], r["layer"], f"{r['error']:,}", f"{r['warning']:,}",
                     f"{r['total']:,}"] for r in q["rules"]], {2, 3, 4})
    totals = table([w["severity"], w["count"]], [[w["error"], f"{q['error']:,}"],
                                                  [w["warning"], f"{q['warning']:,}"],
                                                  [w["total"], f"{q['count']:,}"]], {1})
    commands = table([w["command"], w["count"]],
                     [[k, f"{v:,}"] for k, v in q["commands"].items()], {1})
    return section("qa", w["sec_qa"], w["qa_note"], figure(chart, totals, detail, commands))


def spotcheck_section(s: dict, w: dict) -> str:
    level = s["acceptance"]
    parts = []
    overall = s.get("overall")
    if overall:
        verdict = str(overall.get("VERDICT", ""))
        colour = palette.VERDICT.get(verdict, palette.OTHER)
        parts.append(f'<p class="verdict" style="border-color:{colour}">{esc(w["verdict"])}: '
                     f'<strong style="color:{colour}">{esc(w.get(verdict, verdict))}</strong>'
                     f'</p>')
    if s.get("summary"):
        triples = s["summary_intervals"]
        rows = []
        for record in s["summary"]:
            label = " ".join(str(record.get(k) or "") for k in ("LEVEL", "KEY", "NAME")
                             if record.get(k)).strip()
            label = label.replace("overall", w["overall"])
            for estimate, low, high in triples:
                colour = palette.VERDICT.get(str(record.get("VERDICT", "")), charts.BAR)
                rows.append((f"{label} · {_field_label(estimate, w)}", record.get(estimate),
                             record.get(low), record.get(high), colour))
        if rows:
            chart = charts.intervals(rows[:40], title=w["sec_spotcheck"],
                                     xlabel=f"{w['estimate']} / {w['interval']}",
                                     reference=level,
                                     reference_label=f"{w['acceptance']} {level:.0%}")
            parts.append(figure(chart, _generic_table(s["summary_columns"], s["summary"], w)))
        else:
            parts.append(_generic_table(s["summary_columns"], s["summary"], w))
    if s.get("result") is not None:
        if s.get("verdicts"):
            colours = [palette.VERDICT.get(k, palette.OTHER) for k in s["verdicts"]]
            chart = charts.columns([w.get(k, k) or "–" for k in s["verdicts"]],
                                   list(s["verdicts"].values()), title=w["verdict"],
                                   xlabel=w["verdict"], ylabel=w["grids"], colours=colours)
            parts.append(figure(chart, table([w["verdict"], w["grids"]],
                                             [[w.get(k, k), f"{v:,}"]
                                              for k, v in s["verdicts"].items()], {1})))
        triples = s["result_intervals"]
        if triples and len(s["result"]) <= 40:
            estimate, low, high = triples[0]
            rows = [(str(r.get("BGID", k)), r.get(estimate), r.get(low), r.get(high),
                     palette.VERDICT.get(str(r.get("VERDICT", "")), charts.BAR))
                    for k, r in enumerate(s["result"])]
            parts.append(f'<div class="chart-box">'
                         f'{charts.intervals(rows, title=w["spot_grids"], xlabel=estimate, reference=level, reference_label=f"{level:.0%}")}'  # noqa: E501
                         "</div>")
        parts.append(f'<h3>{esc(w["spot_grids"])}</h3>'
                     + _generic_table(s["result_columns"], s["result"], w))
    return section("spotcheck", w["sec_spotcheck"], w["spot_note"], *parts)


def _field_label(name: str, w: dict) -> str:
    return {"ACCURACY": w["accuracy"], "COMPLETENESS": w["completeness"]}.get(name, name)


def _generic_table(columns: list[str], records: list[dict], w: dict) -> str:
    """Any layer's rows as they are: its own field names, every value escaped."""
    shown = records[:MAX_ROWS]
    numeric = {k for k, c in enumerate(columns)
               if all(isinstance(r.get(c), int | float) or r.get(c) is None for r in shown)}

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
        return "" if value is None else str(value)

    body = table(columns, [[cell(r.get(c)) for c in columns] for r in shown], numeric)
    note = ""
    if len(records) > MAX_ROWS:
        note = f'<p class="note">{esc(w["rows_shown"].format(n=MAX_ROWS, total=len(records)))}</p>'
    return f'<div class="wide">{body}</div>{note}'


def runs_section(runs: list[dict], w: dict) -> str:
    rows = [[r.get("TIME", ""), r.get("VERSION", ""), r.get("COMMAND", ""),
             r.get("PARAMETERS", "")] for r in runs[-MAX_ROWS:]]
    body = table([w["run_time"], w["run_version"], w["run_command"], w["run_parameters"]], rows)
    return (f'<section id="runs"><h2>{esc(w["runs"])}</h2><div class="wide params">{body}'
            "</div></section>")
