"""Generate gridkit's bundled sample district: ``python data/samples/make_sample.py``.

The sample is a fictitious part of Jinshan District, Shanghai (county code 310116) near
121.3°E 30.7°N: two urban streets (街道) of residents' committees and one town (镇) of villages
crossed by a river. It writes communities, roads, water, buildings and key areas as GeoPackages
in CGCS2000 longitude/latitude (EPSG:4490), plus README.md with the figures of this run.

Geometry is built in metres in a local frame (u east, v north, turned by ``GRID_ROTATION``) that
is anchored in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E) and reprojected at the end.
Every random choice comes from one numpy Generator with a fixed seed, so two runs write the
same features in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely import LineString, Point, Polygon, STRtree
from shapely.ops import split, substring

SEED = 20_050_301
OUT_DIR = Path(__file__).resolve().parent
COUNTY = "310116"
# Local origin in EPSG:4549 metres; 121.3°E 30.7°N lies at about (624548, 3398436).
ORIGIN_X, ORIGIN_Y = 624_500.0, 3_398_400.0
GRID_ROTATION = math.radians(9.0)  # the street grid is not north-aligned
EXTENT_MARGIN = 80.0  # roads and water run this far past the district edge
SNAP_TOL = 1e-6  # metres: endpoints this close to a line are joined to it exactly

# Urban arterial lattice (local metres). Outer lines lie beyond the district and only close
# the superblocks; the first row is the trunk road between the streets and the town.
URBAN_COLUMNS = [-2400.0, -1250.0, -600.0, 600.0, 1250.0, 2400.0]
URBAN_ROWS = [700.0, 1180.0, 1660.0, 2600.0]
TOWN_ROW_STEP = 250.0
TOWN_ROWS = 15  # lattice rows south of the trunk road
TOWN_MAJOR_ROWS = {3, 7, 11}  # every fourth village road is a tertiary road
TOWN_MAIN_STREET_ROW = 7  # the town seat's main street (secondary)
TOWN_CANAL_GAPS = [1, 3, 5, 7, 9, 11]  # canals run between these lattice rows

URBAN_MIN_HA, URBAN_MAX_HA = 5.0, 40.0
URBAN_SPLIT_HA = 37.0
VILLAGE_MIN_HA, VILLAGE_MAX_HA = 50.0, 500.0

# Building setback from a line: half the road width plus 3 m.
SETBACK = {
    "trunk": 15.0,
    "primary": 15.0,
    "secondary": 10.0,
    "tertiary": 7.0,
    "residential": 5.0,
    "service": 5.0,
    "track": 5.0,
}
CANAL_SETBACK = 8.0
RIVER_SETBACK = 5.0
BOUNDARY_SETBACK = 3.0

STREETS = {"001": "东林街道", "002": "罗星街道", "101": "朱泾镇"}
NAME_FIRST = "金朱枫亭兴秀万东西南北新康安临龙罗银锦和永丰长云吕廊漕"
NAME_SECOND = "山泾林塔州华平源航星湾溪乐宁园阳城海港桥塘圩浦"
# Real names of this district and its streets and towns stay out of the invented ones.
NUMERALS = "一二三四五六七八九十"
NAME_TAKEN = {"金山", "朱泾", "枫泾", "漕泾", "亭林", "东林", "罗星", "山阳", "金泾"}


# --------------------------------------------------------------------------- primitives


@dataclass
class Line:
    """A line of the sample's planar network, with what it is and how it is named."""

    geom: LineString
    kind: str  # road | canal | river_bank | river_centre | district | wall
    cls: str = ""
    name: str = ""
    tags: set[str] = field(default_factory=set)


@dataclass
class Building:
    geom: Polygon
    floors: int
    use: str


class NamePool:
    """Unique two-character place names (金泾, 秀塔 ...) in a seeded order."""

    def __init__(self, rng: np.random.Generator) -> None:
        combos = [a + b for a in NAME_FIRST for b in NAME_SECOND if a != b]
        combos = [c for c in combos if c not in NAME_TAKEN]
        self._names = [combos[i] for i in rng.permutation(len(combos))]
        self._next = 0

    def take(self) -> str:
        name = self._names[self._next]
        self._next += 1
        return name


def line_parts(geom: shapely.Geometry, min_length: float = 1.0) -> list[LineString]:
    """The LineStrings of a clip result, merged, dropping crumbs shorter than min_length."""
    if geom.is_empty:
        return []
    merged = shapely.line_merge(geom) if geom.geom_type != "LineString" else geom
    parts = shapely.get_parts(merged)
    return [p for p in parts if p.geom_type == "LineString" and p.length >= min_length]


def polygon_parts(geom: shapely.Geometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]


def bend(points: Sequence[tuple[float, float]], amplitudes: Sequence[float]) -> list:
    """Polyline through points whose k-th edge bows sideways by amplitudes[k] (half sine)."""
    out = [tuple(points[0])]
    for (p, q), amp in zip(zip(points[:-1], points[1:], strict=True), amplitudes, strict=True):
        p, q = np.asarray(p, float), np.asarray(q, float)
        if abs(amp) > 0.5:
            d = q - p
            n = np.array([-d[1], d[0]]) / np.hypot(*d)
            for t in np.linspace(0, 1, 9)[1:-1]:
                out.append(tuple(p + d * t + n * amp * math.sin(math.pi * t)))
        out.append(tuple(q))
    return out


def rect(cx: float, cy: float, length: float, depth: float, angle: float) -> Polygon:
    """Rectangle centred on (cx, cy), long side at angle (radians)."""
    c, s = math.cos(angle), math.sin(angle)
    hl, hd = length / 2, depth / 2
    corners = [(-hl, -hd), (hl, -hd), (hl, hd), (-hl, hd)]
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners])


def rotate_about(geom: shapely.Geometry, angle: float, origin: tuple[float, float]):
    """Rotate by angle (radians) about origin."""
    ox, oy = origin
    c, s = math.cos(angle), math.sin(angle)

    def turn(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([ox + x * c - y * s, oy + x * s + y * c])

    return shapely.transform(geom, turn)


# --------------------------------------------------------------------------- landscape


@dataclass
class River:
    centre: LineString
    polygon: Polygon
    vs: np.ndarray
    us: np.ndarray
    half_width: np.ndarray
    normals: np.ndarray

    def u_at(self, v: float | np.ndarray) -> float | np.ndarray:
        return np.interp(v, self.vs, self.us)

    def offset_line(self, extra: float, side: int, v_from: float, v_to: float) -> LineString:
        """Line running `extra` metres beyond the bank on side -1 (west) or +1 (east)."""
        keep = (self.vs >= v_from) & (self.vs <= v_to)
        centre = np.column_stack([self.us, self.vs])[keep]
        offset = (self.half_width[keep] + extra)[:, None] * self.normals[keep] * -side
        return LineString(centre + offset)


def make_district(rng: np.random.Generator) -> Polygon:
    """An irregular district: a rectangle whose edge wanders like old field and creek lines."""
    xmin, ymin, xmax, ymax = -1900.0, -2700.0, 1900.0, 2150.0
    corners = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax)]
    points, normals = [], []
    for k in range(4):
        p, q = np.array(corners[k]), np.array(corners[(k + 1) % 4])
        d = q - p
        steps = int(np.hypot(*d) // 120)
        n = np.array([d[1], -d[0]]) / np.hypot(*d)
        for t in np.arange(steps) / steps:
            points.append(p + d * t)
            normals.append(n if t > 0 else _corner(k))
    points, normals = np.array(points), np.array(normals)
    normals /= np.hypot(normals[:, 0], normals[:, 1])[:, None]
    # Smooth circular noise keeps the edge wavy without spikes.
    noise = rng.normal(0.0, 1.0, len(points))
    kernel = np.exp(-0.5 * (np.arange(-8, 9) / 2.5) ** 2)
    wrapped = np.concatenate([noise[-8:], noise, noise[:8]])
    smooth = np.convolve(wrapped, kernel / kernel.sum(), mode="valid")
    offset = smooth / smooth.std() * 45.0
    # Two lobes: districts rarely stop at a straight line.
    for centre, height in ((0.62, 140.0), (0.86, -110.0)):
        pos = centre * len(points)
        offset += height * np.exp(-0.5 * ((np.arange(len(points)) - pos) / 4.0) ** 2)
    district = Polygon(points + normals * offset[:, None])
    assert district.is_valid
    return district


def _corner(k: int) -> np.ndarray:
    """Outward diagonal at corner k of the district rectangle (SW, SE, NE, NW)."""
    return np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)][k], float)


