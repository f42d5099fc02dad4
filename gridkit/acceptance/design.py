"""How many unit grids to re-survey, and in which strata: the size of the spot check.

The accuracy figure is a ratio over components, but the field checks whole grids (clusters).
Its estimator is the stratified ratio R = sum(w y) / sum(w x) over sampled grids, where x is
a grid's census components, y its correct ones and w = N_h / n_h. Its variance is

    V = sum_h N_h^2 (1 - n_h/N_h) S_h^2 / n_h / X^2

with X the census total and S_h^2 the variance of the grid residuals y - R x in stratum h.
Before any check S_h^2 is anticipated from the census itself: a grid of m components whose
errors share a grid effect (intra-grid correlation rho) has Var(y) = m p (1-p) (1 + (m-1) rho),
so S_h^2 = p (1-p) * mean over the stratum's grids of m (1 + (m-1) rho). This is Kish's
cluster design effect 1 + (m-1) rho, computed grid by grid so that unequal grid sizes count.

Sizes: every stratum gets ``minimum`` grids (2, so its variance can be estimated), then grids
are added one at a time where they cut V the most until z sqrt(V) <= margin. Each stratum's
term falls convexly in n_h, so this greedy is the optimal integer (Neyman) allocation.

The draw: simple random samples without replacement, stratum by stratum, reproducible from the
seed alone: strata are visited in sorted order and grids within a stratum in BGID order, and
one numpy PCG64 stream serves them all, so the same frame and seed always give the same grids
(on any machine: numpy keeps ``Generator.permutation`` stable).
"""

from __future__ import annotations

import heapq
import secrets
from dataclasses import dataclass

import numpy as np

from gridkit.errors import GridkitError, InputError

DEFAULT_EXPECTED = 0.96
DEFAULT_MARGIN = 0.015
DEFAULT_CONFIDENCE = 0.95
# Errors cluster in grids (one team, one day, one misread class): 0.05 is a cautious guess
# until a first spot check measures it; `gridkit census accuracy` reports the observed value.
DEFAULT_ICC = 0.05
DEFAULT_MINIMUM = 2


@dataclass(frozen=True)
class DesignInputs:
    """What the spot check must achieve, the inputs of :func:`plan_design`.

    Parameters
    ----------
    expected : float
        The accuracy the census is expected to have, a share (0.96).
    margin : float
        The half-width of the confidence interval wanted, a share (0.015: ±1.5 points).
    confidence : float
        The confidence level (0.95).
    icc : float
        The intra-grid correlation of errors (errors cluster: one team, one day); 0.05 until a
        first spot check measures it.
    minimum : int
        Grids drawn at least per stratum.
    grids : int, optional
        A fixed number of grids instead of sizing for ``margin``.

    Examples
    --------
    >>> DesignInputs(margin=0.02).expected
    0.96
    """

    expected: float = DEFAULT_EXPECTED
    margin: float = DEFAULT_MARGIN
    confidence: float = DEFAULT_CONFIDENCE
    icc: float = DEFAULT_ICC
    minimum: int = DEFAULT_MINIMUM
    grids: int | None = None  # a fixed number of grids instead of the margin

    def validate(self) -> None:
        """Refuse inputs outside their range, naming the option and an example."""
        checks = (
            ("expected", 0 < self.expected < 1, f"`expected={self.expected:g}`: give a share "
                                                "between 0 and 1, e.g. 0.96"),
            ("margin", 0 < self.margin < 0.5, f"`margin={self.margin:g}`: give a share, e.g. "
                                              "0.015 for ±1.5 points"),
            ("confidence", 0.5 <= self.confidence < 1, f"`confidence={self.confidence:g}`: "
                                                       "give a level between 0.5 and 1, e.g. "
                                                       "0.95"),
            ("icc", 0 <= self.icc < 1, f"`icc={self.icc:g}`: the intra-grid correlation is "
                                       "between 0 and 1, e.g. 0.05"),
            ("minimum", self.minimum >= 1, f"`minimum={self.minimum}`: give at least 1 (2 lets "
                                           "each stratum's variance be estimated)"),
            ("grids", self.grids is None or self.grids >= 1,
             f"`grids={self.grids}`: give at least 1"),
        )
        for parameter, ok, message in checks:
            if not ok:
                raise InputError(message, parameter=parameter)


