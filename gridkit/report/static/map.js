/* gridkit report map: a small canvas map written for this page, no third-party code.
   Coordinates stay in the GeoPackage's projected metres (relative to an origin, for float
   precision); nothing is fetched. User text is only ever put in the page with textContent. */
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || e.error || e));
  });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    errors.push(String((r && r.message) || r));
  });
  var api = window.gridkitReport = { ready: false, errors: errors };
  var DETAIL = 20000; // points drawn one by one below this many in view, grouped above
  var NEAREST = 5;
  var CLUSTER_PX = 44;
  // Software canvases rasterise one huge path much more slowly than many small ones.
  var BATCH = 64;

  var header = JSON.parse(document.getElementById('gk-header').textContent);
  var statusBox = document.getElementById('gk-status');
  var canvas = document.getElementById('gk-canvas');
  var ctx = canvas.getContext('2d');
  var doc, A, T, layers = [], byId = {};
  var view = { cx: 0, cy: 0, scale: 1, w: 1, h: 1, dpr: 1 };
  var selection = null, lastCost = 0, interacting = false, dirty = false, cache = null;
  var unitColour = 'none';

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') {
      if (!isFinite(v)) return '';
      var digits = Math.abs(v) >= 100 || v === Math.round(v) ? 0 : 2;
      var parts = v.toFixed(digits).split('.');
      parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
      return parts.join('.');
    }
    return String(v);
  }

  function short(n) {
    return n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? Math.round(n / 1e3) + 'k'
      : n >= 1e3 ? (n / 1e3).toFixed(1) + 'k' : String(n);
  }

  // ---- decoding ----------------------------------------------------------------------------
  function base64Bytes(text) {
    text = text.trim();
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
    var bin = atob(text), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function gunzip(bytes) {
    var forced = /[?&]noStream/.test(location.search);
    if (typeof DecompressionStream === 'function' && !forced) {
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      return new Response(stream).arrayBuffer();
    }
    return Promise.resolve(gkInflate(bytes).buffer);
  }

  function typed(buffer) {
    var kinds = { u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, i4: Int32Array,
      f4: Float32Array, f8: Float64Array };
    var out = {};
    Object.keys(header.arrays).forEach(function (name) {
      var a = header.arrays[name];
      out[name] = new kinds[a[0]](buffer, a[1], a[2]);
    });
    return out;
  }

  function column(c) {
    if (c.enc === 'plain') return function (i) { return c.values[i]; };
    if (c.enc === 'dict') {
      var idx = A[c.arr];
      return function (i) { return c.values[idx[i]]; };
    }
    if (c.enc === 'num') {
      var num = A[c.arr];
      return function (i) { var v = num[i]; return v !== v ? null : v; };
    }
    var head = A[c.arr], tail = A[c.tail], width = c.width;
    return function (i) {
      var h = c.values[head[i]];
      if (h === undefined || h === null) return null;
      var s = String(tail[i]);
      while (s.length < width) s = '0' + s;
      return h + s;
    };
  }

  function attach(L, spec) {
    L.spec = spec;
    L.id = spec.id;
    L.visible = spec.visible !== false;
    L.columns = spec.columns.map(function (c) { return { name: c.name, get: column(c) }; });
    L.col = {};
    L.columns.forEach(function (c) { L.col[c.name] = c.get; });
  }

  function ShapeLayer(spec) {
    attach(this, spec);
    var g = spec.geom, d = A[g.xy], step = doc.step;
    this.n = g.n;
    this.features = A[g.features];
    this.rings = A[g.rings];
    this.kinds = A[g.kinds];
    var xy = this.xy = new Float64Array(d.length), rings = this.rings;
    for (var r = 0; r + 1 < rings.length; r++) {
      var x = 0, y = 0;
      for (var v = rings[r]; v < rings[r + 1]; v++) {
        x += d[2 * v]; y += d[2 * v + 1];
        xy[2 * v] = x * step; xy[2 * v + 1] = y * step;
      }
    }
    var box = this.box = new Float64Array(4 * this.n), sizes = [];
    for (var i = 0; i < this.n; i++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var q = this.features[i]; q < this.features[i + 1]; q++) {
        for (var k = rings[q]; k < rings[q + 1]; k++) {
          var px = xy[2 * k], py = xy[2 * k + 1];
          if (px < x0) x0 = px; if (px > x1) x1 = px;
          if (py < y0) y0 = py; if (py > y1) y1 = py;
        }
      }
      box[4 * i] = x0; box[4 * i + 1] = y0; box[4 * i + 2] = x1; box[4 * i + 3] = y1;
      if (x1 >= x0) sizes.push(Math.max(x1 - x0, y1 - y0));
    }
    sizes.sort(function (a, b) { return a - b; });
    this.typical = sizes.length ? sizes[sizes.length >> 1] : 0;
    this.lx = A[spec.label.x];
    this.ly = A[spec.label.y];
    this.categorise();
  }

  ShapeLayer.prototype.labelPoint = function (i) {
    if (this.lx[i] === -2147483648) return null;
    return [this.lx[i] * doc.step, this.ly[i] * doc.step];
  };

  // Features grouped by fill colour once, so a frame fills each colour with one path.
  ShapeLayer.prototype.categorise = function () {
    var fill = this.spec.fill;
    this.groups = [];
    if (!fill) return;
    if (fill.colour) {
      var all = [];
      for (var i = 0; i < this.n; i++) all.push(i);
      this.groups.push({ colour: fill.colour, items: all });
      return;
    }
    var get = this.col[fill.by], byColour = {};
    for (var j = 0; j < this.n; j++) {
      var value = get ? get(j) : null;
      var colour = fill.colours[value] || '#999999';
      (byColour[colour] = byColour[colour] || []).push(j);
    }
    var self = this;
    Object.keys(byColour).forEach(function (c) { self.groups.push({ colour: c, items: byColour[c] }); });
  };

  function PointLayer(spec) {
    attach(this, spec);
    var g = spec.geom;
    this.n = g.n;
    this.x = A[g.x]; this.y = A[g.y]; this.starts = A[g.starts];
    this.tiles = g.tiles; this.tile = g.tile; this.step = g.step;
    this.ox = g.origin[0] - doc.origin[0];
    this.oy = g.origin[1] - doc.origin[1];
    this.cls = A[spec.cls];
    this.classes = spec.classes;
    this.on = spec.classes.map(function () { return true; }).concat([true]);
    this.colours = spec.classes.map(function (c) { return c.colour; }).concat(['#555555']);
    this.bins = null;
  }

  PointLayer.prototype.pos = function (i) {
    return [this.ox + this.x[i] * this.step, this.oy + this.y[i] * this.step];
  };

  // Tiles overlapping a box in local metres: [tx0, ty0, tx1, ty1] inclusive.
  PointLayer.prototype.tileRange = function (x0, y0, x1, y1) {
    var s = this.step * this.tile, t = this.tiles;
    function clamp(v) { return Math.max(0, Math.min(t - 1, v)); }
    return [clamp(Math.floor((x0 - this.ox) / s)), clamp(Math.floor((y0 - this.oy) / s)),
      clamp(Math.floor((x1 - this.ox) / s)), clamp(Math.floor((y1 - this.oy) / s))];
  };

  PointLayer.prototype.forEachIn = function (x0, y0, x1, y1, fn) {
    var r = this.tileRange(x0, y0, x1, y1), t = this.tiles, st = this.starts;
    for (var ty = r[1]; ty <= r[3]; ty++) {
      for (var tx = r[0]; tx <= r[2]; tx++) {
        var tile = ty * t + tx;
        for (var i = st[tile]; i < st[tile + 1]; i++) fn(i);
      }
    }
  };

  PointLayer.prototype.countIn = function (x0, y0, x1, y1) {
    var r = this.tileRange(x0, y0, x1, y1), t = this.tiles, st = this.starts, n = 0;
    if (x1 < this.ox || y1 < this.oy) return 0;
    for (var ty = r[1]; ty <= r[3]; ty++) n += st[ty * t + r[2] + 1] - st[ty * t + r[0]];
    return n;
  };

  PointLayer.prototype.nearest = function (x, y, radius, count) {
    var found = [], self = this, r2 = radius * radius;
    this.forEachIn(x - radius, y - radius, x + radius, y + radius, function (i) {
      if (!self.on[Math.min(self.cls[i], self.classes.length)]) return;
      var p = self.pos(i), dx = p[0] - x, dy = p[1] - y, d2 = dx * dx + dy * dy;
      if (d2 <= r2) found.push([d2, i]);
    });
    found.sort(function (a, b) { return a[0] - b[0]; });
    return found.slice(0, count).map(function (f) { return { index: f[1], dist: Math.sqrt(f[0]) }; });
  };

  // ---- view --------------------------------------------------------------------------------
  function resize() {
    var rect = canvas.getBoundingClientRect();
    view.dpr = window.devicePixelRatio || 1;
    view.w = Math.max(1, rect.width);
    view.h = Math.max(1, rect.height);
    canvas.width = Math.round(view.w * view.dpr);
    canvas.height = Math.round(view.h * view.dpr);
    cache = null;
  }

  function fit() {
    var e = doc.extent, o = doc.origin;
    view.cx = (e[0] + e[2]) / 2 - o[0];
    view.cy = (e[1] + e[3]) / 2 - o[1];
    view.scale = 0.95 * Math.min(view.w / Math.max(e[2] - e[0], 1), view.h / Math.max(e[3] - e[1], 1));
  }

  function toScreen(x, y) {
    return [(x - view.cx) * view.scale + view.w / 2, view.h / 2 - (y - view.cy) * view.scale];
  }

  function toLocal(sx, sy) {
    return [(sx - view.w / 2) / view.scale + view.cx, view.cy - (sy - view.h / 2) / view.scale];
  }

  function viewBox() {
    var a = toLocal(0, view.h), b = toLocal(view.w, 0);
    return [a[0], a[1], b[0], b[1]];
  }

  function zoomAt(sx, sy, factor) {
    var p = toLocal(sx, sy);
    view.scale = Math.max(1e-4, Math.min(200, view.scale * factor));
    view.cx = p[0] - (sx - view.w / 2) / view.scale;
    view.cy = p[1] + (sy - view.h / 2) / view.scale;
  }

  // ---- drawing -----------------------------------------------------------------------------
  // Vertices closer than a pixel to the last one drawn are skipped: a whole-district view of
  // thousands of responsibility grids then costs a fraction of its vertices.
  function pathFeature(L, i, a, bx, by) {
    var f = L.features, r = L.rings, k = L.kinds, xy = L.xy;
    for (var q = f[i]; q < f[i + 1]; q++) {
      if (k[q] === 2) continue;
      var v = r[q], end = r[q + 1];
      var px = xy[2 * v] * a + bx, py = by - xy[2 * v + 1] * a;
      ctx.moveTo(px, py);
      for (v++; v < end; v++) {
        var sx = xy[2 * v] * a + bx, sy = by - xy[2 * v + 1] * a;
        if (v + 1 < end && Math.abs(sx - px) + Math.abs(sy - py) < 0.8) continue;
        ctx.lineTo(sx, sy);
        px = sx; py = sy;
      }
      if (k[q] === 1) ctx.closePath();
    }
  }

  function visibleIn(L, i, vb) {
    var b = L.box;
    return !(b[4 * i] > vb[2] || b[4 * i + 2] < vb[0] || b[4 * i + 1] > vb[3] || b[4 * i + 3] < vb[1]);
  }

  function transform() {
    return [view.scale, view.w / 2 - view.cx * view.scale, view.h / 2 + view.cy * view.scale];
  }

  function fillGroups(L, groups, alpha, vb) {
    var t = transform(), drawn = 0;
    ctx.globalAlpha = alpha;
    groups.forEach(function (g) {
      ctx.fillStyle = g.colour;
      ctx.beginPath();
      var batch = 0;
      for (var j = 0; j < g.items.length; j++) {
        var i = g.items[j];
        if (visibleIn(L, i, vb)) {
          pathFeature(L, i, t[0], t[1], t[2]); drawn++;
          if (++batch === BATCH) { ctx.fill('evenodd'); ctx.beginPath(); batch = 0; }
        }
      }
      ctx.fill('evenodd');
    });
    ctx.globalAlpha = 1;
    return drawn;
  }

  function strokeLayer(L, vb) {
    var t = transform(), drawn = 0;
    ctx.strokeStyle = L.spec.stroke || '#333';
    ctx.lineWidth = L.spec.width || 1;
    ctx.beginPath();
    var batch = 0;
    for (var i = 0; i < L.n; i++) {
      if (visibleIn(L, i, vb)) {
        pathFeature(L, i, t[0], t[1], t[2]); drawn++;
        if (++batch === BATCH) { ctx.stroke(); ctx.beginPath(); batch = 0; }
      }
    }
    ctx.stroke();
    return drawn;
  }

  var ramps = {
    ratio: { breaks: [0.5, 0.75, 1.25, 2], colours: ['#d7301f', '#fdae6b', '#c7e9c0', '#6baed6', '#756bb1'] },
    count: ['#f7f7f7', '#fee8c8', '#fdbb84', '#fc8d59', '#e34a33', '#b30000']
  };

  function unitGroups(L) {
    if (unitColour === 'none') return null;
    if (L.colourCache && L.colourCache.mode === unitColour) return L.colourCache;
    var colourOf, legend = [];
    if (unitColour === 'ratio') {
      var ratio = A[L.spec.ratio], rb = ramps.ratio.breaks;
      colourOf = function (i) {
        var v = ratio[i], k = 0;
        while (k < rb.length && v >= rb[k]) k++;
        return ramps.ratio.colours[k];
      };
      legend = ['< 0.5×', '0.5–0.75×', '0.75–1.25×', '1.25–2×', '> 2×'].map(function (t, k) {
        return [ramps.ratio.colours[k], t];
      });
    } else if (unitColour === 'DENSITY') {
      var dens = L.col.DENSITY, dc = { dense: '#f4a259', sparse: '#8cb9de' };
      colourOf = function (i) { return dc[dens(i)] || '#dddddd'; };
      legend = [['#f4a259', T.colour_density + ': dense'], ['#8cb9de', 'sparse']];
    } else {
      var get = L.col[unitColour], values = [];
      for (var j = 0; j < L.n; j++) if (get(j) > 0) values.push(get(j));
      values.sort(function (a, b) { return a - b; });
      var breaks = [1];
      [0.2, 0.4, 0.6, 0.8].forEach(function (q) {
        var v = values.length ? values[Math.floor(q * (values.length - 1))] : 1;
        if (v > breaks[breaks.length - 1]) breaks.push(v);
      });
      colourOf = function (i) {
        var v = get(i) || 0, k = 0;
        while (k < breaks.length && v >= breaks[k]) k++;
        return ramps.count[k];
      };
      legend.push([ramps.count[0], '0']);
      for (var b = 0; b < breaks.length; b++) {
        var hi = b + 1 < breaks.length ? breaks[b + 1] - 1 : null;
        legend.push([ramps.count[b + 1], hi === null ? '≥ ' + fmt(breaks[b]) :
          (hi > breaks[b] ? fmt(breaks[b]) + '–' + fmt(hi) : fmt(breaks[b]))]);
      }
    }
    var byColour = {};
    for (var i = 0; i < L.n; i++) { var c = colourOf(i); (byColour[c] = byColour[c] || []).push(i); }
    L.colourCache = { mode: unitColour, legend: legend,
      groups: Object.keys(byColour).map(function (c) { return { colour: c, items: byColour[c] }; }) };
    return L.colourCache;
  }

  function drawMarkers(L, vb) {
    var fill = L.spec.fill, get = fill && L.col[fill.by];
    for (var i = 0; i < L.n; i++) {
      var p = L.labelPoint(i);
      if (!p || p[0] < vb[0] || p[0] > vb[2] || p[1] < vb[1] || p[1] > vb[3]) continue;
      var s = toScreen(p[0], p[1]);
      ctx.beginPath();
      ctx.moveTo(s[0], s[1] - 8); ctx.lineTo(s[0] + 7, s[1] + 5); ctx.lineTo(s[0] - 7, s[1] + 5);
      ctx.closePath();
      ctx.fillStyle = (get && fill.colours[get(i)]) || '#d62728';
      ctx.fill();
      ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.2; ctx.stroke();
    }
  }

  function marker(shape, x, y, r) {
    if (shape === 'diamond') {
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y);
      ctx.closePath();
    } else {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    }
  }

  function drawPoints(L, vb) {
    var visible = L.countIn(vb[0], vb[1], vb[2], vb[3]);
    var ncls = L.classes.length + 1, t = transform(), a = t[0], bx = t[1], by = t[2];
    var step = L.step, ox = L.ox, oy = L.oy, X = L.x, Y = L.y, C = L.cls, on = L.on;
    if (visible <= DETAIL) {
      L.bins = null;
      var buckets = [];
      for (var c = 0; c < ncls; c++) buckets.push([]);
      L.forEachIn(vb[0], vb[1], vb[2], vb[3], function (i) {
        var k = Math.min(C[i], ncls - 1);
        if (on[k]) buckets[k].push(i);
      });
      var r = view.scale > 2 ? 4 : 3, count = 0;
      if (L.spec.shape === 'diamond') r *= 1.3;
      buckets.forEach(function (items, k) {
        if (!items.length) return;
        ctx.beginPath();
        for (var j = 0; j < items.length; j++) {
          var i = items[j];
          marker(L.spec.shape, (ox + X[i] * step) * a + bx, by - (oy + Y[i] * step) * a, r);
        }
        ctx.fillStyle = L.colours[k];
        ctx.fill();
        // Events get a dark rim so that they stand apart from components of the same hue.
        ctx.strokeStyle = L.spec.shape === 'diamond' ? '#222' : 'rgba(255,255,255,0.8)';
        ctx.lineWidth = 0.8; ctx.stroke();
        count += items.length;
      });
      return { mode: 'detail', drawn: count };
    }
    // Grouped: bins fixed in map metres, so groups do not jump while panning.
    var size = CLUSTER_PX / view.scale;
    var gx0 = Math.floor(vb[0] / size), gy0 = Math.floor(vb[1] / size);
    var nx = Math.floor(vb[2] / size) - gx0 + 1, ny = Math.floor(vb[3] / size) - gy0 + 1;
    var counts = new Uint32Array(nx * ny * ncls);
    // A group is drawn at the mean of its points, not the bin centre, so it sits on them.
    var sumX = new Float64Array(nx * ny), sumY = new Float64Array(nx * ny);
    L.forEachIn(vb[0], vb[1], vb[2], vb[3], function (i) {
      var k = Math.min(C[i], ncls - 1);
      if (!on[k]) return;
      var px = ox + X[i] * step, py = oy + Y[i] * step;
      var gx = Math.floor(px / size) - gx0, gy = Math.floor(py / size) - gy0;
      if (gx < 0 || gy < 0 || gx >= nx || gy >= ny) return;
      var cell = gy * nx + gx;
      counts[cell * ncls + k]++;
      sumX[cell] += px; sumY[cell] += py;
    });
    var bins = [], total = 0;
    for (var b = 0; b < nx * ny; b++) {
      var sum = 0, best = 0, bestK = 0;
      for (var k = 0; k < ncls; k++) {
        var v = counts[b * ncls + k];
        sum += v;
        if (v > best) { best = v; bestK = k; }
      }
      if (!sum) continue;
      var gxb = b % nx + gx0, gyb = Math.floor(b / nx) + gy0;
      bins.push({ x: sumX[b] / sum, y: sumY[b] / sum, gx: gxb, gy: gyb, n: sum, k: bestK,
        counts: Array.prototype.slice.call(counts, b * ncls, (b + 1) * ncls) });
      total += sum;
    }
    ctx.font = '11px ' + getComputedStyle(document.body).fontFamily;
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    bins.forEach(function (bin) {
      var s = toScreen(bin.x, bin.y), radius = Math.min(CLUSTER_PX / 2 - 2, 4 + 2.8 * Math.log10(bin.n));
      bin.r = radius;
      ctx.beginPath();
      if (L.spec.shape === 'diamond') marker('diamond', s[0], s[1], radius * 1.15);
      else ctx.arc(s[0], s[1], radius, 0, 2 * Math.PI);
      ctx.globalAlpha = 0.8; ctx.fillStyle = L.colours[bin.k]; ctx.fill(); ctx.globalAlpha = 1;
      ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.2; ctx.stroke();
      if (radius >= 9) { ctx.fillStyle = '#fff'; ctx.fillText(short(bin.n), s[0], s[1]); }
    });
    L.bins = { size: size, list: bins };
    return { mode: 'grouped', drawn: total, groups: bins.length };
  }

  function drawLabels(L, vb) {
    var get = L.col[L.spec.labels];
    if (!get) return;
    ctx.font = '13px ' + getComputedStyle(document.body).fontFamily;
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
    var taken = [];
    for (var i = 0; i < L.n; i++) {
      var b = L.box;
      if ((b[4 * i + 2] - b[4 * i]) * view.scale < 70 || !visibleIn(L, i, vb)) continue;
      var p = L.labelPoint(i), text = get(i);
      if (!p || !text) continue;
      var s = toScreen(p[0], p[1]), w = ctx.measureText(text).width / 2 + 2;
      var clash = taken.some(function (r) {
        return Math.abs(r[0] - s[0]) < r[2] + w && Math.abs(r[1] - s[1]) < 16;
      });
      if (clash) continue;
      taken.push([s[0], s[1], w]);
      ctx.strokeStyle = 'rgba(255,255,255,0.9)'; ctx.lineWidth = 3.5; ctx.strokeText(text, s[0], s[1]);
      ctx.fillStyle = '#1d2731'; ctx.fillText(text, s[0], s[1]);
    }
  }

  function drawSelection() {
    if (!selection) return;
    var L = byId[selection.layer];
    if (!L || !L.visible && !(L instanceof ShapeLayer)) return;
    ctx.strokeStyle = '#ffcc00'; ctx.lineWidth = 3.5;
    if (L instanceof ShapeLayer) {
      var t = transform();
      ctx.beginPath();
      pathFeature(L, selection.index, t[0], t[1], t[2]);
      ctx.stroke();
      ctx.strokeStyle = '#000'; ctx.lineWidth = 1; ctx.stroke();
    } else {
      var p = L.pos(selection.index), s = toScreen(p[0], p[1]);
      ctx.beginPath(); ctx.arc(s[0], s[1], 8, 0, 2 * Math.PI); ctx.stroke();
    }
  }

  function scaleBar() {
    var metres = 110 / view.scale, power = Math.pow(10, Math.floor(Math.log10(metres)));
    var nice = [1, 2, 5, 10].map(function (m) { return m * power; }).filter(function (m) { return m <= metres; });
    var len = nice[nice.length - 1] || power, px = len * view.scale;
    var x = 12, y = view.h - 30;
    ctx.fillStyle = 'rgba(255,255,255,0.8)'; ctx.fillRect(x - 4, y - 16, px + 8, 24);
    ctx.strokeStyle = '#222'; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, y - 4); ctx.lineTo(x, y); ctx.lineTo(x + px, y); ctx.lineTo(x + px, y - 4); ctx.stroke();
    ctx.fillStyle = '#222'; ctx.font = '11px ' + getComputedStyle(document.body).fontFamily;
    ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    ctx.fillText(len >= 1000 ? len / 1000 + ' km' : len + ' m', x + px / 2, y - 3);
  }

  function drawFull() {
    var started = performance.now(), vb = viewBox(), drawn = {};
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.fillStyle = '#fbfbf8'; ctx.fillRect(0, 0, view.w, view.h);
    ctx.lineJoin = 'round';
    var shapes = layers.filter(function (L) { return L instanceof ShapeLayer && L.visible; });
    shapes.forEach(function (L) {
      if (L.id === 'unit_grid') {
        var g = unitGroups(L);
        if (g) drawn.unit_grid_fill = fillGroups(L, g.groups, 0.75, vb);
      } else if (L.groups.length && !L.spec.markers) {
        drawn[L.id + '_fill'] = fillGroups(L, L.groups, 0.35, vb);
      }
    });
    var hidden = false;
    shapes.forEach(function (L) {
      if (L.spec.lod && L.typical * view.scale < 4) { hidden = true; return; }
      drawn[L.id] = strokeLayer(L, vb);
    });
    shapes.forEach(function (L) { if (L.spec.markers) drawMarkers(L, vb); });
    layers.forEach(function (L) { if (L instanceof PointLayer && L.visible) drawn[L.id] = drawPoints(L, vb); });
    shapes.forEach(function (L) { if (L.spec.labels) drawLabels(L, vb); });
    drawSelection();
    scaleBar();
    api.drawn = drawn;
    api.gridsHidden = hidden;
    lastCost = performance.now() - started;
    if (lastCost > 30) {
      cache = cache || document.createElement('canvas');
      cache.width = canvas.width; cache.height = canvas.height;
      cache.getContext('2d').drawImage(canvas, 0, 0);
      cache.view = { cx: view.cx, cy: view.cy, scale: view.scale };
    } else {
      cache = null;
    }
    status(hidden);
  }

  // While dragging or zooming a heavy map, move the last picture instead of redrawing it.
  function drawCached() {
    var c = cache.view, k = view.scale / c.scale;
    var dx = (c.cx - view.cx) * view.scale + view.w / 2 * (1 - k);
    var dy = (view.cy - c.cy) * view.scale + view.h / 2 * (1 - k);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.fillStyle = '#fbfbf8'; ctx.fillRect(0, 0, view.w, view.h);
    ctx.drawImage(cache, dx, dy, view.w * k, view.h * k);
  }

  function frame() {
    dirty = false;
    if (interacting && cache && lastCost > 30) drawCached();
    else drawFull();
  }

  function request() {
    if (!dirty) { dirty = true; requestAnimationFrame(frame); }
  }

  var pointerText = '';
  function status(hidden) {
    var parts = [doc.crs];
    if (pointerText) parts.push(pointerText);
    if (hidden) parts.push(T.zoom_for_grids);
    statusBox.textContent = parts.join(' · ');
  }

  // ---- clicking ----------------------------------------------------------------------------
  function inside(L, i, x, y) {
    var f = L.features, r = L.rings, k = L.kinds, xy = L.xy, hit = false;
    for (var q = f[i]; q < f[i + 1]; q++) {
      if (k[q] !== 1) continue;
      for (var a = r[q], b = r[q + 1] - 1, v = a; v < r[q + 1]; b = v++) {
        var xa = xy[2 * v], ya = xy[2 * v + 1], xb = xy[2 * b], yb = xy[2 * b + 1];
        if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) hit = !hit;
      }
    }
    return hit;
  }

  function nearLine(L, i, x, y, tol) {
    var f = L.features, r = L.rings, k = L.kinds, xy = L.xy;
    for (var q = f[i]; q < f[i + 1]; q++) {
      if (k[q] === 1) continue;
      for (var v = r[q]; v < r[q + 1]; v++) {
        var xa = xy[2 * v], ya = xy[2 * v + 1];
        if (k[q] === 2 || v + 1 === r[q + 1]) {
          if (Math.hypot(x - xa, y - ya) <= tol) return true;
          continue;
        }
        var xb = xy[2 * v + 2], yb = xy[2 * v + 3], dx = xb - xa, dy = yb - ya;
        var t = Math.max(0, Math.min(1, ((x - xa) * dx + (y - ya) * dy) / (dx * dx + dy * dy || 1)));
        if (Math.hypot(x - xa - t * dx, y - ya - t * dy) <= tol) return true;
      }
    }
    return false;
  }

  function hitShape(L, x, y) {
    var tol = 6 / view.scale, out = [];
    for (var i = 0; i < L.n; i++) {
      var b = L.box;
      if (L.spec.markers) {
        var p = L.labelPoint(i);
        if (p && Math.hypot(p[0] - x, p[1] - y) <= 9 / view.scale) { out.push(i); continue; }
      }
      if (b[4 * i] - tol > x || b[4 * i + 2] + tol < x || b[4 * i + 1] - tol > y || b[4 * i + 3] + tol < y) continue;
      if (inside(L, i, x, y) || nearLine(L, i, x, y, tol)) out.push(i);
    }
    return out;
  }

  // The info panel lists what is under the click from the smallest thing to the largest.
  var RANK = ['component', 'event', 'qa_issue', 'spotcheck_result', 'unit_grid',
    'responsibility_grid', 'community'];
  function rank(L) {
    var k = RANK.indexOf(L.id);
    return k < 0 ? RANK.length : k;
  }

  function onClick(sx, sy) {
    var p = toLocal(sx, sy), x = p[0], y = p[1], hits = [];
    var ordered = layers.slice().sort(function (a, b) { return rank(a) - rank(b); });
    for (var j = 0; j < ordered.length; j++) {
      var L = ordered[j];
      if (L instanceof PointLayer) {
        if (!L.visible) continue;
        var near;
        if (L.bins) {
          var size = L.bins.size, gx = Math.floor(x / size), gy = Math.floor(y / size);
          // The drawn circle under the click first, else the group of the bin clicked in.
          var bin = null, best = Infinity;
          L.bins.list.forEach(function (b) {
            var d = Math.hypot(b.x - x, b.y - y) * view.scale;
            if (d <= b.r + 3 && d < best) { best = d; bin = b; }
          });
          bin = bin || L.bins.list.filter(function (b) { return b.gx === gx && b.gy === gy; })[0];
          if (!bin) continue;
          near = L.nearest(x, y, size, NEAREST);
          hits.push({ layer: L, bin: bin, items: near });
        } else {
          near = L.nearest(x, y, 8 / view.scale, NEAREST);
          if (near.length) hits.push({ layer: L, items: near });
        }
      } else {
        if (!L.visible && L.id !== 'unit_grid') continue;
        var found = hitShape(L, x, y);
        if (found.length) hits.push({ layer: L, items: found.slice(0, NEAREST).map(function (i) { return { index: i }; }) });
      }
    }
    selection = null;
    for (var h = 0; h < hits.length; h++) {
      if (hits[h].items.length) { selection = { layer: hits[h].layer.id, index: hits[h].items[0].index }; break; }
    }
    showInfo(hits);
    request();
  }

  function explain(name, value, L) {
    var s = value === null || value === undefined ? '' : String(value);
    var names = doc.classNames[L.id === 'event' ? 'event' : 'component'] || {};
    var comm = doc.communities;
    if (!/^\d+$/.test(s)) return null;
    function cls(code) { return code + (names[code] ? ' ' + names[code] : ''); }
    if ((name === 'BGID' && s.length === 15)) {
      return [s.slice(0, 6) + ' ' + s.slice(6, 9) + ' ' + s.slice(9, 12) + ' ' + s.slice(12),
        T.county + ' ' + s.slice(0, 6) + ' · ' + T.street + ' ' + s.slice(6, 9) + ' · ' +
        T.community + ' ' + s.slice(9, 12) + (comm[s.slice(0, 12)] ? ' ' + comm[s.slice(0, 12)] : '') +
        ' · ' + T.serial + ' ' + s.slice(12)];
    }
    if ((name === 'CODE' || name === 'COMMUNITY') && s.length === 12) {
      return [s.slice(0, 6) + ' ' + s.slice(6, 9) + ' ' + s.slice(9),
        T.county + ' ' + s.slice(0, 6) + ' · ' + T.street + ' ' + s.slice(6, 9) + ' · ' +
        T.community + ' ' + s.slice(9) + (comm[s] ? ' ' + comm[s] : '')];
    }
    if (name === 'RGID' && s.length === 13) {
      return [s.slice(0, 9) + ' ' + s.slice(9), T.street + ' ' + s.slice(0, 9) + ' · ' + T.serial + ' ' + s.slice(9)];
    }
    if (name === 'OBJCODE' && s.length === 16) {
      return [s.slice(0, 6) + ' ' + s.slice(6, 8) + ' ' + s.slice(8, 10) + ' ' + s.slice(10),
        T.county + ' ' + s.slice(0, 6) + ' · ' + T.major + ' ' + cls(s.slice(6, 8)) + ' · ' +
        T.minor + ' ' + cls(s.slice(6, 10)) + ' · ' + T.serial + ' ' + s.slice(10)];
    }
    if ((name === 'EVTCODE' || name === 'CLASS') && s.length === 4) {
      return [s.slice(0, 2) + ' ' + s.slice(2), T.major + ' ' + cls(s.slice(0, 2)) + ' · ' + T.minor + ' ' + cls(s)];
    }
    return null;
  }

  function featureBlock(L, i, note) {
    var box = el('div');
    var key = L.spec.key && L.col[L.spec.key] ? L.col[L.spec.key](i) : '';
    var h = el('h4', L.spec.title + (key !== '' && key !== null ? ': ' + key : '') + (note || ''));
    h.setAttribute('data-layer', L.id);
    h.setAttribute('data-key', key === null ? '' : String(key));
    box.appendChild(h);
    var dl = el('dl');
    L.columns.forEach(function (c) {
      var v = c.get(i);
      if (v === null || v === undefined || v === '') return;
      dl.appendChild(el('dt', c.name));
      var code = explain(c.name, v, L);
      var dd = el('dd', code ? code[0] : fmt(v), code ? 'code' : '');
      if (code) dd.title = code[1];
      dl.appendChild(dd);
      if (code) { dl.appendChild(el('dt', '')); dl.appendChild(el('dd', code[1], 'note')); }
    });
    box.appendChild(dl);
    return box;
  }

  function showInfo(hits) {
    var info = document.getElementById('gk-info');
    info.textContent = '';
    if (!hits.length) { info.appendChild(el('p', T.click_hint, 'note')); return; }
    hits.forEach(function (hit) {
      var L = hit.layer;
      if (hit.bin) {
        info.appendChild(el('h4', L.spec.title + ' · ' + T.cluster.replace('{n}', fmt(hit.bin.n))));
        var dl = el('dl');
        hit.bin.counts.forEach(function (n, k) {
          if (!n) return;
          dl.appendChild(el('dt', k < L.classes.length ? L.classes[k].name : '–'));
          dl.appendChild(el('dd', fmt(n)));
        });
        info.appendChild(dl);
        if (hit.items.length) info.appendChild(el('p', T.nearest.replace('{n}', hit.items.length), 'note'));
      }
      hit.items.forEach(function (item) {
        var note = item.dist !== undefined ? ' (' + fmt(Math.round(item.dist * 10) / 10) + ' m)' : '';
        info.appendChild(featureBlock(L, item.index, note));
      });
    });
    var more = hits.some(function (h) { return doc.omitted && doc.omitted[h.layer.id]; });
    if (more) info.appendChild(el('p', T.more_fields, 'note'));
  }

  // ---- controls ----------------------------------------------------------------------------
  function swatch(colour) {
    var s = el('span', null, 'sw');
    s.style.background = colour;
    return s;
  }

  function checkbox(label, checked, onChange, colour, cls) {
    var row = el('label', null, cls);
    var box = el('input');
    box.type = 'checkbox'; box.checked = checked;
    box.addEventListener('change', function () { onChange(box.checked); request(); });
    row.appendChild(box);
    if (colour) { row.appendChild(swatch(colour)); row.appendChild(document.createTextNode(' ')); }
    row.appendChild(document.createTextNode(label));
    return row;
  }

  function buildControls() {
    var panel = document.getElementById('gk-layers');
    panel.appendChild(el('strong', T.layers));
    layers.slice().reverse().forEach(function (L) {
      panel.appendChild(checkbox(L.spec.title + ' (' + fmt(L.n) + ')', L.visible,
        function (on) { L.visible = on; }, L.spec.stroke && !L.classes ? L.spec.stroke : null));
      if (L instanceof PointLayer) {
        L.classes.forEach(function (c, k) {
          panel.appendChild(checkbox(c.name + ' (' + fmt(c.count) + ')', true,
            function (on) { L.on[k] = on; }, c.colour, 'sub'));
        });
      } else if (L.spec.fill && L.spec.fill.colours) {
        Object.keys(L.spec.fill.colours).forEach(function (value) {
          var present = L.groups.some(function (g) { return g.colour === L.spec.fill.colours[value]; });
          if (!present) return;
          var row = el('div', null, 'sub');
          row.appendChild(swatch(L.spec.fill.colours[value]));
          var label = doc.values[value] ? doc.values[value] : L.spec.fill.by + ' ' + value;
          row.appendChild(document.createTextNode(' ' + label));
          panel.appendChild(row);
        });
      }
      if (L.id === 'unit_grid') {
        var select = el('select');
        select.id = 'gk-unit-colour';
        var options = [['none', T.colour_none], ['ratio', T.colour_area]];
        if (L.col.DENSITY) options.push(['DENSITY', T.colour_density]);
        if (L.col.COMPONENTS) options.push(['COMPONENTS', T.colour_components]);
        if (L.col.EVENTS) options.push(['EVENTS', T.colour_events]);
        options.forEach(function (o) {
          var opt = el('option', o[1]); opt.value = o[0]; select.appendChild(opt);
        });
        var legend = el('div', null, 'sub');
        select.addEventListener('change', function () {
          unitColour = select.value;
          legend.textContent = '';
          var g = unitGroups(L);
          (g ? g.legend : []).forEach(function (item) {
            var row = el('div');
            row.appendChild(swatch(item[0]));
            row.appendChild(document.createTextNode(' ' + item[1]));
            legend.appendChild(row);
          });
          request();
        });
        var wrap = el('div', null, 'sub');
        wrap.appendChild(el('span', T.unit_colour + ' '));
        wrap.appendChild(select);
        panel.appendChild(wrap);
        panel.appendChild(legend);
      }
    });
    var buttons = document.getElementById('gk-buttons');
    [['+', T.zoom_in, function () { zoomAt(view.w / 2, view.h / 2, 2); }],
      ['−', T.zoom_out, function () { zoomAt(view.w / 2, view.h / 2, 0.5); }],
      ['⤢', T.fit, fit]].forEach(function (b) {
      var button = el('button', b[0]);
      button.type = 'button'; button.title = b[1]; button.setAttribute('aria-label', b[1]);
      button.addEventListener('click', function () { b[2](); request(); });
      buttons.appendChild(button);
    });
    var search = el('input');
    search.type = 'search'; search.placeholder = T.search; search.id = 'gk-search';
    search.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') find(search.value.trim());
    });
    buttons.appendChild(search);
  }

  function find(text) {
    if (!text) return;
    for (var j = layers.length - 1; j >= 0; j--) {
      var L = layers[j], get = L.col[L.spec.key], name = L.col.NAME;
      for (var i = 0; i < L.n; i++) {
        if ((get && String(get(i)) === text) || (name && L instanceof ShapeLayer && name(i) === text)) {
          zoomTo(L, i);
          return;
        }
      }
    }
    statusBox.textContent = T.not_found + ': ' + text;
  }

  function zoomTo(L, i) {
    var x, y, size = 200;
    if (L instanceof ShapeLayer) {
      var b = L.box;
      x = (b[4 * i] + b[4 * i + 2]) / 2; y = (b[4 * i + 1] + b[4 * i + 3]) / 2;
      size = Math.max(b[4 * i + 2] - b[4 * i], b[4 * i + 3] - b[4 * i + 1], 50);
    } else {
      var p = L.pos(i); x = p[0]; y = p[1];
    }
    view.cx = x; view.cy = y;
    view.scale = Math.min(view.w, view.h) / (size * 3);
    drawFull();
    var s = toScreen(x, y);
    if (L instanceof ShapeLayer) {
      var lp = L.labelPoint(i);
      if (lp) s = toScreen(lp[0], lp[1]);
    }
    onClick(s[0], s[1]);
  }

  function bindPointer() {
    var pointers = {}, drag = null, pinch = null;
    canvas.addEventListener('pointerdown', function (e) {
      pointers[e.pointerId] = [e.clientX, e.clientY];
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        var a = pointers[ids[0]], b = pointers[ids[1]];
        pinch = { d: Math.hypot(a[0] - b[0], a[1] - b[1]), scale: view.scale };
        drag = null;
      } else {
        drag = { x: e.clientX, y: e.clientY, cx: view.cx, cy: view.cy, moved: false };
      }
    });
    canvas.addEventListener('pointermove', function (e) {
      var rect = canvas.getBoundingClientRect(), p = toLocal(e.clientX - rect.left, e.clientY - rect.top);
      pointerText = 'x ' + (p[0] + doc.origin[0]).toFixed(1) + ' y ' + (p[1] + doc.origin[1]).toFixed(1);
      if (pointers[e.pointerId]) pointers[e.pointerId] = [e.clientX, e.clientY];
      if (pinch) {
        var ids = Object.keys(pointers);
        if (ids.length === 2) {
          var a = pointers[ids[0]], b = pointers[ids[1]];
          var factor = pinch.scale * Math.hypot(a[0] - b[0], a[1] - b[1]) / pinch.d / view.scale;
          zoomAt((a[0] + b[0]) / 2 - rect.left, (a[1] + b[1]) / 2 - rect.top, factor);
          interacting = true; request();
        }
        return;
      }
      if (!drag) { if (!interacting) status(api.gridsHidden); return; }
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      drag.moved = true;
      canvas.classList.add('dragging');
      interacting = true;
      view.cx = drag.cx - dx / view.scale;
      view.cy = drag.cy + dy / view.scale;
      request();
    });
    function end(e) {
      delete pointers[e.pointerId];
      var rect = canvas.getBoundingClientRect();
      if (drag && !drag.moved && e.type === 'pointerup') onClick(e.clientX - rect.left, e.clientY - rect.top);
      if (Object.keys(pointers).length < 2) pinch = null;
      drag = null;
      canvas.classList.remove('dragging');
      if (interacting) { interacting = false; request(); }
    }
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    var timer = null;
    canvas.addEventListener('wheel', function (e) {
      e.preventDefault();
      var rect = canvas.getBoundingClientRect();
      var delta = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
      zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-delta * 0.0015));
      interacting = true;
      clearTimeout(timer);
      timer = setTimeout(function () { interacting = false; request(); }, 180);
      request();
    }, { passive: false });
    canvas.addEventListener('dblclick', function (e) {
      var rect = canvas.getBoundingClientRect();
      zoomAt(e.clientX - rect.left, e.clientY - rect.top, 2);
      request();
    });
  }

  // ---- self-test: ?selftest clicks a known grid through the user's path ---------------------
  function selftest() {
    var st = doc.selftest, L = byId.unit_grid;
    view.cx = st.x - doc.origin[0]; view.cy = st.y - doc.origin[1];
    view.scale = Math.max(view.scale, 1.5);
    drawFull();
    var s = toScreen(view.cx, view.cy), rect = canvas.getBoundingClientRect();
    var init = { clientX: rect.left + s[0], clientY: rect.top + s[1], bubbles: true,
      pointerId: 99, isPrimary: true, button: 0, pointerType: 'mouse' };
    canvas.dispatchEvent(new PointerEvent('pointerdown', init));
    canvas.dispatchEvent(new PointerEvent('pointerup', init));
    var shown = document.querySelector('#gk-info h4[data-layer="unit_grid"]');
    var result = { expected: st.bgid, shown: shown ? shown.getAttribute('data-key') : null,
      errors: errors.slice(), readyMs: api.readyMs, drawn: api.drawn, layers: L ? L.n : 0 };
    result.ok = result.shown === result.expected && !result.errors.length;
    var pre = el('pre', JSON.stringify(result));
    pre.id = 'gk-selftest';
    document.body.appendChild(pre);
  }

  function start(buffer) {
    A = typed(buffer);
    var j = header.json;
    doc = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, j[0], j[1])));
    T = doc.strings;
    api.origin = doc.origin;
    doc.spec = doc.layers;
    doc.spec.forEach(function (spec) {
      var L = spec.kind === 'points' ? new PointLayer(spec) : new ShapeLayer(spec);
      layers.push(L);
      byId[spec.id] = L;
    });
    resize();
    fit();
    buildControls();
    bindPointer();
    if (typeof ResizeObserver === 'function') {
      // Setting a canvas's size clears it: only resize when the box really changed.
      new ResizeObserver(function () {
        var rect = canvas.getBoundingClientRect();
        if (Math.max(1, rect.width) !== view.w || Math.max(1, rect.height) !== view.h) {
          resize();
          request();
        }
      }).observe(canvas);
    }
    drawFull();
    api.ready = true;
    api.readyMs = performance.now();
    document.documentElement.setAttribute('data-gk-ready', '1');
    if (/[?&#]selftest/.test(location.search + location.hash)) selftest();
  }

  api.toClient = function (x, y) {
    var s = toScreen(x - doc.origin[0], y - doc.origin[1]), rect = canvas.getBoundingClientRect();
    return [rect.left + s[0], rect.top + s[1]];
  };
  api.zoomTo = function (x, y, scale) {
    view.cx = x - doc.origin[0]; view.cy = y - doc.origin[1];
    if (scale) view.scale = scale;
    drawFull();
  };
  api.find = function (text) { find(text); };
  api.view = function () { return { cx: view.cx + doc.origin[0], cy: view.cy + doc.origin[1], scale: view.scale }; };
  api.setUnitColour = function (mode) {
    var select = document.getElementById('gk-unit-colour');
    select.value = mode;
    select.dispatchEvent(new Event('change'));
  };
  api.redraw = function () { drawFull(); return lastCost; };
  api.layers = byId;

  try {
    gunzip(base64Bytes(document.getElementById('gk-data').textContent)).then(start, function (err) {
      errors.push(String(err && err.message || err));
      statusBox.textContent = (T && T.no_js_decompress) || String(err);
    });
  } catch (err) {
    errors.push(String(err && err.message || err));
    statusBox.textContent = String(err);
  }
})();