def make_river(rng: np.random.Generator) -> River:
    """张泾河: a meandering river 34-54 m wide running south-north through the district."""
    vs = np.arange(-3300.0, 2900.0, 10.0)
    phase = rng.uniform(0, 2 * math.pi, 3)
    us = (
        30.0
        + 0.03 * vs
        + 130.0 * np.sin(2 * math.pi * vs / 2300 + phase[0])
        + 50.0 * np.sin(2 * math.pi * vs / 950 + phase[1])
    )
    half_width = (44.0 + 10.0 * np.sin(2 * math.pi * vs / 1700 + phase[2])) / 2
    centre = np.column_stack([us, vs])
    tangent = np.gradient(centre, axis=0)
    tangent /= np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
    normals = np.column_stack([-tangent[:, 1], tangent[:, 0]])  # pointing west
    left = centre + normals * half_width[:, None]
    right = centre - normals * half_width[:, None]
    polygon = Polygon(np.concatenate([left, right[::-1]]))
    assert polygon.is_valid
    return River(LineString(centre), polygon, vs, us, half_width, normals)


# --------------------------------------------------------------------------- roads


@dataclass
class Lattice:
    """Jittered urban arterial nodes: nodes[i][j] for URBAN_COLUMNS[i], URBAN_ROWS[j]."""

    nodes: np.ndarray  # (columns, rows, 2)


def make_arterials(rng: np.random.Generator, names: NamePool) -> tuple[Lattice, list[Line]]:
    """Trunk road, primary and secondary roads forming 480 m x 650 m superblocks."""
    nc, nr = len(URBAN_COLUMNS), len(URBAN_ROWS)
    nodes = np.zeros((nc, nr, 2))
    for i, u in enumerate(URBAN_COLUMNS):
        for j, v in enumerate(URBAN_ROWS):
            jitter = rng.uniform(-35, 35, 2) if 0 < i < nc - 1 and j < nr - 1 else 0.0
            nodes[i, j] = np.array([u, v]) + jitter
    lines: list[Line] = []
    # The trunk road bends gently and runs on past the lattice in both directions.
    trunk_pts = [(-3200.0, nodes[0, 0, 1] - 40)] + [tuple(p) for p in nodes[:, 0]]
    trunk_pts.append((3200.0, nodes[-1, 0, 1] + 30))
    amps = rng.uniform(-25, 25, len(trunk_pts) - 1)
    lines.append(Line(LineString(bend(trunk_pts, amps)), "road", "trunk", names.take() + "公路"))
    row_classes = {1: "primary", 2: "secondary", 3: "secondary"}
    for j in range(1, nr):
        amps = np.where(rng.random(nc - 1) < 0.3, rng.uniform(-55, 55, nc - 1), 0.0)
        pts = bend([tuple(p) for p in nodes[:, j]], amps)
        lines.append(Line(LineString(pts), "road", row_classes[j], names.take() + "路"))
    column_classes = {1: "primary", 2: "secondary", 3: "primary", 4: "secondary"}
    for i in range(nc):
        amps = np.where(rng.random(nr - 1) < 0.3, rng.uniform(-50, 50, nr - 1), 0.0)
        pts = bend([tuple(p) for p in nodes[i]], amps)
        cls = column_classes.get(i, "secondary")
        suffix = "大道" if cls == "primary" else "路"
        lines.append(Line(LineString(pts), "road", cls, names.take() + suffix))
    for line in lines:
        line.tags.add("urban_coarse")
    return Lattice(nodes), lines


def region_split(line: LineString, north: bool) -> Polygon:
    """The half of a large box north or south of an east-west line."""
    box = shapely.box(-4000, -4000, 4000, 4000)
    y_west, y_east = line.coords[0][1], line.coords[-1][1]
    cutter = LineString([(-5000.0, y_west), *line.coords, (5000.0, y_east)])
    halves = polygon_parts(split(box, cutter))
    halves.sort(key=lambda p: p.centroid.y)
    return halves[-1] if north else halves[0]


def make_riverside_roads(river: River, names: NamePool) -> list[Line]:
    """滨河路 on both banks through the urban streets, 16 m beyond the bank."""
    base = names.take()
    out = []
    for side, suffix in ((-1, "滨河西路"), (1, "滨河东路")):
        geom = river.offset_line(16.0, side, 500.0, 2800.0)
        out.append(Line(geom, "road", "tertiary", base + suffix, {"riverside"}))
    return out


def internal_roads(
    face: Polygon,
    rng: np.random.Generator,
    host_name: str,
    spacing: tuple[float, float] = (110.0, 170.0),
    wall: bool = False,
) -> list[Line]:
    """Compound roads inside one superblock: through roads one way, staggered ones the other.

    Works in the superblock's own slightly turned frame so that neighbouring superblocks do not
    line up like a lattice. Staggered cross roads end on the through roads (T-junctions), some
    blocks get a dead-end service spur, and an optional compound wall splits the superblock.
    """
    angle = math.radians(rng.uniform(-2.5, 2.5))
    origin = (face.centroid.x, face.centroid.y)
    local = rotate_about(face, -angle, origin)
    s0, t0, s1, t1 = local.bounds
    lo, hi = spacing
    margin = 0.45 * lo + 10
    through: list[float] = []
    s = s0 + rng.uniform(lo, hi)
    while s < s1 - margin:
        through.append(s)
        s += rng.uniform(lo, hi)
    out: list[Line] = []
    middle = int(np.argmin([abs(x - (s0 + s1) / 2) for x in through])) if through else -1
    lane = 1 + int(rng.integers(0, 30)) * 2  # Shanghai lanes: road name + odd number + 弄
    for k, s in enumerate(through):
        for part in line_parts(LineString([(s, t0 - 20), (s, t1 + 20)]).intersection(local), 30):
            cls = "tertiary" if k == middle and len(through) > 2 else "residential"
            name = f"{host_name}路" if cls == "tertiary" else f"{host_name}{NUMERALS[k]}支路"
            out.append(Line(part, "road", cls, name, {"through"}))
    bounds = [s0 - 20.0, *through, s1 + 20.0]
    for k in range(len(bounds) - 1):
        band = shapely.box(bounds[k], t0 - 1, bounds[k + 1], t1 + 1).intersection(local)
        if band.is_empty:
            continue
        _, ta, _, tb = band.bounds
        t = ta + rng.uniform(0.55 * lo, hi)
        while t < tb - margin:
            cross = LineString([(bounds[k], t), (bounds[k + 1], t)])
            for part in line_parts(cross.intersection(local), 30):
                cls = "service" if rng.random() < 0.4 else "residential"
                out.append(Line(part, "road", cls, f"{host_name}路{lane}弄"))
                lane += 2
                if rng.random() < 0.3 and part.length > 90:
                    out.append(_spur(part, rng, f"{host_name}路{lane}弄"))
                    lane += 2
            t += rng.uniform(lo, hi)
    if wall and len(through) >= 2:
        out.append(_wall(local, through, rng))
    for line in out:
        line.geom = rotate_about(line.geom, angle, origin)
    return out


def _spur(road: LineString, rng: np.random.Generator, name: str) -> Line:
    """A dead-end service lane leaving a cross road at right angles."""
    (xa, ya), (xb, yb) = road.coords[0], road.coords[-1]
    x = xa + (xb - xa) * rng.uniform(0.35, 0.65)
    y = ya + (yb - ya) * 0.5
    length = rng.uniform(40, 60) * (1 if rng.random() < 0.5 else -1)
    return Line(LineString([(x, y), (x, y + length)]), "road", "service", name, {"spur"})


def _wall(local: Polygon, through: list[float], rng: np.random.Generator) -> Line:
    """A compound wall between two through roads, jogging once: a committee border off-road."""
    k = int(rng.integers(0, len(through) - 1))
    s = (through[k] + through[k + 1]) / 2
    _, t0, _, t1 = local.bounds
    tj = t0 + (t1 - t0) * rng.uniform(0.35, 0.65)
    pts = [(s, t0 - 20), (s, tj), (s + 14, tj), (s + 14, t1 + 20)]
    part = max(line_parts(LineString(pts).intersection(local)), key=lambda g: g.length)
    return Line(part, "wall", tags={"wall"})


@dataclass
class Town:
    """The village road lattice south of the trunk road."""

    us: np.ndarray
    vs: np.ndarray
    nodes: np.ndarray  # (columns, rows, 2)
    anchored: dict[int, int]  # lattice column -> urban arterial column it continues
    seat_cols: tuple[int, int]
    seat_rows: tuple[int, int]

    def seat_polygon(self, rows: tuple[int, int] | None = None) -> Polygon:
        (c0, c1), (r0, r1) = self.seat_cols, rows or self.seat_rows
        ring = [self.nodes[i, r0] for i in range(c0, c1 + 1)]
        ring += [self.nodes[c1, j] for j in range(r0 + 1, r1 + 1)]
        ring += [self.nodes[i, r1] for i in range(c1 - 1, c0 - 1, -1)]
        ring += [self.nodes[c0, j] for j in range(r1 - 1, r0, -1)]
        return Polygon(ring)


