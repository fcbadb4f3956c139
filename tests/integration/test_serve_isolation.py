"""tunelab-serve keeps one bad or greedy client from hurting the others: a poisoned text fails its
own request alone, a client that leaves stops costing model time, a small request rides beside
large ones, slow or lying bodies get an answer, settings are checked at start; and random bodies
never get a 5xx nor fail a concurrent good request (hypothesis)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import compose_train
from tests.helpers import post_json, served
from tests.integration.test_serve import get_json
from tunelab.errors import TunelabError

POISON = b'{"texts": ["x \\ud800 y"]}'  # a lone surrogate, escaped as JSON allows
GOOD = {"texts": ["anna flew to paris ."]}


@pytest.fixture(scope="module")
def service(trained_run, tmp_path_factory):
    overrides = ("max_wait_ms=20", "limits.body_timeout_s=1", "chunk_texts=8", "header_timeout_s=1")
    with served(trained_run[0] / "model", tmp_path_factory.mktemp("serve"), *overrides) as found:
        yield found


def raw_request(url: str, head: bytes, body: bytes = b"", close: bool = False) -> bytes:
    """What the service answers to hand-written bytes (headers as given)."""
    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(head + body)
        if close:
            return b""
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b'"}' in answer:
                break
        return answer


def head(length: int) -> bytes:
    return (
        f"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_poisoned_request_fails_alone_among_concurrent_good_ones(service):
    url, process = service
    expected = post_json(f"{url}/v1/predict", GOOD)[1]
    bodies = [POISON if i % 10 == 3 else GOOD for i in range(80)]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda b: post_json(f"{url}/v1/predict", b), bodies))
    for body, (status, answer) in zip(bodies, answers, strict=True):
        if body is POISON:
            assert status == 400 and "texts[0] holds a lone surrogate" in answer["error"]
        else:
            assert (status, answer) == (200, expected)
    assert process.poll() is None


def test_a_client_that_leaves_stops_costing_model_time(service):
    url, _ = service
    texts = [f"anna number {i} flew to paris ." for i in range(1000)]
    body = json.dumps({"texts": texts}).encode()
    before = get_json(f"{url}/health")["batches"]
    raw_request(url, head(len(body)), body, close=True)
    deadline = time.monotonic() + 10
    while get_json(f"{url}/health")["queued_texts"] and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    assert post_json(f"{url}/v1/predict", GOOD)[0] == 200
    assert time.monotonic() - started < 5
    assert get_json(f"{url}/health")["batches"] - before < 1000 // 8 // 2  # well short of all


def test_a_small_request_rides_beside_a_large_one(service):
    url, _ = service
    texts = [f"anna number {i} flew to paris with bob ." for i in range(1000)]
    result = {}
    big = threading.Thread(
        target=lambda: result.update(big=post_json(f"{url}/v1/predict", {"texts": texts}))
    )
    big.start()
    while get_json(f"{url}/health")["in_flight"] == 0:
        time.sleep(0.01)
    status, _ = post_json(f"{url}/v1/predict", GOOD)
    small_done_first = "big" not in result
    big.join(120)
    assert status == 200 and small_done_first
    assert result["big"][0] == 200 and len(result["big"][1]["predictions"]) == 1000


@pytest.mark.parametrize(
    "sent, expected",
    [
        (head(10_000_000), b"413"),  # declares more than the limit, sends nothing
        (b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Ty", b"408"),  # slow headers
        (head(100) + b'{"texts": ', b"408"),  # declares more than it sends
        (head(27) + b'{"texts": ["a"], "texts": []}'[:27], None),
    ],
)
def test_a_body_that_lies_or_stalls_gets_an_answer(service, sent, expected):
    url, _ = service
    if expected is None:  # a key named twice
        body = b'{"texts": ["a"], "texts": []}'
        answer = raw_request(url, head(len(body)), body)
        assert b" 400 " in answer.split(b"\r\n")[0] and b"names key 'texts' twice" in answer
        return
    started = time.monotonic()
    answer = raw_request(url, sent)
    assert expected in answer.split(b"\r\n")[0], answer[:200]
    assert time.monotonic() - started < 10
    assert post_json(f"{url}/v1/predict", GOOD)[0] == 200


def test_deep_nesting_is_a_400(service):
    url, _ = service
    status, answer = post_json(f"{url}/v1/predict", b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "nested too deeply" in answer["error"]


BAD_SETTINGS = [
    ("port=99999", "port=99999 is not allowed: use an integer from 0 to 65535"),
    ("max_batch=0", "max_batch=0 is not allowed"),
    ("limits.max_texts=-1", "limits.max_texts=-1 is not allowed"),
    ("+limits.max_txts=5", "limits.max_txts is not a limit"),
    ("host=no.such.host.invalid", "host='no.such.host.invalid' is not an address here"),
]


def test_serve_settings_are_checked_at_start_on_the_command_line(trained_run, tmp_path):
    override, expected = BAD_SETTINGS[0]
    command = [sys.executable, "-m", "tunelab", "serve", f"model_dir={trained_run[0] / 'model'}"]
    result = subprocess.run(
        [*command, f"hydra.run.dir={tmp_path}", override],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"tunelab: error: {expected}"), result.stderr


@pytest.mark.parametrize("override, expected", BAD_SETTINGS)
def test_serve_settings_are_checked_at_start(trained_run, tmp_path, override, expected):
    """Every case in the process: the command line prints the error as its one line (above)."""
    from tunelab.serving.serve import serve

    cfg = compose_train(tmp_path, [f"model_dir={trained_run[0] / 'model'}", override], "serve")
    with pytest.raises(TunelabError) as raised:
        serve(cfg)
    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)


def test_a_port_in_use_is_one_line(trained_run, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tunelab",
                "serve",
                f"model_dir={trained_run[0] / 'model'}",
                f"port={port}",
                f"hydra.run.dir={tmp_path}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert f"tunelab: error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# texts, some with a lone surrogate (json.dumps escapes it as \udXXX, as an attacker would)
UNICODE = st.one_of(
    st.text(max_size=40),
    st.tuples(st.text(max_size=10), st.integers(0xD800, 0xDFFF).map(chr), st.text(max_size=10)).map(
        "".join
    ),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | UNICODE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(UNICODE, inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.lists(UNICODE, max_size=5).map(lambda texts: json.dumps({"texts": texts}).encode()),
    st.lists(UNICODE, max_size=4).map(
        lambda texts: json.dumps({"texts": texts}, ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
    ),
    st.binary(max_size=200),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODIES)
def test_random_bodies_get_no_5xx_and_fail_no_good_request(service, body):
    url, process = service
    with ThreadPoolExecutor(2) as pool:
        good = pool.submit(post_json, f"{url}/v1/predict", GOOD)
        random_answer = pool.submit(post_json, f"{url}/v1/predict", body)
        status, answer = random_answer.result()
        assert status < 500, (body, answer)
        assert "error" in answer or "predictions" in answer
        assert good.result()[0] == 200
    assert process.poll() is None


def test_sigterm_with_queued_work_stops_within_the_grace(trained_run, tmp_path):
    """Four 1,000-text requests queued, a 2 s grace: the service is gone soon after it, and
    each client gets an answer (the ones cut off: 503 or a closed connection), never a hang."""
    texts = [f"anna flew to paris with bob number {i} ." for i in range(1000)]
    overrides = ("batch_size=8", "shutdown_timeout_s=2")
    with served(trained_run[0] / "model", tmp_path, *overrides) as (url, process):
        results = []

        def client():
            try:
                results.append(post_json(f"{url}/v1/predict", {"texts": texts})[0])
            except (OSError, ValueError) as err:  # closed, or not JSON: say which
                results.append(f"{type(err).__name__}: {err}")

        clients = [threading.Thread(target=client) for _ in range(4)]
        for thread in clients:
            thread.start()
        while get_json(f"{url}/health")["in_flight"] < 4:
            time.sleep(0.01)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        stopped = time.monotonic() - began
        for thread in clients:
            thread.join(60)
    assert stopped < 2 + 6, stopped
    assert len(results) == 4 and set(results) <= {200, 503}, results
