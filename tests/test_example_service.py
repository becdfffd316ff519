"""examples/credit_service.py (issue 16, item 5): a saved pipeline behind HTTP.

The test trains and saves the example's model, starts the server in a
subprocess on 127.0.0.1 (a free port, and ``--max-seconds`` so it stops by
itself), sends real HTTP requests and stops it.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mlpipe.datasets import load_credit

SCRIPT = Path(__file__).parents[1] / "examples" / "credit_service.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("service") / "credit.skops"
    subprocess.run(
        [sys.executable, str(SCRIPT), "train", str(path)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "serve", str(path), "--port", "0", "--max-seconds", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # "serving ... on http://127.0.0.1:PORT"
        assert "http://127.0.0.1:" in line, (line, proc.stderr.read() if proc.poll() else "")
        yield line.strip().rsplit(" ", 1)[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(url, body, raw=False):
    data = body if raw else json.dumps(body).encode()
    request = urllib.request.Request(
        url + "/predict", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _rows():
    X, _ = load_credit(return_X_y=True)
    return json.loads(X.astype(object).where(X.notna(), None).to_json(orient="records"))


@pytest.mark.slow
def test_good_rows_get_a_prediction_with_reasons(server):
    rows = _rows()[:5]
    status, payload = _post(server, {"rows": rows})
    assert status == 200
    answers = payload["answers"]
    assert len(answers) == 5
    for answer in answers:
        assert answer["prediction"] in ("good risk", "bad risk")
        assert 0 <= answer["probability_good_risk"] <= 1
        assert (answer["probability_good_risk"] >= 0.5) == (answer["prediction"] == "good risk")
        assert len(answer["reasons"]) == 3
        assert all("probability of good risk" in r for r in answer["reasons"])
    # one applicant alone, as an object, gets the same answer
    assert _post(server, rows[0]) == (200, {"answers": answers[:1]})


@pytest.mark.slow
def test_bad_rows_are_refused_with_their_reason_and_the_others_answered(server):
    good = _rows()[0]
    status, payload = _post(
        server,
        {
            "rows": [
                good,
                dict(good, age=999),
                {k: v for k, v in good.items() if k != "credit_amount"},
                dict(good, age="old"),
            ]
        },
    )
    assert status == 200
    first, old, no_amount, text = payload["answers"]
    assert "prediction" in first
    assert old == {"refused": "age out of range [19, 75]: 999"}
    assert no_amount == {"refused": "credit_amount missing, where a value is required"}
    assert "refused" in text and "'age'" in text["refused"] and "dtype" in text["refused"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", b'"a string"', b'{"rows": []}', b"\xff\xfe"],
    ids=["broken", "empty", "numbers", "string", "no-rows", "not-utf8"],
)
def test_a_malformed_body_gets_400_with_an_error(server, body):
    status, payload = _post(server, body, raw=True)
    assert status == 400
    assert payload["error"]


@pytest.mark.slow
def test_health_and_unknown_paths(server):
    with urllib.request.urlopen(server + "/health", timeout=30) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(server + "/nope", timeout=30)
    assert caught.value.code == 404