def make_town_lattice(rng: np.random.Generator, lattice: Lattice) -> Town:
    """Village roads every ~250 m; four of them continue the urban arterials southwards."""
    anchors = {1: lattice.nodes[1, 0, 0], 2: lattice.nodes[2, 0, 0]}
    anchors |= {3: lattice.nodes[3, 0, 0], 4: lattice.nodes[4, 0, 0]}
    stops = [-2350.0, *anchors.values(), 2350.0]
    us: list[float] = []
    anchored: dict[int, int] = {}
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        if a in anchors.values():
            anchored[len(us)] = [k for k, u in anchors.items() if u == a][0]
        us.append(a)
        n = max(1, round((b - a) / TOWN_ROW_STEP))
        us.extend(a + (b - a) * k / n + rng.uniform(-15, 15) for k in range(1, n))
    us.append(stops[-1])
    vs = np.array([URBAN_ROWS[0] - TOWN_ROW_STEP * (j + 1) for j in range(TOWN_ROWS)])
    nodes = np.zeros((len(us), len(vs), 2))
    for i, u in enumerate(us):
        for j, v in enumerate(vs):
            spread = 12.0 if i in anchored or j in TOWN_MAJOR_ROWS else 30.0
            nodes[i, j] = np.array([u, v]) + rng.uniform(-spread, spread, 2)
    seat_c0 = [i for i, a in anchored.items() if a == 3][0]
    seat_c1 = [i for i, a in anchored.items() if a == 4][0]
    seat_rows = (TOWN_MAIN_STREET_ROW - 1, TOWN_MAIN_STREET_ROW + 1)
    return Town(np.array(us), vs, nodes, anchored, (seat_c0, seat_c1), seat_rows)


def town_roads(
    rng: np.random.Generator,
    town: Town,
    lattice: Lattice,
    river: River,
    names: NamePool,
) -> list[Line]:
    """Lattice edges grouped into roads; minor edges are dropped at random and at the river."""
    wet = river.polygon.buffer(25.0)
    seat = town.seat_polygon().buffer(5.0)
    nu, nv = len(town.us), len(town.vs)
    out: list[Line] = []
    for i in range(nu):
        pts = [tuple(town.nodes[i, j]) for j in range(nv - 1, -1, -1)]
        if i in town.anchored:
            column = town.anchored[i]
            pts.append(tuple(lattice.nodes[column, 0]))
            cls = "secondary" if column in (1, 3) else "tertiary"
            lines = _lattice_road(pts, cls, names.take() + "公路", None, None, rng, seat)
            if column in (1, 4):  # village borders follow the outer two of these roads
                for line in lines:
                    line.tags.add("town_coarse")
            out += lines
        else:
            pts.append((pts[-1][0], URBAN_ROWS[0] + 150.0))  # clipped at the trunk road
            cls = _minor_class(rng, pts, seat, 0.55)
            out += _lattice_road(pts, cls, _minor_name(names, cls), wet, 0.2, rng, seat)
    for j in range(nv):
        pts = [tuple(town.nodes[i, j]) for i in range(nu)]
        if j in TOWN_MAJOR_ROWS:
            cls = "secondary" if j == TOWN_MAIN_STREET_ROW else "tertiary"
            name = names.take() + ("大街" if j == TOWN_MAIN_STREET_ROW else "路")
            lines = _lattice_road(pts, cls, name, None, None, rng, seat)
            for line in lines:
                line.tags.add("town_coarse")
            out += lines
        else:
            cls = _minor_class(rng, pts, seat, 0.6)
            out += _lattice_road(pts, cls, _minor_name(names, cls), wet, 0.2, rng, seat)
    return out


def _minor_class(rng: np.random.Generator, pts: list, seat: Polygon, paved: float) -> str:
    """Village lanes are paved (residential) or field tracks; lanes through the seat are paved."""
    draw = rng.random()  # drawn either way, so the seat does not shift the random stream
    if LineString(pts).intersects(seat):
        return "residential"
    return "residential" if draw < paved else "track"


def _minor_name(names: NamePool, cls: str) -> str:
    return names.take() + ("机耕路" if cls == "track" else "村路")


def _lattice_road(
    pts: list[tuple[float, float]],
    cls: str,
    name: str,
    wet: Polygon | None,
    drop: float | None,
    rng: np.random.Generator,
    seat: Polygon,
) -> list[Line]:
    """Runs of kept edges become road features; a dropped edge leaves a dead end or a T."""
    keep = []
    for p, q in zip(pts[:-1], pts[1:], strict=True):
        edge = LineString([p, q])
        in_seat = seat.contains(edge)
        ok = True
        if wet is not None and edge.intersects(wet):
            ok = False
        elif drop is not None and not in_seat and rng.random() < drop:
            ok = False
        keep.append(ok)
    out, run = [], [pts[0]]
    for q, ok in zip(pts[1:], keep, strict=True):
        if ok:
            run.append(q)
            continue
        if len(run) > 1:
            out.append(Line(LineString(run), "road", cls, name))
        run = [q]
    if len(run) > 1:
        out.append(Line(LineString(run), "road", cls, name))
    return out


def make_canals(
    rng: np.random.Generator, town: Town, river: River, names: NamePool, district: Polygon
) -> list[Line]:
    """河浜 leaving the river east and west between village road rows, two linking creeks."""
    seat = town.seat_polygon().buffer(45.0)
    out: list[Line] = []
    by_gap: dict[tuple[int, int], LineString] = {}
    for gap in TOWN_CANAL_GAPS:
        v_mid = (town.vs[gap] + town.vs[gap + 1]) / 2
        u_river = float(river.u_at(v_mid))
        for side in (-1, 1):
            length = rng.uniform(700, 2300)
            us = np.arange(0.0, length, 15.0)
            wave = rng.uniform(300, 500)
            phase = rng.uniform(0, 2 * math.pi)
            vv = v_mid + 18.0 * np.sin(2 * math.pi * us / wave + phase)
            raw = LineString(np.column_stack([u_river + side * us, vv]))
            dry = raw.difference(river.polygon).difference(seat)
            parts = [p for p in line_parts(dry, 60) if p.distance(river.polygon) < 1e-6]
            if not parts:
                continue
            kind = "浜" if rng.random() < 0.5 else "泾"
            geom = parts[0]
            if not district.buffer(EXTENT_MARGIN).contains(geom):
                kind = "港"
            out.append(Line(geom, "canal", name=names.take() + kind, tags={"town_coarse"}))
            by_gap[(gap, side)] = geom
    out += _link_canals(rng, by_gap, names)
    return out


def _link_canals(
    rng: np.random.Generator, by_gap: dict[tuple[int, int], LineString], names: NamePool
) -> list[Line]:
    """North-south creeks joining two east-west canals, crossing the one between them."""
    out = []
    for (g_a, g_b), side in (((3, 7), -1), ((5, 9), 1)):
        a, b = by_gap.get((g_a, side)), by_gap.get((g_b, side))
        if a is None or b is None:
            continue
        reach = min(_reach(a), _reach(b))
        u = side * reach * rng.uniform(0.45, 0.7) + _start_u(a)
        v_top, v_bottom = a.bounds[3] + 40, b.bounds[1] - 40
        vv = np.arange(v_bottom, v_top, 15.0)
        uu = u + 15.0 * np.sin(2 * math.pi * vv / 420)
        raw = LineString(np.column_stack([uu, vv]))
        pa, pb = raw.intersection(a), raw.intersection(b)
        if pa.is_empty or pb.is_empty:
            continue
        da = min(raw.project(p) for p in shapely.get_parts(pa))
        db = max(raw.project(p) for p in shapely.get_parts(pb))
        geom = substring(raw, min(da, db), max(da, db))
        out.append(Line(geom, "canal", name=names.take() + "泾", tags={"town_coarse"}))
    return out


def _start_u(canal: LineString) -> float:
    return canal.coords[0][0]


def _reach(canal: LineString) -> float:
    return abs(canal.coords[-1][0] - canal.coords[0][0])


# --------------------------------------------------------------------------- noding


