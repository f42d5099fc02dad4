/* gridkit report map: thin glue between the page's packed typed arrays and OpenLayers (the part
   of it the map uses, vendored in static/vendor and inlined before this script; nothing is
   fetched). Coordinates stay in the
   GeoPackage's projected metres. Polygons and lines are OpenLayers vector layers on a 2D canvas
   (fast without a GPU); a million points are splatted straight from their typed arrays into an
   image layer. User text only ever reaches the page through textContent. */
(() => {
  'use strict';
  const errors = [];
  addEventListener('error', (e) => errors.push(String(e.message || e.error || e)));
  addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.message || e.reason)));
  const api = window.gridkitReport = { ready: false, errors, timing: {} };
  // Milliseconds since the navigation began, like readyMs (for the benchmark).
  const mark = (name) => { api.timing[name] = Math.round(performance.now()); };
  const $ = (id) => document.getElementById(id);
  const header = JSON.parse($('gk-header').textContent);
  const status = $('gk-status');
  const PICK_PX = 5;
  const A = {};
  let doc, map, layers = [], byId = {}, unitColour = 'none', highlight;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  const fmt = (v) => (typeof v === 'number'
    ? (Number.isFinite(v) ? numbers.format(v) : '')
    : v === null || v === undefined ? '' : String(v));
  const rgba = (hex, alpha) => `rgba(${[1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16))},${alpha})`;

  // ---- unpacking: done by unpack.js (a worker while the page is read) → typed arrays ---------
  // One stream's arrays (viewed in place) and its JSON document: the opening layers' ('map'),
  // or one layer's that comes after the map script (see fetchData).
  async function stream(name) {
    const buffer = await window.gridkitUnpack.done(name);
    const s = header.streams.find((x) => x.name === name);
    const kinds = { u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, i4: Int32Array,
      f4: Float32Array, f8: Float64Array };
    for (const [array, [kind, offset, n]] of Object.entries(s.arrays)) {
      A[array] = new kinds[kind](buffer, offset, n);
    }
    const [at, length] = s.json;
    return JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, at, length)));
  }

  // A layer drawn only from near zooms (unit grids, buildings) or off at the opening (points)
  // has its geometry and fields in a stream of its own, unpacked the first time they are
  // needed: drawn, clicked, searched or turned on.
  function fetchData(layer) {
    if (!layer.fetched) {
      layer.fetched = (layer.spec.stream ? stream(layer.spec.stream) : Promise.resolve(null))
        .then((detail) => {
          if (detail) Object.assign(layer.spec, detail.layer);
          layer.hasData = true;
          if (layer.refresh) layer.refresh(); // a point layer drawn empty while it waited
        });
    }
    return layer.fetched;
  }
  const fail = (e) => { errors.push(String(e?.message || e)); };

  // ---- columns: one value of one feature, as encode.py packed it -----------------------------
  function value(column, i) {
    const arr = A[column.arr];
    if (column.enc === 'num') return Number.isNaN(arr[i]) ? null : arr[i];
    if (column.enc === 'dict') return column.values[arr[i]];
    if (column.enc === 'split') {
      const head = column.values[arr[i]];
      return head === undefined ? null : head + String(A[column.tail][i]).padStart(column.width, '0');
    }
    return column.values[i];
  }
  const columnOf = (spec, name) => spec.columns.find((c) => c.name === name);
  const hasField = (spec, name) => (spec.fields || spec.columns.map((c) => c.name)).includes(name);
  const field = (spec, name, i) => {
    const column = columnOf(spec, name);
    return column ? value(column, i) : null;
  };

  // ---- geometry: delta-coded rings → OpenLayers geometries on flat coordinates ----------------
  function features(spec) {
    const g = spec.geom, F = A[g.features], R = A[g.rings], K = A[g.kinds], D = A[g.xy];
    const { MultiPolygon, MultiLineString, MultiPoint, GeometryCollection } = ol.geom;
    const { Polygon } = ol.geom;
    const [ox, oy] = doc.origin, step = doc.step, out = [];
    for (let f = 0; f < g.n; f++) {
      // Most features are polygons (kinds 1 and 3): written straight into one flat array.
      let total = 0, polygonal = F[f + 1] > F[f];
      for (let r = F[f]; r < F[f + 1]; r++) {
        if (K[r] !== 1 && K[r] !== 3) polygonal = false;
        total += R[r + 1] - R[r] + 1;
      }
      if (polygonal && K[F[f]] === 1) {
        const flat = new Array(2 * total), endss = [];
        let o = 0;
        for (let r = F[f]; r < F[f + 1]; r++) {
          const start = o;
          let x = 0, y = 0;
          for (let v = R[r]; v < R[r + 1]; v++) {
            x = v === R[r] ? D[2 * v] : x + D[2 * v];
            y = v === R[r] ? D[2 * v + 1] : y + D[2 * v + 1];
            flat[o++] = ox + x * step;
            flat[o++] = oy + y * step;
          }
          flat[o++] = flat[start];
          flat[o++] = flat[start + 1];
          if (K[r] === 1) endss.push([o]);
          else endss[endss.length - 1].push(o);
        }
        const feature = new ol.Feature(endss.length === 1 ? new Polygon(flat, 'XY', endss[0])
          : new MultiPolygon(flat, 'XY', endss));
        feature.gk = f;
        out.push(feature);
        continue;
      }
      const polygons = [], lines = [], points = [];
      for (let r = F[f]; r < F[f + 1]; r++) {
        const flat = [];
        let x = 0, y = 0;
        for (let v = R[r]; v < R[r + 1]; v++) {
          x = v === R[r] ? D[2 * v] : x + D[2 * v];
          y = v === R[r] ? D[2 * v + 1] : y + D[2 * v + 1];
          flat.push(ox + x * step, oy + y * step);
        }
        if (K[r] === 1 || K[r] === 3) flat.push(flat[0], flat[1]);
        if (K[r] === 1) polygons.push([flat]);
        else if (K[r] === 3 && polygons.length) polygons[polygons.length - 1].push(flat);
        else if (K[r] === 0) lines.push(flat);
        else if (K[r] === 2) points.push(flat);
      }
      const parts = [];
      if (polygons.length) {
        const flat = [], endss = [];
        for (const rings of polygons) {
          endss.push(rings.map((ring) => { flat.push(...ring); return flat.length; }));
        }
        parts.push(new MultiPolygon(flat, 'XY', endss));
      }
      if (lines.length) {
        const flat = [];
        parts.push(new MultiLineString(flat, 'XY', lines.map((l) => { flat.push(...l); return flat.length; })));
      }
      if (points.length) parts.push(new MultiPoint(points.flat(), 'XY'));
      if (!parts.length) continue;
      const feature = new ol.Feature(parts.length === 1 ? parts[0] : new GeometryCollection(parts));
      feature.gk = f;
      out.push(feature);
    }
    return out;
  }

  // ---- styles --------------------------------------------------------------------------------
  const UNIT_BINS = {
    ratio: { breaks: [0.5, 0.75, 1.25, 2], colours: ['#d7301f', '#fdae6b', '#c7e9c0', '#6baed6',
      '#756bb1'], labels: ['< 0.5×', '0.5–0.75×', '0.75–1.25×', '1.25–2×', '> 2×'] },
    count: { breaks: [1, 5, 20, 50], colours: ['#f7f7f7', '#fee391', '#fec44f', '#ec7014',
      '#993404'], labels: ['0', '1–4', '5–19', '20–49', '≥ 50'] },
  };

  function styleFunction(spec) {
    const { Style, Fill, Stroke, Circle, Text } = ol.style;
    const cache = new Map();
    const byColumn = (rule) => rule && rule.by && columnOf(spec, rule.by);
    // The columns are known once the layer's data is (features exist only after it).
    let fillColumn, strokeColumn, labels, known = false;
    const opacity = spec.opacity ?? 0.45;
    return (feature, resolution) => {
      if (!known) {
        fillColumn = byColumn(spec.fill);
        strokeColumn = byColumn(spec.strokeBy);
        labels = spec.labels && columnOf(spec, spec.labels);
        known = true;
      }
      const f = feature.gk;
      let fill = null;
      if (spec.id === 'unit_grid' && unitColour !== 'none') {
        const bins = UNIT_BINS[unitColour === 'ratio' ? 'ratio' : 'count'];
        const values = unitColour === 'ratio' ? A[spec.ratio] : A[columnOf(spec, unitColour).arr];
        fill = rgba(bins.colours[bins.breaks.filter((b) => values[f] >= b).length], 0.8);
      } else if (spec.fill) {
        const colour = fillColumn ? spec.fill.colours[value(fillColumn, f)] || '#bababa'
          : spec.fill.colour;
        fill = rgba(colour, opacity);
      }
      const stroke = strokeColumn ? spec.strokeBy.colours[value(strokeColumn, f)] || spec.stroke
        : spec.stroke;
      const text = labels && resolution < doc.labelResolution ? value(labels, f) : null;
      // Lines of 1 px while the unit grids are too small to outline, but for the communities'
      // (the top of the map's hierarchy, a few hundred): a browser without a GPU paints a 1 px
      // line several times faster than a wider one (a million-component district's outlines
      // took 0.23-0.52 s at 1.6-2 px against 0.05-0.09 s so).
      const thin = resolution > doc.gridSize / 6 && !spec.keepWidth;
      const width = thin ? Math.min(spec.width, 1) : spec.width;
      const key = `${fill}|${stroke}|${text}|${width}`;
      let style = cache.get(key);
      if (!style) {
        style = new Style({
          fill: fill ? new Fill({ color: fill }) : undefined,
          stroke: new Stroke({ color: stroke, width }),
          image: new Circle({ radius: 5, fill: new Fill({ color: stroke }),
            stroke: new Stroke({ color: '#ffffff', width: 1 }) }),
          text: text ? new Text({ text: String(text), font: `13px ${doc.font}`, overflow: true,
            fill: new Fill({ color: '#1d2731' }), stroke: new Stroke({ color: '#ffffff', width: 3 }) })
            : undefined,
        });
        if (cache.size < 5000) cache.set(key, style);
      }
      return style;
    };
  }

  // Unit grid outlines once a grid is 6 px wide, buildings once it is 25 px wide: before that
  // they grey out the map (and tens of thousands of features cost time for nothing).
  const outlineResolution = () => (unitColour === 'none' ? doc.gridSize / 6 : Infinity);

  function shapeLayer(layer) {
    const spec = layer.spec;
    // Features are made when the layer is first drawn, clicked or searched, not before.
    layer.load = () => {
      if (layer.loaded || !layer.hasData) return;
      layer.loaded = true;
      const t = performance.now();
      layer.source.addFeatures(features(spec));
      api.timing[`load ${spec.id}`] = Math.round(performance.now() - t);
    };
    layer.source = new ol.source.Vector({
      loader: () => (layer.hasData ? layer.load() : layer.ensure().catch(fail)) });
    const options = { source: layer.source, style: styleFunction(spec), visible: layer.visible,
      declutter: Boolean(spec.labels) };
    const olLayer = new ol.layer.Vector(options);
    if (spec.id === 'unit_grid') olLayer.setMaxResolution(outlineResolution());
    else if (spec.id === 'context_building') olLayer.setMaxResolution(doc.gridSize / 25);
    olLayer.gk = layer;
    return olLayer;
  }

  // A point layer: positions in map metres, drawn per pixel into an image layer.
  function pointLayer(layer) {
    const spec = layer.spec;
    layer.load = () => {
      if (layer.loaded || !layer.hasData) return;
      layer.loaded = true;
      const g = spec.geom, X = A[g.x], Y = A[g.y];
      layer.cls = A[spec.cls];
      layer.x = new Float64Array(g.n);
      layer.y = new Float64Array(g.n);
      for (let i = 0; i < g.n; i++) {
        layer.x[i] = g.origin[0] + X[i] * g.step;
        layer.y[i] = g.origin[1] + Y[i] * g.step;
      }
    };
    const canvas = document.createElement('canvas');
    const source = new ol.source.ImageCanvas({
      canvasFunction(extent, resolution, pixelRatio, size) {
        const [w, h] = size.map(Math.round);
        canvas.width = w;
        canvas.height = h;
        if (!layer.hasData) {
          layer.drawn = 0;
          layer.ensure().catch(fail);
          return canvas;
        }
        layer.load();
        const g = spec.geom, cls = layer.cls;
        const context = canvas.getContext('2d');
        const image = context.createImageData(w, h), px = new Uint32Array(image.data.buffer);
        const colours = spec.classes.map((c, k) => (layer.hidden.has(k) ? 0 : abgr(c.colour)));
        colours.push(layer.hidden.has(spec.classes.length) ? 0 : abgr('#555555'));
        const r = resolution / pixelRatio < 1 ? 2 : 1;
        const scale = pixelRatio / resolution, x0 = extent[0], y1 = extent[3];
        let n = 0;
        for (let i = 0; i < g.n; i++) {
          const colour = colours[cls[i]] ?? colours[colours.length - 1];
          if (!colour) continue;
          const cx = Math.round((layer.x[i] - x0) * scale), cy = Math.round((y1 - layer.y[i]) * scale);
          if (cx < r || cy < r || cx >= w - r || cy >= h - r) continue;
          n++;
          for (let dy = -r; dy <= r; dy++) px.fill(colour, (cy + dy) * w + cx - r, (cy + dy) * w + cx + r + 1);
        }
        layer.drawn = n;
        context.putImageData(image, 0, 0);
        return canvas;
      },
      ratio: 1,
    });
    layer.refresh = () => source.changed();
    const olLayer = new ol.layer.Image({ source, visible: layer.visible });
    olLayer.gk = layer;
    return olLayer;
  }

  function abgr(hex) {
    const [r, g, b] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
    return ((230 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }

  // ---- the side panel: layers, classes, unit grid colouring ----------------------------------
  function panel() {
    const box = $('gk-layers');
    box.replaceChildren(el('h4', doc.strings.layers));
    for (const layer of [...layers].reverse()) {
      const spec = layer.spec;
      const label = el('label');
      const input = el('input');
      input.type = 'checkbox';
      input.checked = layer.visible;
      input.dataset.layer = spec.id;
      input.onchange = () => api.setVisible(spec.id, input.checked).catch(fail);
      label.append(input, ` ${spec.title} (${fmt(spec.n)})`);
      box.append(label);
      if (spec.kind === 'points') {
        spec.classes.forEach((c, k) => {
          const sub = el('label', null, 'sub'), check = el('input');
          check.type = 'checkbox';
          check.checked = !layer.hidden.has(k);
          check.onchange = () => {
            layer.hidden[check.checked ? 'delete' : 'add'](k);
            layer.refresh();
          };
          const sw = el('span', null, 'sw');
          sw.style.background = c.colour;
          sub.append(check, sw, ` ${c.name} (${fmt(c.count)})`);
          box.append(sub);
        });
      }
    }
    const unit = byId.unit_grid.spec;
    const select = el('select');
    select.id = 'gk-unit-colour';
    const options = [['none', doc.strings.colour_none], ['ratio', doc.strings.colour_area]];
    for (const [name, key] of [['COMPONENTS', 'colour_components'], ['EVENTS', 'colour_events']]) {
      if (hasField(unit, name)) options.push([name, doc.strings[key]]);
    }
    for (const [name, text] of options) {
      const option = el('option', text);
      option.value = name;
      select.append(option);
    }
    select.value = unitColour;
    select.onchange = () => api.setUnitColour(select.value).catch(fail);
    box.append(el('div', doc.strings.unit_colour), select);
    if (unitColour !== 'none') {
      const bins = UNIT_BINS[unitColour === 'ratio' ? 'ratio' : 'count'];
      bins.colours.forEach((c, k) => {
        const row = el('div', null, 'sub'), sw = el('span', null, 'sw');
        sw.style.background = c;
        row.append(sw, ' ' + bins.labels[k]);
        box.append(row);
      });
    }
  }

  // ---- a click: everything under it, smallest first, with every field and its codes explained
  const ORDER = ['component', 'event', 'qa_issue', 'spotcheck_result', 'unit_grid',
    'responsibility_grid', 'community', 'context_building', 'context_water', 'context_road'];

  async function pickAt(pixel) {
    const coordinate = map.getCoordinateFromPixel(pixel);
    const resolution = map.getView().getResolution(), found = [], seen = new Set();
    await Promise.all(layers.filter((l) => l.visible).map((l) => l.ensure()));
    const add = (layer, feature) => {
      const id = `${layer.spec.id}:${feature}`;
      if (!seen.has(id)) { seen.add(id); found.push({ layer, feature }); }
    };
    for (const layer of layers) {
      if (!layer.visible) continue;
      if (layer.spec.kind === 'points') {
        nearest(layer, coordinate, PICK_PX * resolution).forEach((i) => add(layer, i));
      } else {
        layer.load();
        // Inside a polygon (whatever its style), or within a few pixels of a line or point.
        for (const f of layer.source.getFeaturesAtCoordinate(coordinate)) add(layer, f.gk);
        const box = ol.extent.buffer([...coordinate, ...coordinate], PICK_PX * resolution);
        layer.source.forEachFeatureIntersectingExtent(box, (f) => {
          const type = f.getGeometry().getType();
          if (type === 'MultiPolygon' || type === 'Polygon') return;
          const near = f.getGeometry().getClosestPoint(coordinate);
          if (Math.hypot(near[0] - coordinate[0], near[1] - coordinate[1]) <= PICK_PX * resolution) add(layer, f.gk);
        });
      }
    }
    found.sort((a, b) => ORDER.indexOf(a.layer.spec.id) - ORDER.indexOf(b.layer.spec.id));
    return found;
  }

  function nearest(layer, [x, y], radius, most = 5) {
    const hits = [];
    layer.load();
    const hidden = layer.hidden, other = layer.spec.classes.length;
    for (let i = 0; i < layer.x.length; i++) {
      const dx = layer.x[i] - x, dy = layer.y[i] - y;
      if (Math.abs(dx) > radius || Math.abs(dy) > radius) continue;
      if (hidden.has(Math.min(layer.cls[i], other))) continue;
      hits.push([dx * dx + dy * dy, i]);
    }
    return hits.sort((a, b) => a[0] - b[0]).slice(0, most).map((h) => h[1]);
  }

  function show(found) {
    const box = $('gk-info');
    box.replaceChildren(el('p', found.length ? doc.strings.selected : doc.strings.nothing, 'note'));
    for (const { layer, feature } of found) {
      const spec = layer.spec, key = spec.key ? field(spec, spec.key, feature) : null;
      const h = el('h4', `${spec.title}${key !== null ? ': ' : ''}`);
      if (key !== null) h.append(...worded(spec.key, key));
      h.dataset.layer = spec.id;
      if (key !== null) h.dataset.key = String(key);
      const dl = el('dl');
      for (const column of spec.columns) {
        const v = value(column, feature);
        if (v === null || v === undefined || v === '') continue;
        const dd = el('dd');
        dd.append(...worded(column.name, v));
        dl.append(el('dt', column.name), dd);
      }
      box.append(h, dl);
      for (const line of explain(spec.key, key)) box.append(el('div', line, 'code'));
    }
    const first = found.find((p) => p.layer.source);
    if (first) first.layer.load();
    highlight.getSource().clear();
    if (first) {
      const f = first.layer.source.getFeatures().find((x) => x.gk === first.feature);
      if (f) highlight.getSource().addFeature(new ol.Feature(f.getGeometry()));
    }
  }

  // A QA rule in words with its id in small type (部件标识码重复 duplicate-objcode); other
  // values as named() gives them.
  function worded(name, v) {
    const label = name === 'RULE' && doc.ruleLabels ? doc.ruleLabels[v] : undefined;
    if (label === undefined) return [named(v)];
    return [`${label} `, el('small', v, 'rule-id')];
  }

  // A code with its name beside it: 310116001001 → 310116001001 吕海居委会.
  function named(v) {
    const text = fmt(v);
    if (typeof v !== 'string') return text;
    if (/^\d{12}$/.test(v) && doc.communities[v]) return `${v} ${doc.communities[v]}`;
    if (/^\d{9}$/.test(v) && doc.streets[v]) return `${v} ${doc.streets[v]}`;
    return text;
  }

  function explain(name, code) {
    const s = doc.strings;
    if (typeof code !== 'string' || !/^\d+$/.test(code)) return [];
    const streetName = doc.streets[code.slice(0, 9)];
    const street = `${s.street} ${code.slice(6, 9)}${streetName ? ' ' + streetName : ''}`;
    const county = `${s.county} ${code.slice(0, 6)}`;
    if (name === 'BGID' && code.length === 15) {
      const community = doc.communities[code.slice(0, 12)] || '';
      return [`${s.code_explain}: ${county} · ${street} · ${s.community} ${code.slice(9, 12)} ${community} · ${s.serial} ${code.slice(12)}`];
    }
    if (name === 'RGID' && code.length >= 13) {
      return [`${s.code_explain}: ${county} · ${street} · ${s.serial} ${code.slice(9)}`];
    }
    if (name === 'CODE' && code.length === 12) {
      return [`${s.code_explain}: ${county} · ${street} · ${s.community} ${code.slice(9)}`];
    }
    if (name === 'OBJCODE' && code.length === 16) {
      const names = doc.classNames.component;
      return [`${s.code_explain}: ${county} · ${s.major} ${code.slice(6, 8)} ${names[code.slice(6, 8)] || ''} · ${s.minor} ${code.slice(8, 10)} ${names[code.slice(6, 10)] || ''} · ${s.serial} ${code.slice(10)}`];
    }
    return [];
  }

  function labelPoint(layer, f) {
    const spec = layer.spec;
    if (spec.kind === 'points') { layer.load(); return [layer.x[f], layer.y[f]]; }
    if (spec.label) {
      const x = A[spec.label.x][f], y = A[spec.label.y][f];
      return x === -(2 ** 31) ? null : [doc.origin[0] + x * doc.step, doc.origin[1] + y * doc.step];
    }
    layer.load();
    const feature = layer.source.getFeatures().find((x) => x.gk === f);
    return feature ? ol.extent.getCenter(feature.getGeometry().getExtent()) : null;
  }

  // ---- start ---------------------------------------------------------------------------------
  async function start() {
    if (typeof DecompressionStream !== 'function') throw new Error(header.noStream);
    mark('library');
    document.addEventListener('DOMContentLoaded', () => mark('page read'));
    doc = await stream('map');
    mark('data');
    const olLayers = [];
    for (const spec of doc.layers) {
      const layer = { spec, visible: spec.visible, hidden: new Set() };
      layer.ensure = () => fetchData(layer).then(() => layer.load());
      layers.push(layer);
      byId[spec.id] = layer;
      layer.ol = spec.kind === 'points' ? pointLayer(layer) : shapeLayer(layer);
      olLayers.push(layer.ol);
    }
    mark('layers');
    const { Style, Stroke } = ol.style;
    highlight = new ol.layer.Vector({ source: new ol.source.Vector(),
      style: new Style({ stroke: new Stroke({ color: '#00c8ff', width: 3 }) }) });
    olLayers.push(highlight);
    const [x0, y0, x1, y1] = doc.extent;
    const projection = new ol.proj.Projection({ code: 'GRIDKIT', units: 'm',
      extent: [x0 - (x1 - x0), y0 - (y1 - y0), x1 + (x1 - x0), y1 + (y1 - y0)] });
    const searchBox = el('input');
    searchBox.placeholder = doc.strings.search;
    searchBox.onkeydown = (e) => { if (e.key === 'Enter') api.find(searchBox.value).catch(fail); };
    $('gk-buttons').append(searchBox);
    map = new ol.Map({
      target: $('gk-canvas-box'), layers: olLayers,
      view: new ol.View({ projection, maxResolution: Math.max(x1 - x0, y1 - y0) / 64,
        minResolution: 0.02, constrainResolution: false }),
      controls: [new ol.control.Zoom({ zoomInTipLabel: doc.strings.zoom_in,
        zoomOutTipLabel: doc.strings.zoom_out }),
      new ol.control.ZoomToExtent({ extent: doc.extent, label: '⤢', tipLabel: doc.strings.fit }),
      new ol.control.ScaleLine({ units: 'metric' })],
    });
    map.on('singleclick', (e) => pickAt(e.pixel).then(show, fail));
    map.getView().on('change:resolution', () => { status.textContent = statusText(); });
    panel();
    fit();
    // The layers drawn at the opening view get their features now, so the first frame is
    // complete (features added while drawing would draw the whole map again on the next frame);
    // the unit grids of a small district are among them, those of a large one are not.
    await inView();
    map.renderSync();
    mark('drawn');
    status.textContent = statusText();
    api.readyMs = performance.now();
    api.ready = true;
    requestAnimationFrame(() => mark('next frame'));
    setTimeout(() => mark('idle'), 0);
    if (/[?&]selftest/.test(location.search)) await selftest();
  }

  // Every layer drawn at the current view, with its features made.
  const inView = () => Promise.all(layers.filter((l) => l.visible && l.ol.isVisible(map.getView()))
    .map((l) => l.ensure()));
  const statusText = () => `${doc.crs} · 1 px = ${fmt(map.getView().getResolution())} m`;
  const fit = () => map.getView().fit(doc.extent, { padding: [12, 12, 12, 12] });

  // ---- hooks for tests, benchmarks and --dump-dom checks ---------------------------------------
  Object.defineProperties(api, { map: { get: () => map }, layers: { get: () => byId } });
  Object.assign(api, {
    view() {
      const v = map.getView(), [cx, cy] = v.getCenter();
      return { cx, cy, scale: v.getResolution() };
    },
    visible: () => Object.fromEntries(layers.map((l) => [l.spec.id, l.visible])),
    async drawn() {
      await inView();
      map.renderSync();
      return Object.fromEntries(layers.filter((l) => l.visible && l.ol.isVisible(map.getView()))
        .map((l) => [l.spec.id, l.spec.kind === 'points' ? l.drawn : l.source.getFeatures().length]));
    },
    loaded: () => layers.filter((l) => l.loaded).map((l) => l.spec.id),
    async zoomTo(x, y, metresPerPixel) {
      map.getView().setCenter([x, y]);
      map.getView().setResolution(metresPerPixel);
      await inView();
      map.renderSync();
    },
    toClient(x, y) {
      const [px, py] = map.getPixelFromCoordinate([x, y]);
      const box = map.getViewport().getBoundingClientRect();
      return [box.left + px, box.top + py];
    },
    async setVisible(id, on) {
      const layer = byId[id];
      layer.visible = on;
      layer.ol.setVisible(on);
      panel();
      await inView();
    },
    async setUnitColour(by) {
      const layer = byId.unit_grid;
      await layer.ensure();
      unitColour = by;
      layer.ol.setMaxResolution(outlineResolution());
      layer.source.changed();
      panel();
    },
    redraw() {
      const t = performance.now();
      for (const layer of layers) (layer.refresh || (() => layer.source.changed()))();
      map.renderSync();
      return performance.now() - t;
    },
    painted() {
      // Share of the map's pixels some layer drew on (the layers' canvases stacked).
      map.renderSync();
      const canvases = [...map.getViewport().querySelectorAll('canvas')].filter((c) => c.width);
      const { width, height } = canvases[0];
      const covered = new Uint8Array(width * height);
      for (const canvas of canvases) {
        if (canvas.width !== width || canvas.height !== height) continue;
        const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
        for (let i = 0; i < covered.length; i++) if (data[4 * i + 3] > 20) covered[i] = 1;
      }
      return covered.reduce((a, b) => a + b, 0) / covered.length;
    },
    async clickAt(x, y) {
      const box = map.getViewport().getBoundingClientRect();
      show(await pickAt([x - box.left, y - box.top]));
    },
    async find(query) {
      const q = String(query).trim();
      if (!q) return false;
      for (const layer of layers) {
        const spec = layer.spec;
        if (!spec.key && !spec.labels) continue;
        await fetchData(layer); // the fields; features only for the layer found (labelPoint)
        const columns = spec.columns.filter((c) => c.name === spec.key || c.name === spec.labels);
        for (const column of columns) {
          for (let f = 0; f < spec.n; f++) {
            if (String(value(column, f)) !== q) continue;
            if (!layer.visible) await api.setVisible(spec.id, true);
            const p = labelPoint(layer, f);
            if (p) await api.zoomTo(p[0], p[1], Math.min(map.getView().getResolution(), doc.gridSize / 60));
            show([{ layer, feature: f }]);
            return true;
          }
        }
      }
      $('gk-info').replaceChildren(el('p', `${doc.strings.not_found}: ${q}`, 'note'));
      return false;
    },
  });

  async function selftest() {
    const t = doc.selftest, out = el('pre');
    out.id = 'gk-selftest';
    await api.zoomTo(t.x, t.y, 1);
    show(await pickAt(map.getPixelFromCoordinate([t.x, t.y])));
    const h = document.querySelector('#gk-info h4[data-layer="unit_grid"]');
    const shown = h ? h.dataset.key : null;
    out.textContent = JSON.stringify({ expected: t.bgid, shown, ok: shown === t.bgid, errors });
    document.body.append(out);
  }

  start().catch((e) => {
    errors.push(String(e?.message || e));
    status.textContent = String(e?.message || e);
  });
})();
