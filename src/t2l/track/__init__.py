"""MLflow tracking of pipeline outputs (``t2l track``) and the model registry's promotion gate (``t2l register``)."""