@dataclass
class Design:
    """Sample sizes per stratum and what they are expected to achieve.

    Attributes
    ----------
    strata : list of str
        Stratum keys, ``STREET/density``.
    grids : numpy.ndarray
        N_h, unit grids per stratum.
    components : numpy.ndarray
        X_h, census components per stratum.
    s2 : numpy.ndarray
        The anticipated variance S_h² of the grids' error counts.
    sample : numpy.ndarray
        n_h, grids to draw per stratum.
    inputs : DesignInputs
        What was asked.
    margin : float
        The anticipated half-width of the interval at the confidence level.
    z : float
        The normal quantile of the confidence level.

    Examples
    --------
    >>> import numpy as np
    >>> design = plan_design(["310116001/sparse"], [np.full(200, 20)], DesignInputs(grids=10))
    >>> design.n, design.population, design.total_components
    (10, 200, 4000)
    """

    strata: list[str]
    grids: np.ndarray  # N_h
    components: np.ndarray  # X_h, census components in the stratum
    s2: np.ndarray  # anticipated S_h^2
    sample: np.ndarray  # n_h
    inputs: DesignInputs
    margin: float  # anticipated half-width at the confidence level
    z: float

    @property
    def n(self) -> int:
        """Grids to draw in all."""
        return int(self.sample.sum())

    @property
    def population(self) -> int:
        """Unit grids in the frame."""
        return int(self.grids.sum())

    @property
    def total_components(self) -> int:
        """Census components in the frame."""
        return int(self.components.sum())

    def srs_components(self) -> float:
        """Components a simple random sample of components would need: z² p (1-p) / d².

        No clustering, no finite-population correction.
        """
        p = self.inputs.expected
        return self.z ** 2 * p * (1 - p) / self.inputs.margin ** 2

    def design_effect(self) -> float:
        """Anticipated variance of this design over a simple random sample of as many components."""
        p = self.inputs.expected
        m = self.expected_components()
        if m <= 0 or self.total_components == 0:
            return 1.0
        srs = p * (1 - p) / m * (1 - m / self.total_components)
        return float(variance(self.grids, self.sample, self.s2, self.total_components) / srs) \
            if srs > 0 else 1.0

    def expected_components(self) -> float:
        """Census components the sampled grids are expected to hold."""
        mean = np.divide(self.components, self.grids, out=np.zeros(len(self.grids)),
                         where=self.grids > 0)
        return float((mean * self.sample).sum())

    def as_dict(self) -> dict:
        """The design as the plan's JSON records it."""
        return {
            "expected_accuracy": self.inputs.expected, "margin": self.inputs.margin,
            "confidence": self.inputs.confidence, "icc": self.inputs.icc,
            "min_per_stratum": self.inputs.minimum, "fixed_grids": self.inputs.grids,
            "z": round(self.z, 6), "population_grids": self.population,
            "population_components": self.total_components, "strata": len(self.strata),
            "sample_grids": self.n, "expected_sample_components": round(
                self.expected_components(), 1),
            "srs_components": round(self.srs_components(), 1),
            "design_effect": round(self.design_effect(), 3),
            "anticipated_margin": round(self.margin, 5),
        }


def anticipated_s2(m: np.ndarray, expected: float, icc: float) -> float:
    """Anticipated variance of grid residuals y - R x for grids of ``m`` census components."""
    m = np.asarray(m, dtype=float)
    if m.size == 0:
        return 0.0
    return float(expected * (1 - expected) * np.mean(m * (1 + (m - 1) * icc)))


def variance(grids: np.ndarray, sample: np.ndarray, s2: np.ndarray, total: float) -> float:
    """Variance of the stratified ratio estimator for these sizes (0 for a full census)."""
    if total <= 0:
        return 0.0
    n = np.maximum(sample, 1).astype(float)
    terms = grids.astype(float) ** 2 * (1 - sample / np.maximum(grids, 1)) * s2 / n
    return float(terms.sum() / total ** 2)


