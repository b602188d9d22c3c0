"""Where the pipeline keeps what it makes, relative to the project root: the one list of paths that
the CLI's defaults, the Prefect flow, tracking and dvc.yaml (``vars``) all read.

Plain string constants only: DVC reads this file for dvc.yaml's templating without running it.
"""

RAW = "data/raw"  # embedded worlds (synth@) and where real datasets are unpacked
WORLD = "data/raw/synthetic"  # the embedded world
SPLITS = "data/splits"  # canonical split CSVs per dataset (splits@)
PROTOCOLS = "data/protocols"  # evaluation protocols' split files (protocols)
VALIDATION = "data/validation/report.json"  # Great Expectations report (validate)
DESCRIPTIONS = "data/descriptions"  # class descriptions per dataset (describe@)
FRAMES = "data/frames"  # frame archives per dataset (extract@)
STANDIN = "models/standin"  # the embedded default's stand-in CLIP (shipped; standin@ re-makes it)
BACKBONES = "models/backbones"  # downloaded CLIP weights (weights@)
MODELS = "models"  # trained models: models/<protocol>/<job>/<run>/ (train@)
CHECKPOINTS = "runs"  # resume checkpoints, outside DVC
METRICS = "metrics"  # metrics/<evaluation>.json (evaluate@)
SUMMARY = "metrics/summary"  # <evaluation>/<row>.json: headline numbers (dvc metrics show), beside the metrics
REPORTS = "reports"  # per-class and confusion CSVs (evaluate@)
FIGURES = "figures"  # PNG figures of one execution (figures): dvc plots show, and logged by track
TRACKED = "mlflow/track.json"  # MLflow run ids of the last execution (track)
REGISTERED = "mlflow/register.json"  # the registration and promotion decision (register)
# The stages' DVC outputs: what was logged and packaged, the same for the same inputs wherever and
# whenever the pipeline runs (run ids and version numbers stay in the two files above).
LOGGED = "mlflow/logged.json"  # (track)
PACKAGED = "mlflow/packaged.json"  # (register)
BENCH = "bench/results"  # benchmark JSON (t2l bench)
PROFILE_RESULTS = ".t2l/profiles"  # <profile>/: a profile's lock and results while another profile is active
