"""The locust user of bench/load.py, for machines without wrk: one request, again and again.

bench/load.py sets what to send through the environment (BENCH_METHOD, BENCH_PATH,
BENCH_BODY) and runs locust headless against its own server on 127.0.0.1.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

METHOD = os.environ.get("BENCH_METHOD", "GET")
PATH = os.environ.get("BENCH_PATH", "/api/v1/health")
BODY = os.environ.get("BENCH_BODY")


class Client(FastHttpUser):
    """One connection that sends the next request as soon as the last is answered (like wrk)."""

    wait_time = constant(0)

    @task
    def send(self) -> None:
        if BODY is None:
            self.client.request(METHOD, PATH)
        else:
            self.client.request(
                METHOD, PATH, data=BODY, headers={"Content-Type": "application/json"}
            )
