"""The packaged model's artifacts: the keys of ``context.artifacts`` (t2l.serve.package writes them,
the pyfunc reads them)."""

WEIGHTS, CONFIG, CLIP = "weights", "config", "clip"  # the run's state dict, its model.json, the CLIP weights
CLASS_TEXT = "class_text"  # t2l.serve.evaluation_text: each evaluated class's text, and the describe section