def _attach(coords: list, p: tuple[float, float], overwrite: bool) -> tuple[float, float]:
    """Make p a vertex of the polyline coords and return the shared coordinate.

    A vertex within SNAP_TOL is reused (or moved onto p when overwrite is set, so that two lines
    agree on the very same coordinate); otherwise p is inserted into its nearest segment.
    """
    arr = np.asarray(coords)
    dv = np.hypot(arr[:, 0] - p[0], arr[:, 1] - p[1])
    k = int(np.argmin(dv))
    if dv[k] <= SNAP_TOL:
        if not overwrite:
            return coords[k]
        coords[k] = p
        closed = len(coords) > 3 and k in (0, len(coords) - 1)
        if closed and arr[0, 0] == arr[-1, 0] and arr[0, 1] == arr[-1, 1]:
            coords[0] = coords[-1] = p
        return p
    a, b = arr[:-1], arr[1:]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-300), 0.0, 1.0)
    d = np.hypot(*(a + ab * t[:, None] - p).T)
    coords.insert(int(np.argmin(d)) + 1, p)
    return p


def node_lines(lines: list[Line]) -> None:
    """Node the network in place so that every junction is a vertex shared by both lines.

    Endpoints lying on another line (T-junctions made by clipping) are joined to it exactly and
    every crossing point is inserted into both lines. Shared vertices survive reprojection, so
    the written roads, rivers and community borders polygonize without slivers or dangles.
    """
    coords = [[tuple(c) for c in line.geom.coords] for line in lines]
    tree = STRtree([line.geom for line in lines])
    left, right = tree.query([line.geom for line in lines], predicate="dwithin", distance=1e-4)
    for i, j in sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}):
        for x, y in ((i, j), (j, i)):
            host = LineString(coords[y])
            for end in (0, -1):
                if host.distance(Point(coords[x][end])) <= SNAP_TOL:
                    coords[x][end] = _attach(coords[y], coords[x][end], overwrite=False)
        crossing = LineString(coords[i]).intersection(LineString(coords[j]))
        for part in shapely.get_parts(crossing):
            if part.geom_type != "Point":
                raise RuntimeError(f"lines {lines[i].name} and {lines[j].name} overlap")
            q = _attach(coords[i], (part.x, part.y), overwrite=False)
            _attach(coords[j], q, overwrite=True)
    for line, cs in zip(lines, coords, strict=True):
        line.geom = LineString(cs)


def polygonize(lines: Iterable[LineString]) -> list[Polygon]:
    merged = shapely.union_all(list(lines))
    return polygon_parts(shapely.polygonize(shapely.get_parts(merged)))


# --------------------------------------------------------------------------- communities


@dataclass
class Community:
    code: str
    name: str
    street: str
    geom: Polygon
    kind: str  # urban | seat | village
    faces: list[int]


@dataclass
class Region:
    street: str  # "001", "002" or "101"
    kind: str
    faces: list[int]
    geom: Polygon = field(default_factory=Polygon)


def build_regions(
    faces: list[Polygon],
    lines: list[Line],
    urban_zone: Polygon,
    river: River,
    town: Town,
) -> list[Region]:
    """Group the network's faces into coarse regions along the main roads, river and canals."""
    points = shapely.point_on_surface(np.array(faces))
    urban = polygonize(
        [ln.geom for ln in lines if "urban_coarse" in ln.tags or ln.kind in ("district", "wall")]
        + [ln.geom for ln in lines if ln.kind == "river_centre"]
    )
    rural = polygonize(
        [ln.geom for ln in lines if "town_coarse" in ln.tags or ln.kind == "district"]
        + [ln.geom for ln in lines if ln.kind == "river_centre" or ln.cls == "trunk"]
    )
    seat_halves = [
        town.seat_polygon((town.seat_rows[0], TOWN_MAIN_STREET_ROW)),
        town.seat_polygon((TOWN_MAIN_STREET_ROW, town.seat_rows[1])),
    ]
    regions: dict[tuple[str, int], Region] = {}
    in_urban = shapely.contains(urban_zone, points)
    for k, point in enumerate(points):
        west = point.x < river.u_at(point.y)
        if in_urban[k]:
            key, street, kind = ("u", _index_of(urban, point)), "001" if west else "002", "urban"
        elif (seat := _index_of(seat_halves, point)) >= 0:
            key, street, kind = ("s", seat), "101", "seat"
        else:
            key, street, kind = ("r", _index_of(rural, point)), "101", "village"
        if key[1] < 0:
            raise RuntimeError(f"face {k} lies in no coarse region")
        regions.setdefault(key, Region(street, kind, [])).faces.append(k)
    out = list(regions.values())
    for region in out:
        region.geom = _union(faces, region.faces)
    return out


def _index_of(polys: list[Polygon], point: Point) -> int:
    for k, poly in enumerate(polys):
        if poly.contains(point):
            return k
    return -1


def _union(faces: list[Polygon], idx: list[int]) -> Polygon:
    geom = shapely.coverage_union_all([faces[k] for k in idx])
    parts = polygon_parts(geom)
    if len(parts) != 1:
        raise RuntimeError(f"community of {len(idx)} faces is not one polygon ({len(parts)})")
    return parts[0]


def split_large(regions: list[Region], faces: list[Polygon], lines: list[Line]) -> None:
    """Cut urban regions above URBAN_SPLIT_HA along the through road that halves them best."""
    through = [ln.geom for ln in lines if "through" in ln.tags]
    tree = STRtree(through)
    for region in list(regions):
        if region.kind != "urban" or region.geom.area / 1e4 <= URBAN_SPLIT_HA:
            continue
        best: tuple[float, list[Polygon]] | None = None
        grown = region.geom.buffer(1e-3)
        for k in tree.query(region.geom, predicate="intersects"):
            road = through[int(k)]
            if not grown.contains(road):
                continue
            pieces = polygonize([region.geom.exterior, road])
            if len(pieces) != 2:
                continue
            score = max(p.area for p in pieces)
            if best is None or score < best[0]:
                best = (score, pieces)
        if best is None:
            continue
        pieces = best[1]
        groups: list[list[int]] = [[], []]
        for f in region.faces:
            groups[_index_of(pieces, faces[f].representative_point())].append(f)
        region.faces = groups[0]
        region.geom = _union(faces, groups[0])
        regions.append(Region(region.street, region.kind, groups[1], _union(faces, groups[1])))


def merge_small(regions: list[Region], faces: list[Polygon]) -> None:
    """Merge regions below the minimum into the neighbour they share most border with."""
    minimum = {"urban": URBAN_MIN_HA, "village": VILLAGE_MIN_HA, "seat": URBAN_MIN_HA}
    while True:
        small = [r for r in regions if r.geom.area / 1e4 < minimum[r.kind]]
        if not small:
            return
        region = min(small, key=lambda r: r.geom.area)
        best, best_len = None, 0.0
        for other in regions:
            if other is region or other.street != region.street or other.kind != region.kind:
                continue
            shared = region.geom.boundary.intersection(other.geom.boundary).length
            if shared > best_len:
                best, best_len = other, shared
        if best is None:
            raise RuntimeError("a small region has no neighbour to merge into")
        best.faces += region.faces
        best.geom = _union(faces, best.faces)
        regions.remove(region)


def name_communities(regions: list[Region], names: NamePool) -> list[Community]:
    """Codes by street and position (north to south, west to east) and Chinese names."""
    out = []
    for street in sorted({r.street for r in regions}):
        members = [r for r in regions if r.street == street]
        members.sort(
            key=lambda r: (r.kind != "seat", -round(r.geom.centroid.y / 250), r.geom.centroid.x)
        )
        urban_no, village_no = 1, 201
        for region in members:
            if region.kind == "village":
                code, name = f"{village_no:03d}", names.take() + "村"
                village_no += 1
            else:
                code, name = f"{urban_no:03d}", names.take() + "居委会"
                urban_no += 1
            code = f"{COUNTY}{street}{code}"
            out.append(
                Community(code, name, STREETS[street], region.geom, region.kind, region.faces)
            )
    return out


# --------------------------------------------------------------------------- network


@dataclass
class Network:
    district: Polygon
    river: River
    lines: list[Line]
    faces: list[Polygon]  # the blocks: faces of the noded network inside the district
    urban_zone: Polygon
    town: Town
    lattice: Lattice


def clip(lines: list[Line], area: Polygon, min_length: float = 20.0) -> list[Line]:
    """Clip lines to an area; a line cut in several pieces becomes several features."""
    out = []
    for line in lines:
        for part in line_parts(line.geom.intersection(area), min_length):
            out.append(Line(part, line.kind, line.cls, line.name, set(line.tags)))
    return out


def superblocks(
    arterials: list[Line], riverside: list[Line], urban_zone: Polygon, extent: Polygon, river: River
) -> list[Polygon]:
    """Land between the arterials (and the riverside roads) that gets compound roads."""
    faces = polygonize([ln.geom for ln in arterials + riverside])
    return [
        f
        for f in faces
        if urban_zone.contains(f.representative_point())
        and f.intersects(extent)
        and not f.intersects(river.polygon)
    ]


