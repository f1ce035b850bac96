"""A small OpenAI-compatible chat server for the sweep tests and bench, with faults to inject.

    python tests/openai_server.py --port N [--latency S] [--fail-rate P] [--drop-rate P] [--die-after N]
                                  [--always-fail-mod M] [--faults FILE] [--log FILE] [--seed S]
    python tests/openai_server.py serve MODEL --port N ...      # as `vllm serve` is called

Replies are a deterministic function of the request (prompt and image): `My final option(s): [X]`. Every request
is logged as one JSON line: the request's digest, the status answered, the time. Faults: a 429 or 500 with
probability --fail-rate, a connection closed without an answer with --drop-rate, a 500 for every request whose
digest is 0 mod --always-fail-mod, and exit (a killed server) after --die-after successful answers. --faults names a
JSON file of these settings (`{"fail_rate": 0.3}`), read again for every request: a test heals a server (or breaks it)
without changing its command line, which is part of the model's identity in the sweep's cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("serve", nargs="*", help="`serve MODEL`, as vllm is called (ignored)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("--always-fail-mod", type=int, default=0)
    parser.add_argument("--faults", help="a JSON file of fault settings, read for every request")
    parser.add_argument("--log")
    parser.add_argument("--seed", type=int, default=0)
    args, _ = parser.parse_known_args()  # vllm's own flags (--tensor-parallel-size ...) are accepted and ignored
    return args


def settings(args: argparse.Namespace) -> argparse.Namespace:
    """The command line's settings, overridden by the --faults file's (read again for every request)."""
    if args.faults and os.path.exists(args.faults):
        with open(args.faults) as file:
            return argparse.Namespace(**(vars(args) | json.load(file)))
    return args


def fault_status(digest: str, roll: float, drop: float, faults: argparse.Namespace) -> int:
    """The status to answer: 500 for a digest 0 mod always_fail_mod, then 429 or 500, then 0 (dropped), else 200."""
    if faults.always_fail_mod and int(digest, 16) % faults.always_fail_mod == 0:
        return 500
    if roll < faults.fail_rate:
        return 429 if roll < faults.fail_rate / 2 else 500
    if drop < faults.drop_rate:
        return 0
    return 200


def completion(model: str, prompt: str, digest: str) -> dict:
    """The chat completion answering a request: `My final option(s): [X]`, X drawn from the digest."""
    letter = "ABCDE"[int(digest, 16) % 5]
    marker = "My final option" if "final option: [X]" in prompt else "My final options"
    reply = f"Reasoning about the image.\n{marker}: [{letter}]"
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultyServer

    def log_message(self, *_):
        pass

    def setup(self):
        super().setup()
        # as real servers (uvicorn under vLLM) do: without it, Nagle's algorithm and the client's delayed ACK
        # hold every answer back ~40 ms (headers and body go out in two writes)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("retry-after-ms", "5")  # keeps the client's backoff short
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.send(200, {"object": "list", "data": [{"id": "served-model", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        content = body["messages"][0]["content"]
        prompt = next(part["text"] for part in content if part["type"] == "text")
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        with self.server.lock:
            roll, drop = self.server.rng.random(), self.server.rng.random()
        faults = settings(self.server.args)
        time.sleep(faults.latency)
        status = fault_status(digest, roll, drop, faults)
        self.log(digest, status)
        if status == 0:
            self.close_connection = True
            self.connection.shutdown(2)  # a dropped connection: no answer at all
            return
        if status != 200:
            self.send(status, {"error": {"message": "injected fault", "type": "server_error"}})
            return
        self.send(200, completion(body["model"], prompt, digest))
        self.count_answer(faults)

    def count_answer(self, faults: argparse.Namespace) -> None:
        with self.server.lock:
            self.server.served += 1
            if faults.die_after and self.server.served >= faults.die_after:
                os._exit(0)  # a server killed in the middle of a run

    def log(self, digest: str, status: int) -> None:
        if self.server.args.log:
            with self.server.lock, open(self.server.args.log, "a") as out:
                out.write(json.dumps({"request": digest, "status": status, "time": time.time()}) + "\n")


class FaultyServer(ThreadingHTTPServer):
    """What the request threads share: the settings, the seeded draws, their lock and the count of answers."""

    daemon_threads = True

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.served = 0
        super().__init__(("127.0.0.1", args.port), Handler)


def main() -> None:
    FaultyServer(parse()).serve_forever()


if __name__ == "__main__":
    main()
