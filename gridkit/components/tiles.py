"""A spatial partitioning of the unit grids, for locating components on a cluster.

The grids' extent is cut into rectangular tiles holding about equal numbers of grids (columns
at quantiles of the grid centres' x, rows at quantiles of y inside each column). A tile knows
every grid whose bounds touch its closed rectangle, so any grid holding a point of the tile is
among them; points are sent to exactly one tile (half-open rectangles, open at the district's
outer edges), and each tile builds its own :class:`GridIndex` over its grids, in the global
priority order. Locating tile by tile therefore gives exactly the global answer, edge rule
included, while a worker only ever indexes the tiles its points fall in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from gridkit.components.locate import OUTSIDE, GridIndex
from gridkit.distributed import map_ordered

GRIDS_PER_TILE = 4096


class GridTiles:
    """Tiles over ``geoms`` (in the edge rule's priority order); ``locate`` like GridIndex."""

    def __init__(self, geoms: np.ndarray, grids_per_tile: int = GRIDS_PER_TILE) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        n = len(self.geoms)
        bounds = shapely.bounds(self.geoms) if n else np.zeros((0, 4))
        cx = (bounds[:, 0] + bounds[:, 2]) / 2
        cy = (bounds[:, 1] + bounds[:, 3]) / 2
        tiles = max(1, int(np.ceil(n / grids_per_tile)))
        columns = max(1, int(round(np.sqrt(tiles))))
        rows = max(1, int(np.ceil(tiles / columns)))
        # Cuts between tiles: inner quantiles only, so the outer tiles reach to infinity.
        self.x_cuts = np.unique(np.quantile(cx, np.arange(1, columns) / columns)) if n \
            else np.empty(0)
        column_of = np.searchsorted(self.x_cuts, cx, side="right")
        self.y_cuts = []
        for c in range(len(self.x_cuts) + 1):
            ys = cy[column_of == c]
            self.y_cuts.append(np.unique(np.quantile(ys, np.arange(1, rows) / rows))
                               if ys.size else np.empty(0))
        self.first = np.cumsum([0] + [len(c) + 1 for c in self.y_cuts])
        self.members: list[np.ndarray] = []
        x_edges = np.concatenate([[-np.inf], self.x_cuts, [np.inf]])
        for c, cuts in enumerate(self.y_cuts):
            y_edges = np.concatenate([[-np.inf], cuts, [np.inf]])
            for r in range(len(cuts) + 1):
                touches = ((bounds[:, 2] >= x_edges[c]) & (bounds[:, 0] <= x_edges[c + 1])
                           & (bounds[:, 3] >= y_edges[r]) & (bounds[:, 1] <= y_edges[r + 1]))
                self.members.append(np.flatnonzero(touches))
        self._indexes: dict[int, GridIndex] = {}

    def __len__(self) -> int:
        return len(self.members)

    def tile_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The tile of each point; -1 where a coordinate is not finite."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        tile = np.full(x.shape, -1, dtype=np.int64)
        finite = np.isfinite(x) & np.isfinite(y)
        column = np.searchsorted(self.x_cuts, x[finite], side="right")
        y_finite = y[finite]
        row = np.empty(column.size, np.int64)
        for c, cuts in enumerate(self.y_cuts):
            mine = column == c
            row[mine] = np.searchsorted(cuts, y_finite[mine], side="right")
        tile[finite] = self.first[column] + row
        return tile

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the grid holding each point, as ``GridIndex(geoms).locate`` gives it."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        result = np.full(x.shape, OUTSIDE, dtype=np.int64)
        tile = self.tile_of(x, y)
        order = np.argsort(tile, kind="stable")
        cuts = np.searchsorted(tile[order], np.arange(len(self.members) + 1))
        for t in range(len(self.members)):
            rows = order[cuts[t]:cuts[t + 1]]
            members = self.members[t]
            if rows.size == 0 or members.size == 0:
                continue
            local = self._index(t).locate(x[rows], y[rows])
            inside = local >= 0
            result[rows[inside]] = members[local[inside]]
        return result

    def _index(self, t: int) -> GridIndex:
        # Built on first use, where the work runs: a worker indexes only the tiles it meets.
        if t not in self._indexes:
            self._indexes[t] = GridIndex(self.geoms[self.members[t]])
        return self._indexes[t]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_indexes"] = {}
        return state


def locate_on_cluster(client: Any, tiles: GridTiles, x: np.ndarray, y: np.ndarray,
                      block_points: int) -> np.ndarray:
    """``tiles.locate(x, y)`` on a Dask cluster: the points sorted by tile and cut into blocks
    of about ``block_points``, so that each task meets few tiles and each worker indexes only
    the tiles of its blocks."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    order = np.argsort(tiles.tile_of(x, y), kind="stable")
    blocks = [(x[order[s:s + block_points]], y[order[s:s + block_points]])
              for s in range(0, len(order), block_points)]
    located = np.full(len(x), OUTSIDE, dtype=np.int64)
    if blocks:
        located[order] = np.concatenate(map_ordered(client, _locate_block, blocks, tiles))
    return located


def _locate_block(block: tuple[np.ndarray, np.ndarray], tiles: GridTiles) -> np.ndarray:
    return tiles.locate(*block)
