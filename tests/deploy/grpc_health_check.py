#!/usr/bin/python3
"""grpc.health.v1.Health/Check against HOST:PORT, like a Kubernetes gRPC probe.

    grpc_health_check.py HOST:PORT [SERVICE] [--wait SECONDS]

Exit status: 0 SERVING, 1 anything else (NOT_SERVING, unreachable, unknown
service), 2 usage. With --wait, retries every 0.5 s until SERVING or the time
is up. Needs only python3-grpcio (Debian): the request and the response are
encoded by hand (HealthCheckRequest{service}, HealthCheckResponse{status}).
"""

import sys
import time

import grpc

STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def encode_request(service):
    data = service.encode()
    if not data:
        return b""
    length = len(data)
    varint = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        varint.append(byte | (0x80 if length else 0))
        if not length:
            break
    return b"\x0a" + bytes(varint) + data  # field 1, length-delimited


def decode_status(data):
    # HealthCheckResponse: field 1 (status), varint; absent means UNKNOWN.
    if len(data) >= 2 and data[0] == 0x08:
        return data[1]
    return 0


def check(target, service):
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda message: message,
            response_deserializer=lambda message: message,
        )
        try:
            status = decode_status(call(encode_request(service), timeout=3))
        except grpc.RpcError as error:
            return False, f"{error.code().name}: {error.details()}"
    return status == 1, STATUS_NAMES.get(status, str(status))


def main(argv):
    args = list(argv)
    wait = 0.0
    if "--wait" in args:
        i = args.index("--wait")
        try:
            wait = float(args[i + 1])
        except (IndexError, ValueError):
            print(__doc__, file=sys.stderr)
            return 2
        del args[i : i + 2]
    if len(args) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    target = args[0]
    service = args[1] if len(args) == 2 else ""
    deadline = time.monotonic() + wait
    while True:
        ok, detail = check(target, service)
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    print(f"health {target} {service or '(server)'}: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
