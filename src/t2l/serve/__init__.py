"""A trained model as an MLflow pyfunc: videos + free-text class names in, top-k classes out."""
