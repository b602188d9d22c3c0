#!/bin/sh
# Entry points of the t2l image, run in the mounted project directory:
#   repro [STAGE...]   dvc repro (the whole pipeline by default)
#   schedule           serve the retraining flow on params.yaml's cron (python -m pipelines.deploy serve)
#   ui [ARG...]        mlflow ui on port 5000 over the project's store (or $MLFLOW_TRACKING_URI); ARGs go
#                      to mlflow, e.g. --app-name basic-auth
#   model [URI]        mlflow models serve on port 8080 of a copy of the model taken out of the store
#                      (default: models:/<register.name>@champion), so serving writes nothing into it
#   anything else      run as a command (t2l predict ..., prefect worker start ..., bash)
# ui and model listen on $T2L_BIND_HOST, 127.0.0.1 unless the operator sets it. Inside a container
# that address is out of reach of `docker run -p`, so publishing a port takes an explicit
# -e T2L_BIND_HOST=0.0.0.0; publish it on the host's loopback (-p 127.0.0.1:8080:8080) and put
# authentication in front (docs/serving.md).
set -eu
store="${MLFLOW_TRACKING_URI:-sqlite:///$PWD/mlflow/mlflow.db}"
host="${T2L_BIND_HOST:-127.0.0.1}"
case "${1:-repro}" in
    repro) shift; exec dvc repro "$@" ;;
    schedule) shift; exec python -m pipelines.deploy serve "$@" ;;
    ui) shift; exec mlflow ui --backend-store-uri "$store" --host "$host" --port 5000 "$@" ;;
    model)
        name=$(python -c "import yaml; p = yaml.safe_load(open('params.yaml'))
print(p['register']['name'].format(backbone=p['model']['backbone']))")
        uri="${2:-models:/$name@champion}"
        copy=$(mktemp -d)
        MLFLOW_TRACKING_URI="$store" mlflow artifacts download --artifact-uri "$uri" --dst-path "$copy" >/dev/null
        exec mlflow models serve -m "$copy" --env-manager local --host "$host" --port 8080 ;;
    *) exec "$@" ;;
esac