def nearest(polys: list[Polygon], xy: tuple[float, float]) -> int:
    return int(np.argmin([p.representative_point().distance(Point(xy)) for p in polys]))


def make_network(rng: np.random.Generator, names: NamePool) -> Network:
    district = make_district(rng)
    extent = district.buffer(EXTENT_MARGIN)
    river = make_river(rng)
    lattice, arterials = make_arterials(rng, names)
    urban_zone = region_split(arterials[0].geom, north=True)
    town_zone = region_split(arterials[0].geom, north=False)
    riverside = make_riverside_roads(river, names)
    blocks = superblocks(arterials, riverside, urban_zone, extent, river)
    walled = {nearest(blocks, (-925.0, 1420.0)), nearest(blocks, (925.0, 940.0))}
    compound: list[Line] = []
    for k, block in enumerate(blocks):
        host = names.take()
        compound += internal_roads(block, rng, host, wall=k in walled)
    town = make_town_lattice(rng, lattice)
    village = clip(town_roads(rng, town, lattice, river, names), town_zone, 1.0)
    seat = town.seat_polygon()
    seat_cells = [
        f
        for f in polygonize([ln.geom for ln in village])
        if seat.contains(f.representative_point())
    ]
    for cell in seat_cells:
        compound += internal_roads(cell, rng, names.take(), spacing=(85.0, 125.0))
    canals = make_canals(rng, town, river, names, district)
    lines = clip(arterials + compound + village + canals, extent)
    # A dead-end spur crossing the district edge would only cut slivers off the edge blocks.
    lines = [ln for ln in lines if not ("spur" in ln.tags and ln.geom.crosses(district.exterior))]
    lines += clip(riverside, urban_zone.intersection(extent))
    water = river.polygon.intersection(extent)
    river_centre = river.centre.intersection(extent)
    lines.append(Line(LineString(water.exterior.coords), "river_bank", name="张泾河"))
    lines.append(Line(river_centre, "river_centre", name="张泾河"))
    lines.append(Line(LineString(district.exterior.coords), "district"))
    node_lines(lines)
    river.polygon = Polygon(next(ln for ln in lines if ln.kind == "river_bank").geom.coords)
    district = Polygon(next(ln for ln in lines if ln.kind == "district").geom.coords)
    faces = [
        f
        for f in polygonize(ln.geom for ln in lines)
        if district.contains(f.representative_point())
    ]
    return Network(district, river, lines, faces, urban_zone, town, lattice)


# --------------------------------------------------------------------------- defects


@dataclass
class Defect:
    kind: str  # gap | overlap
    codes: tuple[str, str]
    area: float
    length: float
    width: float
    where: Point


STEP_INSET = 15.0  # a defect starts this far along the border from the nearest vertex


def _shared_window(a: Polygon, b: Polygon, target: float) -> tuple[list, int, int] | None:
    """Ring of a (rotated) and the straightest run of its vertices s..e on b's border.

    The run, less STEP_INSET at both ends, is about target metres long; its end segments are
    long enough to start the defect away from any vertex, where roads meet the border.
    """
    ring = list(a.exterior.coords)[:-1]
    border = b.boundary
    on_b = [border.distance(Point(c)) < 1e-9 for c in ring]
    if all(on_b) or not any(on_b):
        return None
    start = next(k for k in range(len(ring)) if not on_b[k])
    ring = ring[start:] + ring[:start]  # begin outside the shared border
    on_b = on_b[start:] + on_b[:start]
    best = None
    k = 0
    while k < len(ring):
        if not on_b[k]:
            k += 1
            continue
        end = k
        while end + 1 < len(ring) and on_b[end + 1]:
            end += 1
        for s in range(k, end):
            for e in range(s + 1, end + 1):
                first = math.dist(ring[s], ring[s + 1])
                last = math.dist(ring[e - 1], ring[e])
                run = LineString(ring[s : e + 1])
                inner = run.length - 2 * STEP_INSET
                if min(first, last) < 3 * STEP_INSET or abs(inner - target) > 0.25 * target:
                    continue
                straight = math.dist(ring[s], ring[e]) / run.length
                if best is None or straight > best[0]:
                    best = (straight, s, e)
        k = end + 1
    if best is None or best[0] < 0.97:
        return None
    return ring, best[1], best[2]


def _offset_vertices(pts: np.ndarray, distance: float) -> np.ndarray:
    """Every vertex moved sideways (left when distance > 0), keeping the segments parallel."""
    seg = np.diff(pts, axis=0)
    seg /= np.hypot(seg[:, 0], seg[:, 1])[:, None]
    left = np.column_stack([-seg[:, 1], seg[:, 0]])
    mitre = np.vstack([left[:1], left[:-1] + left[1:], left[-1:]])
    inner = slice(1, len(pts) - 1)
    mitre[inner] /= (1 + (left[:-1] * left[1:]).sum(1))[:, None]
    return pts + distance * mitre


def _toward(p: tuple[float, float], q: tuple[float, float], d: float) -> tuple[float, float]:
    t = d / math.dist(p, q)
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def _add_vertex(geom: shapely.Geometry, p: tuple[float, float]) -> list:
    coords = list(geom.exterior.coords if geom.geom_type == "Polygon" else geom.coords)
    _attach(coords, p, overwrite=False)
    return coords


def _push(
    poly: Polygon, other: Polygon, width: float, into_self: bool, target: float, net: Network
) -> tuple[Polygon, Polygon, float] | None:
    """Move part of poly's border with other by width into poly (gap) or into other (overlap).

    The two ends of the moved part become vertices of poly, other and any line under them, so
    that the defect is a clean strip and every other edge stays exactly shared.
    """
    window = _shared_window(poly, other, target)
    if window is None:
        return None
    ring, s, e = window
    p0, p1 = _toward(ring[s], ring[s + 1], STEP_INSET), _toward(ring[e], ring[e - 1], STEP_INSET)
    run = np.array([p0, *ring[s + 1 : e], p1])
    probe = LineString(_offset_vertices(run, width / 2)).interpolate(0.5, normalized=True)
    sign = 1.0 if poly.contains(probe) == into_self else -1.0
    moved = [tuple(p) for p in _offset_vertices(run, sign * width)]
    new = Polygon(ring[: s + 1] + [p0, *moved, p1] + ring[e:])
    new_other = Polygon(_add_vertex(Polygon(_add_vertex(other, p0)), p1))
    if not (new.is_valid and new_other.is_valid):
        return None
    for line in net.lines:
        for p in (p0, p1):
            if line.geom.distance(Point(p)) <= SNAP_TOL:
                line.geom = LineString(_add_vertex(line.geom, p))
    return new, new_other, LineString(run).length


def apply_defects(communities: list[Community], cbd_codes: set[str], net: Network) -> list[Defect]:
    """Break the admin data the way real data is broken: one sliver gap, one overlap."""
    defects = []
    plans = (("gap", "urban", 2.0, 400.0), ("overlap", "village", 3.5, 420.0))
    for kind, community_kind, width, target in plans:
        pool = [c for c in communities if c.kind == community_kind and c.code not in cbd_codes]
        pairs = [(a, b) for a in pool for b in pool if a.code < b.code]
        for a, b in pairs:
            if a.geom.boundary.intersection(b.geom.boundary).length < target + 100:
                continue
            victim, other = (a, b) if kind == "gap" else (b, a)
            found = _push(victim.geom, other.geom, width, kind == "gap", target, net)
            if found is None:
                continue
            before = victim.geom
            victim.geom, other.geom, length = found
            strip = before.symmetric_difference(victim.geom)
            where = strip.centroid
            defects.append(Defect(kind, (a.code, b.code), strip.area, length, width, where))
            break
        else:
            raise RuntimeError(f"no pair of communities can take the {kind} defect")
    return defects


# --------------------------------------------------------------------------- key areas


@dataclass
class KeyArea:
    name: str
    kind: str
    geom: Polygon


