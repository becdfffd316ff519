"""A small credit-scoring service: a saved mlpipe pipeline behind HTTP + JSON.

Not part of the package: an example of serving what ``mlpipe.save`` wrote,
with the standard library's ``http.server`` only.

    python examples/credit_service.py train credit.skops
    python examples/credit_service.py serve credit.skops --port 8000

``POST /predict`` takes one applicant (a JSON object of raw columns) or
``{"rows": [...]}`` and answers every row: a prediction with its
probability and top three reasons (SHAP values in the raw columns), or the
validation refusal with its reasons. Rows of one request are judged one by
one, so a bad applicant never costs the others their answer. A body that is
not JSON, or not an object or list of objects, gets ``400`` with an error;
``GET /health`` answers ``{"status": "ok"}``.

The server binds 127.0.0.1 by default and stops by itself after
``--max-seconds`` (a test, or a demo, cannot leave it running).
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

import mlpipe

GOOD = 1  # load_credit's label 1 is good risk


def train(path):
    """Fit a guarded pipeline on the shipped credit data and save it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from mlpipe.datasets import load_credit
    from mlpipe.impute import TypedImputer
    from mlpipe.validation import Schema, SchemaValidator

    X, y = load_credit(return_X_y=True)
    X = _as_json_types(X)  # requests arrive as JSON: text, not categories
    text = [c for c in X.columns if X[c].dtype == object]
    schema = Schema.infer(X)
    schema["credit_amount"].nullable = False  # an application always has an amount
    model = Pipeline(
        [
            ("validate", SchemaValidator(schema=schema)),
            ("impute", TypedImputer()),
            (
                "encode",
                ColumnTransformer(
                    [("text", OneHotEncoder(handle_unknown="ignore"), text)],
                    remainder=StandardScaler(),
                ),
            ),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    ).fit(X, y)
    mlpipe.save(model, path, X=X, y=y)
    return model


def _as_json_types(X):
    """Categorical columns as text (object), as a JSON body gives them."""
    X = X.copy()
    for c in X.columns:
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            X[c] = X[c].astype(object).where(X[c].notna(), None)
    return X


class Scorer:
    """The loaded model, its explainer and the columns it expects."""

    def __init__(self, path):
        from mlpipe.datasets import load_credit
        from mlpipe.explain import PipelineExplainer

        self.model = mlpipe.load(path)
        self.columns = list(self.model.feature_names_in_)
        self.dtypes = {
            c["name"]: c["dtype"] for c in mlpipe.read_manifest(path)["training_data"]["columns"]
        }
        background = _as_json_types(load_credit(return_X_y=True)[0]).sample(100, random_state=0)
        self.explainer = PipelineExplainer(self.model, background=background, output="probability")
        self.validator = self.model.steps[0][1]
        self.lock = threading.Lock()  # the explainer and models are shared by threads

    def frame(self, rows):
        """The rows as a frame with the training columns and dtypes."""
        frame = pd.DataFrame(rows)
        for name in self.columns:
            if name not in frame:
                frame[name] = None  # refused by the validator: a required value
        extra = [c for c in frame.columns if c not in self.columns]
        frame = frame[self.columns + extra]
        for name, dtype in self.dtypes.items():
            if dtype != "object" and frame[name].dtype == object:
                # null (None) or numbers as text: numbers where they all are;
                # anything else stays text, refused by the validator by name
                converted = pd.to_numeric(frame[name], errors="coerce")
                if converted.notna().sum() == frame[name].notna().sum():
                    frame[name] = converted
        return frame

    def answer(self, rows):
        answers = []
        for row in rows:  # one by one: each row is judged on its own
            frame = self.frame([row])
            with self.lock:
                verdict = self.validator.row_reasons(frame).iloc[0]
                if not verdict["passed"]:
                    answers.append({"refused": verdict["reasons"]})
                    continue
                proba = float(
                    self.model.predict_proba(frame)[0, list(self.model.classes_).index(GOOD)]
                )
                reasons = self.explainer.explain(frame).reasons(0, n=3)
            answers.append(
                {
                    "prediction": "good risk" if proba >= 0.5 else "bad risk",
                    "probability_good_risk": round(proba, 4),
                    # the explainer names classes by label; label 1 is good risk
                    "reasons": [
                        r.replace("probability of class 1", "probability of good risk")
                        for r in reasons["reason"]
                    ],
                }
            )
        return answers


def make_handler(scorer):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            else:
                self._send(404, {"error": f"no such path: {self.path}"})

        def do_POST(self):
            if self.path != "/predict":
                self._send(404, {"error": f"no such path: {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self._send(400, {"error": f"the body is not JSON: {exc}"})
                return
            rows = body.get("rows") if isinstance(body, dict) and "rows" in body else body
            if isinstance(rows, dict):
                rows = [rows]
            if not (isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)):
                self._send(
                    400,
                    {
                        "error": "send one applicant as a JSON object of columns, "
                        'or {"rows": [object, ...]}'
                    },
                )
                return
            self._send(200, {"answers": scorer.answer(rows)})

        def log_message(self, *args):  # quiet: the answers are the log
            pass

    return Handler


def serve(path, host, port, max_seconds):
    scorer = Scorer(path)
    server = ThreadingHTTPServer((host, port), make_handler(scorer))
    timer = threading.Timer(max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"serving {path} on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="fit on the shipped credit data and save")
    t.add_argument("path")
    s = sub.add_parser("serve", help="answer POST /predict")
    s.add_argument("path")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    s.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long")
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args.path)
        print(f"saved {args.path}")
    else:
        serve(args.path, args.host, args.port, args.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
