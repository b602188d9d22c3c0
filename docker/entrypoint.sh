#!/bin/sh
# Entry points of the t2l image, run in the mounted project directory:
#   repro [STAGE...]   dvc repro (the whole pipeline by default)
#   schedule           serve the retraining flow on params.yaml's cron (python -m pipelines.deploy serve)
#   ui                 mlflow ui on port 5000 over the project's store (or $MLFLOW_TRACKING_URI)
#   model [URI]        mlflow models serve on port 8080 (default: models:/<register.name>@champion)
#   anything else      run as a command (t2l predict ..., prefect worker start ..., bash)
set -eu
store="${MLFLOW_TRACKING_URI:-sqlite:///$PWD/mlflow/mlflow.db}"
case "${1:-repro}" in
    repro) shift; exec dvc repro "$@" ;;
    schedule) shift; exec python -m pipelines.deploy serve "$@" ;;
    ui) shift; exec mlflow ui --backend-store-uri "$store" --host 0.0.0.0 --port 5000 "$@" ;;
    model)
        name=$(python -c "import yaml; p = yaml.safe_load(open('params.yaml'))
print(p['register']['name'].format(backbone=p['model']['backbone']))")
        uri="${2:-models:/$name@champion}"
        MLFLOW_TRACKING_URI="$store" exec mlflow models serve -m "$uri" --env-manager local --host 0.0.0.0 --port 8080 ;;
    *) exec "$@" ;;
esac