def make_key_areas(communities: list[Community], net: Network) -> tuple[list[KeyArea], set[str]]:
    """The CBD: the four river-side committees north of the first primary road. The landscape
    belt: 100 m beyond both banks of the river from the CBD south into the town."""
    west_u, east_u = net.lattice.nodes[2, 1, 0], net.lattice.nodes[3, 1, 0]
    row_v = net.lattice.nodes[2:4, 1, 1].mean()
    members = [
        c
        for c in communities
        if c.kind == "urban" and west_u < c.geom.centroid.x < east_u and c.geom.centroid.y > row_v
    ]
    cbd = polygon_parts(shapely.coverage_union_all([c.geom for c in members]))
    if len(cbd) != 1:
        raise RuntimeError("the CBD committees do not form one polygon")
    centre = net.river.centre
    lo = centre.project(Point(float(net.river.u_at(-450.0)), -450.0))
    hi = centre.project(Point(float(net.river.u_at(1500.0)), 1500.0))
    stretch = substring(centre, lo, hi)
    belt_raw = stretch.buffer(122.0, cap_style="flat").intersection(net.district)
    belt = max(polygon_parts(belt_raw.difference(cbd[0])), key=lambda p: p.area)
    street = STREETS[members[0].code[6:9]]
    areas = [
        KeyArea(street[:2] + "中心商务区", "cbd", cbd[0]),
        KeyArea("张泾河滨河景观带", "landscape_belt", belt),
    ]
    return areas, {c.code for c in members}


# --------------------------------------------------------------------------- buildings


@dataclass
class Layout:
    """Rows of rectangles: sizes and gaps are (low, high) ranges in metres."""

    length: tuple[float, float]
    depth: tuple[float, float]
    gap_along: tuple[float, float]
    gap_across: tuple[float, float]
    use: str
    floors: Callable[[np.random.Generator], int]


LAYOUTS = {
    "slab": Layout(
        (50, 80),
        (12, 15),
        (10, 18),
        (25, 35),
        "residential",
        lambda r: int(r.integers(5, 8) if r.random() < 0.55 else r.integers(11, 19)),
    ),
    "tower": Layout(
        (24, 30), (24, 30), (18, 28), (20, 30), "residential", lambda r: int(r.integers(18, 34))
    ),
    "oldtown": Layout(
        (9, 13), (8, 11), (2.5, 4), (4, 6), "residential", lambda r: int(r.integers(2, 4))
    ),
    "cbd": Layout(
        (35, 70),
        (25, 45),
        (14, 22),
        (14, 22),
        "commercial",
        lambda r: int(r.integers(20, 46) if r.random() < 0.3 else r.integers(4, 13)),
    ),
    "school": Layout(
        (50, 70), (13, 16), (12, 20), (20, 30), "public", lambda r: int(r.integers(3, 6))
    ),
    "industrial": Layout(
        (50, 110), (25, 50), (14, 24), (14, 24), "industrial", lambda r: int(r.integers(1, 4))
    ),
    "park": Layout((8, 14), (8, 14), (50, 80), (50, 80), "public", lambda r: int(r.integers(1, 3))),
    "hamlet": Layout(
        (10, 15), (8, 12), (4, 7), (8, 12), "residential", lambda r: int(r.integers(2, 4))
    ),
    "shops": Layout(
        (20, 40), (14, 20), (4, 8), (10, 16), "commercial", lambda r: int(r.integers(2, 6))
    ),
}
URBAN_STYLES = (
    ("slab", 0.5),
    ("tower", 0.15),
    ("oldtown", 0.14),
    ("school", 0.08),
    ("industrial", 0.06),
    ("shops", 0.07),
)
SEAT_STYLES = (("oldtown", 0.5), ("slab", 0.25), ("shops", 0.25))
INDUSTRIAL_PARK = shapely.box(700.0, 150.0, 1800.0, 640.0)


def block_angle(block: Polygon) -> float:
    """Direction of the block's sides nearest to east-west: slabs face south along it."""
    corners = np.asarray(shapely.oriented_envelope(block).exterior.coords)
    dx, dy = corners[1] - corners[0]
    return (math.atan2(dy, dx) + math.pi / 4) % (math.pi / 2) - math.pi / 4


def grid_layout(inner: Polygon, rng: np.random.Generator, angle: float, lay: Layout) -> list:
    """Rows of rectangles across the block, each row spread over the land it crosses.

    Only rectangles wholly on buildable land are kept.
    """
    origin = (inner.centroid.x, inner.centroid.y)
    local = rotate_about(inner, -angle, origin)
    x0, y0, x1, y1 = local.bounds
    boxes = []
    y = y0 + rng.uniform(0, lay.gap_across[0] / 2)
    while y < y1:
        depth = rng.uniform(*lay.depth)
        for xa, xb in _free_spans(local, y, y + depth):
            boxes += _row(xa + 0.5, xb - 0.5, y, depth, lay, rng)
        y += depth + rng.uniform(*lay.gap_across)
    if not boxes:
        return []
    shapes = rotate_about(np.array(boxes), angle, origin)
    shapely.prepare(inner)
    return list(shapes[shapely.contains(inner, shapes)])


def _free_spans(local: Polygon, ya: float, yb: float) -> list[tuple[float, float]]:
    """Intervals of x where the land spans the whole band ya..yb (sampled on three lines)."""
    x0, _, x1, _ = local.bounds
    spans: list[tuple[float, float]] | None = None
    for y in (ya + 0.01, (ya + yb) / 2, yb - 0.01):
        cut = local.intersection(LineString([(x0 - 1, y), (x1 + 1, y)]))
        found = sorted((p.bounds[0], p.bounds[2]) for p in line_parts(cut, 0.5))
        if spans is None:
            spans = found
            continue
        spans = [
            (max(a, c), min(b, d))
            for a, b in spans
            for c, d in found
            if min(b, d) - max(a, c) > 0.5
        ]
    return spans or []


