"""Reading curved communities: gridkit's linearisation against GDAL's own.

Writes N CurvePolygons (each a square whose four sides are circular arcs bulging by 5% of the
side, radius ~1.3 side) to a GeoPackage and reads them twice:

- gridkit: ``gridkit.io.read_vector`` (Arrow read, raw WKB, arcs through
  ``gridkit.geometry.arc_points``: chords <= 2° and 5 m, <= 2.2 cm from the arc);
- GDAL: ``pyogrio.read_dataframe(use_arrow=False)``, which linearises with its default 4°
  step (OGR_ARC_STEPSIZE) and no distance bound.

Prints seconds, vertices and the largest distance of a linearised edge midpoint from the true
arc. ``python benchmarks/curves.py [--n 2000] [--side 400] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

from gridkit.io import read_vector

X0, Y0 = 459_000.0, 2_521_000.0


def _circular(points) -> bytes:
    return struct.pack("<BII", 1, 8, len(points)) + b"".join(
        struct.pack("<2d", *p) for p in points)


def _square(x: float, y: float, side: float) -> tuple[bytes, list]:
    """A CurvePolygon: four arcs through the corners bulging out by 5% of the side."""
    bulge = 0.05 * side
    corners = [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]
    ring, arcs = [corners[0]], []
    for k in range(4):
        a, b = np.array(corners[k]), np.array(corners[(k + 1) % 4])
        mid = (a + b) / 2
        normal = np.array([(b - a)[1], -(b - a)[0]]) / side  # outward for a CCW square
        m = tuple(mid + bulge * normal)
        ring += [m, tuple(b)]
        half = side / 2
        radius = (half**2 + bulge**2) / (2 * bulge)
        # centre, radius, direction of the arc's middle from the centre, half its angle
        arcs.append((tuple(mid + (bulge - radius) * normal), radius, normal,
                     np.arcsin(half / radius)))
    wkb = struct.pack("<BII", 1, 10, 1) + _circular(ring)
    return wkb, arcs


def _deviation(geoms, arcs_of) -> float:
    worst = 0.0
    for geom, arcs in zip(geoms, arcs_of, strict=True):
        coords = shapely.get_coordinates(geom.exterior)
        mids = (coords[1:] + coords[:-1]) / 2
        for (cx, cy), radius, towards, half_angle in arcs:
            offset = mids - (cx, cy)
            distance = np.hypot(offset[:, 0], offset[:, 1])
            cosine = (offset @ towards) / distance
            # Edges of this arc only: inside its angle, near its circle (not the far side).
            along = (cosine > np.cos(half_angle) + 1e-12) & (np.abs(distance - radius) < 5)
            worst = max(worst, float(np.abs(distance[along] - radius).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--side", type=float, default=400.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    columns = int(np.ceil(np.sqrt(args.n)))
    shapes = [_square(X0 + (k % columns) * args.side * 1.5, Y0 + (k // columns) * args.side
                      * 1.5, args.side) for k in range(args.n)]
    folder = Path(tempfile.mkdtemp(prefix="gridkit-curves-"))
    path = folder / "curved.gpkg"
    table = pa.table({"CODE": [f"441900003{k % 999 + 1:03d}" for k in range(args.n)],
                      "geometry": pa.array([w for w, _ in shapes], pa.binary())})
    pyogrio.write_arrow(table, path, layer="community", driver="GPKG",
                        geometry_name="geometry", geometry_type="Unknown", crs="EPSG:4547")
    arcs = [a for _, a in shapes]
    figures = {"features": args.n, "side_m": args.side}
    start = time.perf_counter()
    ours = read_vector(path, what="communities").geometry.to_numpy()
    figures["gridkit"] = {"seconds": round(time.perf_counter() - start, 3),
                          "vertices": int(shapely.get_num_coordinates(ours).sum()),
                          "max_deviation_m": round(_deviation(ours, arcs), 4)}
    start = time.perf_counter()
    gdal = pyogrio.read_dataframe(path, use_arrow=False).geometry.to_numpy()
    figures["gdal_default"] = {"seconds": round(time.perf_counter() - start, 3),
                               "vertices": int(shapely.get_num_coordinates(gdal).sum()),
                               "max_deviation_m": round(_deviation(gdal, arcs), 4)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name in ("gridkit", "gdal_default"):
        f = figures[name]
        print(f"{name:13s} {f['seconds']:7.3f} s  {f['vertices']:9,d} vertices  "
              f"max deviation {f['max_deviation_m']:.4f} m")


if __name__ == "__main__":
    main()
