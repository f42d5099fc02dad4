"""``run_pipeline`` returns a RunResult: the figures ``gridkit run --json`` prints, every step's
QA issues and each step's own result, with paths naming the published outputs."""

from __future__ import annotations

import json

import pyogrio
from conftest import four_communities, invoke

from gridkit.pipeline import RunOptions, RunResult, run_pipeline


def _config(tmp_path):
    communities = four_communities()
    # A 2 m gap between two communities: the partition reports it (admin-gap) in qa_issue.
    communities.geometry = communities.geometry.translate(0, 0).where(
        communities.index != 1, communities.geometry.translate(2, 0))
    communities.to_file(tmp_path / "communities.gpkg", layer="community")
    config = tmp_path / "city.toml"
    config.write_text('output = "out/city.gpkg"\n[partition]\ncommunities = "communities.gpkg"\n'
                      '[group]\nsparse = "2-4"\ndense = "1-2"\n[report]\nlang = "en"\n',
                      encoding="utf-8")
    return config


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items()
                if k not in ("seconds", "cpu_seconds", "TIME", "bytes", "megabytes")}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_run_result_is_what_json_prints_with_each_steps_qa(tmp_path):
    config = _config(tmp_path)
    out = tmp_path / "out" / "city.gpkg"
    done = invoke(["run", config, "--json"])
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    out.unlink()
    out.with_suffix(".html").unlink()
    result = run_pipeline(RunOptions(config))
    assert isinstance(result, RunResult)
    assert result.output == out.absolute() and result["output"] == str(out.absolute())
    assert list(result.figures) == ["output", "partition", "group", "report"]
    # No path names the staging folder the steps ran in.
    text = json.dumps(result.figures, ensure_ascii=False, default=str)
    assert ".gridkit-run-" not in text
    # Nor do the published files: the run records and the report's file line name the output.
    records = pyogrio.read_dataframe(out, layer="gridkit_run", read_geometry=False)
    assert not records["PARAMETERS"].str.contains(".gridkit-run-", regex=False).any()
    assert not records["INPUTS"].str.contains(".gridkit-run-", regex=False).any()
    assert ".gridkit-run-" not in out.with_suffix(".html").read_text(encoding="utf-8")
    assert str(out.absolute()) in out.with_suffix(".html").read_text(encoding="utf-8")
    assert result["report"]["output"] == str(out.with_suffix(".html").absolute())
    assert result.step("report")["output"] == result["report"]["output"]
    assert result.step("census") is None
    assert result.step("partition").figures == result["partition"]
    # .qa: every step's issues in step order, as they were written to qa_issue.
    steps = [result.step(name).qa for name in ("partition", "group", "report")]
    assert len(result.qa) == sum(len(q) for q in steps)
    written = pyogrio.read_dataframe(out, layer="qa_issue")
    assert sorted(result.qa["RULE"]) == sorted(written["RULE"])
    assert len(result.qa) > 0 and result.qa.crs == written.crs
    # The command printed the same figures (its own run: the seconds and times differ).
    assert _without_seconds(printed) == _without_seconds(
        json.loads(json.dumps(result.figures, default=str)))


def test_a_config_path_and_output_still_run(tmp_path):
    config = _config(tmp_path)
    config.write_text('[partition]\ncommunities = "communities.gpkg"\n', encoding="utf-8")
    result = run_pipeline(config, tmp_path / "other.gpkg")
    assert result["output"] == str((tmp_path / "other.gpkg").absolute())
    assert result["partition"]["unit_grids"] == result.step("partition")["unit_grids"] > 0