def _row(
    xa: float, xb: float, y: float, depth: float, lay: Layout, rng: np.random.Generator
) -> list[Polygon]:
    """Buildings of one length justified across [xa, xb], gaps no narrower than the minimum."""
    length = rng.uniform(*lay.length)
    gap = rng.uniform(*lay.gap_along)
    count = int((xb - xa + gap) // (length + gap))
    if count < 1:
        length = xb - xa
        if length < lay.length[0] * 0.75:
            return []
        count = 1
    spare = (xb - xa) - count * length - (count - 1) * gap
    step = length + gap + (spare / (count - 1) if count > 1 else 0.0)
    start = xa + (spare / 2 if count == 1 else 0.0)
    return [
        shapely.box(start + k * step, y, start + k * step + length, y + depth) for k in range(count)
    ]


def choose(rng: np.random.Generator, table: tuple[tuple[str, float], ...]) -> str:
    names, weights = zip(*table, strict=True)
    return str(rng.choice(names, p=np.array(weights) / sum(weights)))


def barriers(net: Network, communities: list[Community]) -> list[shapely.Geometry]:
    """Everything a building must keep clear of, grown by the setback."""
    out = []
    for line in net.lines:
        if line.kind == "road":
            out.append(line.geom.buffer(SETBACK[line.cls], quad_segs=4))
        elif line.kind == "canal":
            out.append(line.geom.buffer(CANAL_SETBACK, quad_segs=4))
        elif line.kind in ("wall", "district"):
            out.append(line.geom.buffer(BOUNDARY_SETBACK, quad_segs=2))
    out.append(net.river.polygon.buffer(RIVER_SETBACK, quad_segs=4))
    out += [c.geom.exterior.buffer(BOUNDARY_SETBACK, quad_segs=2) for c in communities]
    return out


def buildable(net: Network, communities: list[Community]) -> list[shapely.Geometry]:
    """Each block minus the setbacks of the roads, water and borders around it."""
    zones = barriers(net, communities)
    tree = STRtree(zones)
    out = []
    for block in net.faces:
        near = tree.query(block, predicate="intersects")
        out.append(block.difference(shapely.union_all([zones[k] for k in near])))
    return out


def village_houses(net: Network, rng: np.random.Generator) -> list[Building]:
    """Farmhouses in hamlets strung along village lanes and creeks, one or two rows deep."""
    out = []
    for line in net.lines:
        paved = line.kind == "road" and line.cls in ("residential", "tertiary")
        track = line.kind == "road" and line.cls == "track"
        if not (paved or track or line.kind == "canal"):
            continue
        setback = CANAL_SETBACK if line.kind == "canal" else SETBACK[line.cls]
        geom, pos = line.geom, rng.uniform(0, 150)
        busy = 0.6 if track else 1.0
        while pos < geom.length:
            end = min(geom.length, pos + rng.uniform(60, 280))
            if rng.random() < busy:
                while pos < end:
                    width = rng.uniform(10, 15)
                    out += _houses_at(geom, pos + width / 2, width, setback, rng)
                    pos += width + rng.uniform(3, 8)
            pos = end + rng.uniform(40, 170)
    return out


def _houses_at(
    geom: LineString, at: float, width: float, setback: float, rng: np.random.Generator
) -> list[Building]:
    p = geom.interpolate(at)
    q = geom.interpolate(min(geom.length, at + 1.0))
    o = geom.interpolate(max(0.0, at - 1.0))
    angle = math.atan2(q.y - o.y, q.x - o.x)
    normal = (-math.sin(angle), math.cos(angle))
    out = []
    for side in (-1.0, 1.0):
        if rng.random() > 0.9:
            continue
        depth = rng.uniform(8, 12)
        offset = setback + 2.5 + depth / 2 + rng.uniform(0, 5)
        rows = 2 if rng.random() < 0.45 else 1
        for row in range(rows):
            d = side * (offset + row * (depth + rng.uniform(6, 12)))
            cx, cy = p.x + normal[0] * d, p.y + normal[1] * d
            floors = 1 if rng.random() < 0.1 else int(rng.integers(2, 4))
            out.append(Building(rect(cx, cy, width, depth, angle), floors, "residential"))
    return out


def make_buildings(
    net: Network,
    communities: list[Community],
    key_areas: list[KeyArea],
    face_kind: list[str],
    rng: np.random.Generator,
) -> list[Building]:
    cbd, belt = key_areas[0].geom, key_areas[1].geom
    inner = buildable(net, communities)
    out: list[Building] = []
    village_land = []
    hamlets = resettlement_blocks(net, communities)
    for k, (block, land, kind) in enumerate(zip(net.faces, inner, face_kind, strict=True)):
        point = block.representative_point()
        if land.is_empty:
            continue
        if kind == "village":
            if INDUSTRIAL_PARK.contains(point):
                style = "industrial"
            elif k in hamlets:
                style = "hamlet"
            else:
                village_land.append(land)
                continue
        elif kind == "seat":
            style = choose(rng, SEAT_STYLES)
        elif cbd.contains(point):
            style = "cbd"
        elif belt.contains(point):
            style = "park"
        else:
            style = choose(rng, URBAN_STYLES)
        lay = LAYOUTS[style]
        if style == "school":  # the south half of a school is its sports ground
            x0, y0, x1, y1 = land.bounds
            land = land.intersection(shapely.box(x0, (y0 + y1) / 2, x1, y1))
        for shape in grid_layout(land, rng, block_angle(block), lay):
            out.append(Building(shape, lay.floors(rng), lay.use))
    houses = village_houses(net, rng)
    shapes = np.array([h.geom for h in houses])
    tree = STRtree(village_land)
    inside, _ = tree.query(shapes, predicate="within")
    out += [houses[k] for k in sorted(set(inside.tolist()))]
    return drop_overlaps(out, belt)


def resettlement_blocks(net: Network, communities: list[Community]) -> set[int]:
    """One block per village rebuilt as a compact settlement (农民集中居住点) of row houses."""
    out = set()
    for community in communities:
        if community.kind != "village":
            continue
        centre = community.geom.centroid
        sized = [f for f in community.faces if 2e4 < net.faces[f].area < 9e4]
        if sized:
            out.add(min(sized, key=lambda f: net.faces[f].centroid.distance(centre)))
    return out


def drop_overlaps(buildings: list[Building], belt: Polygon) -> list[Building]:
    """Keep the first of any buildings closer than 1.5 m; housing stays out of the belt."""
    shapes = np.array([b.geom for b in buildings])
    grown = shapely.buffer(shapes, 0.75, quad_segs=1)
    tree = STRtree(grown)
    left, right = tree.query(grown, predicate="intersects")
    clash: dict[int, list[int]] = {}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if b < a:
            clash.setdefault(a, []).append(b)
    in_belt = shapely.intersects(belt, shapes)
    kept: list[int] = []
    alive = np.zeros(len(buildings), bool)
    for k, building in enumerate(buildings):
        if in_belt[k] and building.use != "public":
            continue
        if any(alive[j] for j in clash.get(k, [])):
            continue
        alive[k] = True
        kept.append(k)
    return [buildings[k] for k in kept]


# --------------------------------------------------------------------------- output


def to_lonlat(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Local metres -> EPSG:4549 (turn and shift) -> CGCS2000 longitude/latitude."""
    to_geographic = Transformer.from_crs(4549, 4490, always_xy=True)
    c, s = math.cos(GRID_ROTATION), math.sin(GRID_ROTATION)

    def project(xy: np.ndarray) -> np.ndarray:
        x = ORIGIN_X + xy[:, 0] * c - xy[:, 1] * s
        y = ORIGIN_Y + xy[:, 0] * s + xy[:, 1] * c
        lon, lat = to_geographic.transform(x, y)
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), project)


def write_layer(rows: dict[str, list], geoms: list, file: str, layer: str, gtype: str) -> None:
    frame = gpd.GeoDataFrame(rows, geometry=list(to_lonlat(geoms)), crs="EPSG:4490")
    path = OUT_DIR / file
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", geometry_type=gtype)


def write_all(
    net: Network,
    communities: list[Community],
    key_areas: list[KeyArea],
    buildings: list[Building],
) -> None:
    write_layer(
        {
            "CODE": [c.code for c in communities],
            "NAME": [c.name for c in communities],
            "STREET_NAME": [c.street for c in communities],
        },
        [c.geom for c in communities],
        "communities.gpkg",
        "community",
        "Polygon",
    )
    roads = [ln for ln in net.lines if ln.kind == "road"]
    write_layer(
        {"NAME": [r.name for r in roads], "CLASS": [r.cls for r in roads]},
        [r.geom for r in roads],
        "roads.gpkg",
        "road",
        "LineString",
    )
    canals = [ln for ln in net.lines if ln.kind == "canal"]
    write_layer(
        {
            "NAME": ["张泾河"] + [c.name for c in canals],
            "KIND": ["river"] + ["canal"] * len(canals),
        },
        [net.river.polygon] + [c.geom for c in canals],
        "water.gpkg",
        "water",
        "Unknown",
    )
    write_layer(
        {
            "FLOORS": np.array([b.floors for b in buildings], dtype=np.int32),
            "USE": [b.use for b in buildings],
        },
        [b.geom for b in buildings],
        "buildings.gpkg",
        "building",
        "Polygon",
    )
    write_layer(
        {"NAME": [k.name for k in key_areas], "KIND": [k.kind for k in key_areas]},
        [k.geom for k in key_areas],
        "key_areas.gpkg",
        "key_area",
        "Polygon",
    )


def _ha_stats(polys: list[Polygon]) -> str:
    areas = np.array([p.area for p in polys]) / 1e4
    return f"{areas.min():.1f} / {np.median(areas):.1f} / {areas.max():.1f}"


def border_shares(net: Network, communities: list[Community]) -> dict[str, float]:
    """Share of the borders between communities that runs on roads, the river and canals."""
    outer = shapely.union_all([c.geom for c in communities]).exterior.buffer(0.01)
    borders = shapely.union_all([c.geom.boundary for c in communities]).difference(outer)
    total = borders.length
    shares = {}
    for label, kinds in (
        ("roads", ("road",)),
        ("river", ("river_centre",)),
        ("canals", ("canal",)),
    ):
        near = shapely.union_all([ln.geom for ln in net.lines if ln.kind in kinds]).buffer(0.01)
        shares[label] = borders.intersection(near).length / total
        borders = borders.difference(near)
    shares["other"] = borders.length / total
    return shares


def write_readme(
    net: Network,
    communities: list[Community],
    key_areas: list[KeyArea],
    cbd_codes: set[str],
    buildings: list[Building],
    defects: list[Defect],
) -> None:
    """README.md with the figures of this run, so the text cannot drift from the data."""
    names = {c.code: c.name for c in communities}
    street_rows = []
    for street, street_name in STREETS.items():
        members = [c for c in communities if c.code[6:9] == street]
        committees = [c.geom for c in members if c.kind != "village"]
        villages = [c.geom for c in members if c.kind == "village"]
        street_rows.append(
            f"| {street_name} | {street} | {len(committees)} | {len(villages)} | "
            + (_ha_stats(committees) if committees else "-")
            + " | "
            + (_ha_stats(villages) if villages else "-")
            + " |"
        )
    road_rows = []
    roads = [ln for ln in net.lines if ln.kind == "road"]
    for cls in SETBACK:
        of_class = [r.geom.length for r in roads if r.cls == cls]
        road_rows.append(f"| {cls} | {len(of_class)} | {sum(of_class) / 1000:.1f} |")
    canals = [ln.geom.length for ln in net.lines if ln.kind == "canal"]
    walls = [ln for ln in net.lines if ln.kind == "wall"]
    uses = {u: sum(b.use == u for b in buildings) for u in sorted({b.use for b in buildings})}
    floors = [b.floors for b in buildings]
    defect_lines = []
    for d in defects:
        lon, lat = to_lonlat([d.where])[0].coords[0]
        a, b = d.codes
        what = "sliver gap" if d.kind == "gap" else "overlap"
        owner = a if d.kind == "gap" else b
        action = "cut out of" if d.kind == "gap" else "added to"
        defect_lines.append(
            f"- **{what}** between `{a}` {names[a]} and `{b}` {names[b]}: a strip "
            f"{d.width:g} m wide and {d.length:.0f} m long along their shared border, "
            f"{d.area:.0f} m², {action} `{owner}`, centred near {lon:.5f}°E {lat:.5f}°N."
        )
    lon0, lat0, lon1, lat1 = shapely.total_bounds(to_lonlat([net.district]))
    sizes = {f: (OUT_DIR / f).stat().st_size / 1e6 for f in OUTPUT_FILES}
    shares = border_shares(net, communities)
    text = README.format(
        seed=SEED,
        district_km2=net.district.area / 1e6,
        grids=round(net.district.area / 1e4),
        lon0=lon0,
        lat0=lat0,
        lon1=lon1,
        lat1=lat1,
        n_communities=len(communities),
        street_rows="\n".join(street_rows),
        n_roads=len(roads),
        road_km=sum(r.geom.length for r in roads) / 1000,
        road_rows="\n".join(road_rows),
        n_canals=len(canals),
        canal_km=sum(canals) / 1000,
        river_ha=net.river.polygon.area / 1e4,
        n_buildings=len(buildings),
        use_rows="\n".join(f"| {u} | {n} |" for u, n in uses.items()),
        floors_lo=min(floors),
        floors_hi=max(floors),
        cbd_ha=key_areas[0].geom.area / 1e4,
        cbd_name=key_areas[0].name,
        n_cbd=len(cbd_codes),
        cbd_codes=", ".join(f"`{c}`" for c in sorted(cbd_codes)),
        belt_ha=key_areas[1].geom.area / 1e4,
        belt_name=key_areas[1].name,
        n_walls=len(walls),
        on_roads=shares["roads"],
        on_river=shares["river"],
        on_canals=shares["canals"],
        on_other=shares["other"],
        defects="\n".join(defect_lines),
        size_rows="\n".join(f"| {f} | {mb:.2f} MB |" for f, mb in sizes.items()),
        total_mb=sum(sizes.values()),
    )
    (OUT_DIR / "README.md").write_text(text, encoding="utf-8")


OUTPUT_FILES = ["communities.gpkg", "roads.gpkg", "water.gpkg", "buildings.gpkg", "key_areas.gpkg"]

README = """\
# gridkit sample district

A fictitious piece of Jinshan District, Shanghai (county code `310116`) near 121.3°E 30.7°N,
for tests, benchmarks and demos: two urban streets (街道) of residents' committees and one town
(镇) of villages, crossed by a river. Place and road names are invented from a pool of
syllables; nothing here describes the real district.

All files are GeoPackages in **CGCS2000 longitude/latitude, EPSG:4490**. The geometry was
built in metres in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E), in a street grid
turned 9° from north, and reprojected; reproject to EPSG:4549 for areas and distances.

- District: {district_km2:.2f} km² (about {grids} unit grids of 10,000 m²), longitude
  {lon0:.4f}–{lon1:.4f}°E, latitude {lat0:.4f}–{lat1:.4f}°N; its outer edge is irregular.
- Regenerate with `python data/samples/make_sample.py` (numpy seed {seed}; a few seconds).
  Two runs write the same features in the same order; only GeoPackage timestamps differ.
  `python data/samples/check_sample.py --rerun` re-checks the promises below and determinism.

| file | layer | geometry | fields |
|---|---|---|---|
| communities.gpkg | community | Polygon | CODE, NAME, STREET_NAME |
| roads.gpkg | road | LineString | NAME, CLASS |
| water.gpkg | water | Unknown (Polygon + LineString) | NAME, KIND |
| buildings.gpkg | building | Polygon | FLOORS, USE |
| key_areas.gpkg | key_area | Polygon | NAME, KIND |

## communities.gpkg — {n_communities} residents' committees and villages

`CODE` is 12 digits: county `310116` + street/town (GB/T 10114: `0xx` street, `1xx` town) +
committee (`0xx`/`1xx` residents' committee 居委会, `2xx` village committee 村委会). `NAME` is
the committee (…居委会 / …村), `STREET_NAME` the street or town.

| street/town | code | 居委会 | 村 | 居委会 ha min/median/max | 村 ha min/median/max |
|---|---|---|---|---|---|
{street_rows}

The communities partition the district without gaps or overlaps except for the two defects
below. Of the borders between communities, {on_roads:.0%} run along road centre lines
(sharing the very vertices of roads.gpkg), {on_river:.0%} along the river's centre line and
{on_canals:.0%} along canals; the other {on_other:.0%} are {n_walls} compound walls that are no
road, and the two defects. The two residents' committees of 朱泾镇 are its small town seat.

### Deliberate defects (as real admin data has them)

{defects}

Everything else is valid: every polygon is valid and neighbours share exact borders.

## roads.gpkg — {n_roads} centre lines, {road_km:.1f} km

| CLASS | features | km |
|---|---|---|
{road_rows}

Arterials (trunk/primary/secondary) form superblocks of about 480 m × 650 m, jittered, bent
in places and turned with the grid; compound roads (residential/service, Shanghai-style 弄
names) cut the urban superblocks into blocks of mostly 0.5–3 ha; village roads
(tertiary/residential/track) run about every 250 m with gaps and dead ends. Lines are noded:
every crossing and every T-junction is a vertex shared by both lines, so polygonizing roads,
water outlines and community borders gives clean blocks. Roads run up to 80 m past the
district edge.

## water.gpkg — one layer of mixed geometry

- 1 Polygon, `KIND=river`, `NAME=张泾河`: 34–54 m wide, {river_ha:.1f} ha, meandering south to
  north through both streets and the town (read it with the geometry type Unknown/Geometry).
- {n_canals} LineStrings, `KIND=canal` (河浜): {canal_km:.1f} km of creeks in the villages,
  east-west about every 500 m, leaving the river bank, plus two north-south links.

## buildings.gpkg — {n_buildings} footprints

| USE | buildings |
|---|---|
{use_rows}

`FLOORS` runs {floors_lo}–{floors_hi}. Urban blocks hold slabs (50–80 m × 12–15 m in rows
25–35 m apart), towers, old low-rise lanes, schools, workshops and shops; the CBD holds
commercial boxes; the villages hold farmhouses (10–15 m × 8–12 m) in hamlets along lanes and
creeks, one compact resettlement block each, and an industrial park by the trunk road. No
building touches another building, a road centre line (setback: trunk/primary 15 m,
secondary 10 m, tertiary 7 m, others 5 m), the river (5 m), a canal (8 m), or a community
border (3 m).

## key_areas.gpkg — areas that get denser responsibility grids

- `KIND=cbd` {cbd_name}: {cbd_ha:.1f} ha, the {n_cbd} river-side committees at the core of
  the two streets, bounded by arterial roads and the district edge: {cbd_codes}.
- `KIND=landscape_belt` {belt_name}: {belt_ha:.1f} ha, 100 m beyond both banks of the river
  from the CBD south into the town.

## Sizes

| file | size |
|---|---|
{size_rows}

Total {total_mb:.2f} MB.
"""


def validate(communities: list[Community]) -> None:
    """Refuse to write a sample that breaks the promises made in README.md."""
    if not 25 <= len(communities) <= 40:
        raise RuntimeError(f"{len(communities)} communities, want 25-40")
    for c in communities:
        ha = c.geom.area / 1e4
        low, high = (
            (VILLAGE_MIN_HA, VILLAGE_MAX_HA)
            if c.kind == "village"
            else (URBAN_MIN_HA, URBAN_MAX_HA)
        )
        if not low <= ha <= high or not c.geom.is_valid:
            raise RuntimeError(f"{c.code} {c.name}: {ha:.1f} ha or invalid")
    if len({c.code for c in communities}) != len(communities):
        raise RuntimeError("community codes are not unique")


def main() -> None:
    rng = np.random.default_rng(SEED)
    names = NamePool(rng)
    net = make_network(rng, names)
    regions = build_regions(net.faces, net.lines, net.urban_zone, net.river, net.town)
    merge_small(regions, net.faces)
    split_large(regions, net.faces, net.lines)
    merge_small(regions, net.faces)
    communities = name_communities(regions, names)
    face_kind = [""] * len(net.faces)
    for community in communities:
        for f in community.faces:
            face_kind[f] = community.kind
    key_areas, cbd_codes = make_key_areas(communities, net)
    defects = apply_defects(communities, cbd_codes, net)
    validate(communities)
    buildings = make_buildings(net, communities, key_areas, face_kind, rng)
    write_all(net, communities, key_areas, buildings)
    write_readme(net, communities, key_areas, cbd_codes, buildings, defects)


if __name__ == "__main__":
    main()
