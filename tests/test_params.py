import re
from dataclasses import dataclass, field

import pytest

from t2l.params import ParamsError, parse


@dataclass(frozen=True)
class Inner:
    a: int
    b: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    tags: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def test_builds_nested_dataclasses_and_tuples():
    cfg = parse(Outer, {"name": "x", "inner": {"a": 1, "b": [2, 3]}, "tags": ["p", "q"], "counts": {"k": 4}}, "s")
    assert cfg == Outer("x", Inner(1, (2.0, 3.0)), ("p", "q"), {"k": 4})


@pytest.mark.parametrize("values, message", [
    ({"name": "x", "inner": {"a": 1}, "typo": 1}, "s: unknown key(s) typo"),
    ({"inner": {"a": 1}}, "s.name: required key is missing"),
    ({"name": "x", "inner": {"a": "one"}}, "s.inner.a: expected int"),
    ({"name": "x", "inner": {"a": 1, "b": [1]}}, "s.inner.b: expected 2 values"),
    ({"name": "x", "inner": [1]}, "s.inner: expected a mapping"),
])
def test_errors_name_the_field(values, message):
    with pytest.raises(ParamsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(Outer, values, "s")


# -- the findings of a careless user: each is one line naming the key, before any work ----------

def write(tmp_path, text: str):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_numbers_in_exponent_form_are_numbers(tmp_path):
    from t2l.params import load

    p = load(write(tmp_path, "train: {lr: 1e-3, eps: 1E-8, weight_decay: -2e+1, seed: 1_000}\n"))
    assert p["train"] == {"lr": 0.001, "eps": 1e-8, "weight_decay": -20.0, "seed": 1000}


@pytest.mark.parametrize("text, message", [
    ("train:\n  lr: 1.0e-3\n  epochs: 2\n  lr: 3.0e-4\n", r"params.yaml:4: invalid YAML: duplicate key 'lr' \(first at line 2\)"),
    ("train: {}\ntrain: {}\n", "params.yaml:2: invalid YAML: duplicate key 'train'"),
    ("train: {}\ntrian: {epochs: 2}\n", "unknown section.s. trian; known: profile, datasets"),
    ("train:\nmodel: {}\n", r"section\(s\) train empty \(null\)"),
])
def test_params_files_refuse_duplicates_unknown_and_empty_sections(tmp_path, text, message):
    from t2l.errors import UserError
    from t2l.params import load

    with pytest.raises(UserError, match=message):
        load(write(tmp_path, text))


def _train(values):
    from t2l.train.loop import TrainConfig

    return parse(TrainConfig, values, "train")


def _model(values):
    from t2l.model.config import variant

    return variant("t2l", **values)


def _clip(values):
    from t2l.frames.clip_spec import ClipSpec

    return parse(ClipSpec, values, "clip")


def _extract(values):
    from t2l.frames.extract import ExtractConfig

    return parse(ExtractConfig, values, "extract")


def _evaluate(values):
    from t2l.evaluate.stage import EvaluateConfig

    return parse(EvaluateConfig, values, "evaluate")


@pytest.mark.parametrize("build, values, message", [
    (_train, {"epochs": 0}, "train.epochs: must be >= 1, got 0"),
    (_train, {"epochs": -3}, "train.epochs: must be >= 1, got -3"),
    (_train, {"augment": False}, "train.flip: flipping is an augmentation"),  # flip defaults to true
    (_train, {"batch_size": 0}, "train.batch_size: must be >= 1"),
    (_train, {"accumulation": 0}, "train.accumulation: must be >= 1"),
    (_train, {"val_every": 0}, "train.val_every: must be >= 1"),
    (_train, {"lr": -1.0e-4}, "train.lr: must be > 0"),
    (_train, {"lr": "1e-3"}, "train.lr: expected a number, got '1e-3'"),
    (_train, {"warmup": 2.0}, "train.warmup: must be >= 0 and < 1, got 2.0"),
    (_train, {"precision": "fp8"}, "train.precision: expected one of 'auto', 'fp32', 'bf16', 'fp16', got 'fp8'"),
    (_train, {"decoder": "ffmpeg"}, "train.decoder: expected one of decord, pyav, archive, got 'ffmpeg'"),
    (_train, {"workers": -1}, "train.workers: must be >= 0"),
    (_train, {"betas": [0.9, 1.5]}, r"train.betas\[1\]: must be >= 0 and < 1"),
    (_model, {"frame": 8}, "model: unknown key.s. frame"),
    (_model, {"token_dropout": 2}, "model.token_dropout: must be >= 0 and < 1, got 2.0"),
    (_model, {"contrastive": "mse"}, "model.contrastive: expected one of 'ce', 'kl'"),
    (_model, {"frames": 0}, "model.frames: must be >= 1"),
    (_clip, {"frames": 0}, "clip.frames: must be >= 1"),
    (_clip, {"crop": "224"}, "clip.crop: expected int"),
    (_extract, {"jpeg_quality": 1000}, "extract.jpeg_quality: must be >= 1 and <= 100, got 1000"),
    (_extract, {"workers": 0}, "extract.workers: must be >= 1"),
    (_evaluate, {"batch_size": 0}, "evaluate.batch_size: must be >= 1"),
    (_evaluate, {"decoder": "av"}, "evaluate.decoder: expected one of"),
])
def test_every_section_is_typed_and_ranged(build, values, message):
    with pytest.raises(ParamsError, match=message):
        build(values)


@pytest.mark.parametrize("change, message", [
    (lambda text: re.sub(r"\ntrain:\n  epochs: \d+\n", "\ntrain:\n  epochs: 0\n", text), "train.epochs: must be >= 1, got 0"),
    (lambda text: text.replace("\ntrain:\n", "\ntrain:\n  epochs: 9\n"), r"params.yaml:\d+: invalid YAML: duplicate key 'epochs'"),
    (lambda text: text.replace("\nmodel:\n", "\nmodel:\n  frame: 8\n"), "model: unknown key.s. frame"),
])
def test_the_cli_stops_with_one_line_naming_the_key(tmp_path, change, message):
    import yaml
    from helpers import REPO, run_t2l

    shipped = yaml.safe_dump(yaml.safe_load((REPO / "params.yaml").read_text()), sort_keys=False)
    path = tmp_path / "params.yaml"
    path.write_text(change(shipped))
    assert path.read_text() != shipped
    proc = run_t2l("train", "--job", "zs-t2l", "--params", str(path), cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    assert re.search(message, proc.stderr), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("command, section, values, message", [
    ("evaluate", "evaluate", {"robustness": {"perturbations": {"fog": [1]}}},
     r"evaluate.robustness.perturbations: expected one of gaussian_noise, blur, .*, got 'fog'"),
    ("evaluate", "evaluate", {"robustness": {"perturbations": {"blur": [1, 4]}}},
     r"evaluate.robustness.perturbations.blur\[1\]: must be >= 1 and <= 3, got 4"),
    ("evaluate", "evaluate", {"robustness": {"splits": -1}}, "evaluate.robustness.splits: must be >= 0, got -1"),
    ("synth", "synth", {"size": 63}, r"synth.size: must be even \(H.264 4:2:0\), got 63"),
    ("synth", "synth", {"size": -64}, "synth.size: must be >= 16, got -64"),
    ("synth", "synth", {"size": 2}, "synth.size: must be >= 16, got 2"),
    ("synth", "synth", {"frames": [64, 24]}, r"synth.frames: \(min, max\) with min <= max, got \(64, 24\)"),
    ("synth", "synth", {"frames": [1, 24]}, r"synth.frames\[0\]: must be >= 2, got 1"),
    ("train", "train", {"batch_size": 9, "accumulation": 2}, "train.batch_size: 9 does not divide into 2 accumulation micro-steps"),
], ids=["unknown-perturbation", "severity-4", "splits-negative", "size-odd", "size-negative", "size-2",
        "frames-reversed", "frames-1", "batch-accumulation"])
def test_settings_are_refused_before_any_work_in_one_line(tmp_path, command, section, values, message):
    """Each is one line naming the key, before anything is read or written (formerly a traceback
    after minutes of work, or silently empty results)."""
    import yaml
    from helpers import REPO, run_t2l

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params[section] = {**params[section], **values}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    args = {"evaluate": ["--protocol", "robustness"], "synth": ["--out", "world"], "train": ["--job", "zs-t2l"]}
    proc = run_t2l(command, *args[command], cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert re.fullmatch(f"error: {message}", proc.stderr.strip()), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]  # nothing written
