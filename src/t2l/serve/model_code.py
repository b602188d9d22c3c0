"""MLflow "models from code" entry point: MLflow copies this file into the model and runs it on
load, so no Python object is pickled. The weights travel as artifacts (t2l.serve.package)."""

from mlflow.models import set_model

from t2l.serve.pyfunc import T2LClassifier

set_model(T2LClassifier())
