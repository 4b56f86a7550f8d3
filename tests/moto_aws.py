"""AWS's APIs for the tests: moto in server mode on 127.0.0.1 (a real HTTP API the function's own
SigV4 clients talk to), boto3 clients for the test's side, and the sign-in table as
infra/sign_in_table.py declares it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from tools.background import free_port

REGION = "eu-west-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint of a moto server, stopped on the way out. Moto keeps one backend per process:
    tables and keys outlive the server, so each test module names its own."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x"
    )


def sign_in_table(endpoint: str, name: str) -> None:
    """The table as infra/sign_in_table.py declares it: one string key, TTL on `expires`."""
    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
