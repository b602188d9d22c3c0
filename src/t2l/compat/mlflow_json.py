"""MLflow's scoring server parses a request body with ``json.loads`` and handles only malformed
JSON: a body nested deeper than Python's recursion limit raises RecursionError, answered 500 with
a traceback in the log, once per request. :func:`refuse_deep_json` makes it the 400 that any
malformed body gets. Installed by the pyfunc when it is loaded inside the scoring server."""

from __future__ import annotations

import sys


def refuse_deep_json() -> None:
    server = sys.modules.get("mlflow.pyfunc.scoring_server")
    if server is None or getattr(server._decode_json_input, "refuses_deep_json", False):
        return
    from mlflow.utils.proto_json_utils import MlflowInvalidInputException

    decode = server._decode_json_input

    def decode_bounded(json_input):
        try:
            return decode(json_input)
        except RecursionError:
            raise MlflowInvalidInputException("the JSON body is nested too deeply") from None

    decode_bounded.refuses_deep_json = True
    server._decode_json_input = decode_bounded
