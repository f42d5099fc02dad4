"""Census acceptance (部件普查验收): spot-check sampling and the 96% accuracy target.

``gridkit census sample`` draws a stratified random sample of unit grids sized for a stated
margin and writes the field checklist; ``gridkit census accuracy`` judges the census on the
filled-in checklist or on an independent re-survey: :func:`census_sample_geopackage` with
:class:`SampleOptions` and :func:`census_accuracy_geopackage` with :class:`AccuracyOptions`.
See ``gridkit/acceptance/README.md``.
"""

from gridkit.acceptance.api import (
    AccuracyOptions,
    SampleOptions,
    census_accuracy,
    census_accuracy_geopackage,
    census_sample,
    census_sample_geopackage,
)
from gridkit.acceptance.design import Design, DesignInputs, plan_design
from gridkit.acceptance.estimate import RatioEstimate, Targets, stratified_ratio
from gridkit.acceptance.match import Matching, match
from gridkit.acceptance.sampling import SpotCheckPlan, sample_geopackage
from gridkit.acceptance.verdicts import VERDICTS, parse_verdict

__all__ = ["AccuracyOptions", "Design", "DesignInputs", "Matching", "RatioEstimate",
           "SampleOptions", "SpotCheckAccuracy", "SpotCheckPlan", "Targets", "VERDICTS",
           "accuracy_geopackage", "census_accuracy", "census_accuracy_geopackage",
           "census_sample", "census_sample_geopackage", "match", "parse_verdict",
           "plan_design", "sample_geopackage", "stratified_ratio"]


def __getattr__(name: str):
    # Loaded on first use: it reads files through the census import's readers
    # (gridkit.acceptance.evidence), which the commands above do not need.
    if name in ("accuracy_geopackage", "SpotCheckAccuracy"):
        from gridkit.acceptance import accuracy

        return getattr(accuracy, name)
    raise AttributeError(name)