def allocate_sample(grids: np.ndarray, s2: np.ndarray, total: float, *, z: float,
                    margin: float, minimum: int = DEFAULT_MINIMUM,
                    fixed: int | None = None) -> np.ndarray:
    """Grids to sample per stratum: the fewest meeting ``margin`` (or exactly ``fixed``)."""
    grids = np.asarray(grids, dtype=np.int64)
    sample = np.minimum(grids, minimum).astype(np.int64)
    if fixed is not None and fixed < sample.sum():
        raise InputError(f"`grids={fixed}`: the {len(grids)} strata need at least "
                         f"{int(sample.sum())} grids ({minimum} each); give more grids or "
                         "`minimum=1`", parameter="grids")
    limit = (margin / z) ** 2 * total ** 2  # the bound on sum of terms, in unscaled units

    def gain(h: int) -> float:
        n = sample[h]
        return grids[h] ** 2 * s2[h] * (1 / n - 1 / (n + 1))

    scaled = float((grids ** 2 * (1 - sample / np.maximum(grids, 1)) * s2
                    / np.maximum(sample, 1)).sum())
    heap = [(-gain(h), h) for h in range(len(grids)) if sample[h] < grids[h]]
    heapq.heapify(heap)
    while heap:
        done = sample.sum() >= fixed if fixed is not None else scaled <= limit
        if done:
            break
        negative, h = heapq.heappop(heap)
        sample[h] += 1
        scaled += negative  # the term drops by exactly its gain (fpc part is linear)
        if sample[h] < grids[h]:
            heapq.heappush(heap, (-gain(h), h))
    return sample


def plan_design(strata: list[str], grid_components: list[np.ndarray],
                inputs: DesignInputs) -> Design:
    """Size the spot check: how many unit grids to draw in each stratum.

    Grids are the sampling units (a checker walks whole grids); sizes are allocated to strata in
    proportion to their census components (at least ``minimum`` each), enough for the confidence
    interval of the accuracy to reach ``margin`` at ``confidence`` when errors cluster in grids
    as ``icc`` says, or ``inputs.grids`` in all.

    Parameters
    ----------
    strata : list of str
        Stratum keys (``STREET/density``).
    grid_components : list of numpy.ndarray
        Per stratum, the census component count of each of its grids.
    inputs : DesignInputs
        The accuracy expected, margin, confidence, intra-grid correlation, minimum.

    Returns
    -------
    Design
        n_h per stratum and the anticipated margin.

    Raises
    ------
    GridkitError
        When the inputs are out of range or the census has no components in the grids.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> design = plan_design(["310116001/dense", "310116001/sparse"],
    ...                      [rng.integers(10, 60, 300), rng.integers(0, 30, 500)], DesignInputs())
    >>> design.sample.tolist(), round(design.margin, 4)
    ([34, 29], 0.0149)
    """
    from scipy import stats  # lazy: scipy.stats costs seconds at CLI start-up

    inputs.validate()
    z = float(stats.norm.ppf(0.5 + inputs.confidence / 2))
    grids = np.array([len(m) for m in grid_components], dtype=np.int64)
    components = np.array([int(np.sum(m)) for m in grid_components], dtype=np.int64)
    s2 = np.array([anticipated_s2(m, inputs.expected, inputs.icc) for m in grid_components])
    total = float(components.sum())
    if total == 0:
        raise GridkitError("the census has no components in the unit grids: run gridkit "
                           "census import first")
    if inputs.grids is not None and inputs.grids > grids.sum():
        raise InputError(f"`grids={inputs.grids}`: there are only {int(grids.sum())} unit "
                         "grids", parameter="grids")
    sample = allocate_sample(grids, s2, total, z=z, margin=inputs.margin,
                             minimum=inputs.minimum, fixed=inputs.grids)
    achieved = z * np.sqrt(variance(grids, sample, s2, total))
    return Design(strata, grids, components, s2, sample, inputs, float(achieved), z)


def new_seed() -> int:
    """A seed for a user who gave none; recorded in the plan so the draw can be repeated."""
    return secrets.randbelow(2**31 - 1) + 1


def draw(stratum: np.ndarray, sample: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, order) of the drawn grids.

    ``stratum`` holds each grid's stratum number (0..H-1) with grids in BGID order;
    ``sample`` the grids to draw per stratum. ``order`` numbers the drawn grids of a stratum
    1, 2, ... in the order they were drawn.
    """
    rng = np.random.default_rng(seed)
    stratum = np.asarray(stratum)
    positions: list[np.ndarray] = []
    orders: list[np.ndarray] = []
    for h, n in enumerate(np.asarray(sample)):
        members = np.flatnonzero(stratum == h)
        chosen = rng.permutation(len(members))[: int(n)]
        positions.append(members[chosen])
        orders.append(np.arange(1, len(chosen) + 1))
    if not positions:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(positions).astype(np.int64), np.concatenate(orders).astype(np.int64)
