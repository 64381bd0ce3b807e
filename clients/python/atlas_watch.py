#!/usr/bin/python3
"""atlas_watch: print Atlas changes on some topics, one line per event.

A small monitoring client of the Atlas Watch stream for Debian's python3 with
python3-grpcio and python3-grpc-tools. The gRPC stubs are generated from the
repository's proto/ folder when the script starts (into a temporary folder,
or --stubs-dir to keep them), so no generated code is committed.

    atlas_watch.py --server 127.0.0.1:50051 --topic artificial-intelligence \\
        --topic cybersecurity --from-revision 1 --max-events 10

Each event prints "REVISION TYPE NAME" (e.g. "42 UPDATED topics/ai"); --json
prints each event as one JSON object per line instead. A broken stream or a
restarted server is resumed from the last delivered revision + 1 with backoff
(100 ms doubling to 5 s), so no change is lost or repeated. Exit status: 0
after --max-events events, 1 on a non-retryable error (one line on stderr),
2 on bad arguments.
"""

import argparse
import glob
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

DEFAULT_SERVER = "127.0.0.1:50051"
DEFAULT_PROTO_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                 "proto"))
RETRYABLE = {"UNAVAILABLE", "UNKNOWN", "INTERNAL", "ABORTED",
             "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED"}


def generate_stubs(proto_dir, out_dir):
    """Runs grpc_tools.protoc over proto_dir/atlas/v1/*.proto into out_dir."""
    protos = sorted(
        os.path.relpath(p, proto_dir)
        for p in glob.glob(os.path.join(proto_dir, "atlas", "v1", "*.proto")))
    if not protos:
        raise RuntimeError("no .proto files under %s/atlas/v1" % proto_dir)
    os.makedirs(out_dir, exist_ok=True)
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir,
               "--python_out", out_dir, "--grpc_python_out", out_dir] + protos
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("protoc failed: " + result.stderr.strip())


def load_stubs(proto_dir, stubs_dir):
    """Generates (if needed) and imports the atlas.v1 modules."""
    marker = os.path.join(stubs_dir, "atlas", "v1", "atlas_service_pb2_grpc.py")
    if not os.path.exists(marker):
        generate_stubs(proto_dir, stubs_dir)
    sys.path.insert(0, stubs_dir)
    service_pb2 = importlib.import_module("atlas.v1.atlas_service_pb2")
    service_grpc = importlib.import_module("atlas.v1.atlas_service_pb2_grpc")
    return service_pb2, service_grpc


CHANGE_WORDS = {1: "CREATED", 2: "UPDATED", 3: "DELETED"}


def event_line(event):
    change = event.change
    line = "%d %s %s" % (change.revision,
                         CHANGE_WORDS.get(change.type, "UNKNOWN"),
                         change.entity.name)
    if event.left_filter:
        line += " (left filter)"
    if event.entered_filter:
        line += " (entered filter)"
    return line


def event_json(event):
    from google.protobuf import json_format
    import json
    return json.dumps(json_format.MessageToDict(
        event, preserving_proto_field_name=True), separators=(",", ":"))


class Watcher:
    """Follows the stream, tracking the last delivered revision."""

    def __init__(self, args, service_pb2, service_grpc, out, err, sleep):
        self.args = args
        self.pb2 = service_pb2
        self.grpc_module = service_grpc
        self.out = out
        self.err = err
        self.sleep = sleep
        self.delivered = None  # last revision fully delivered
        self.printed = 0

    def request(self):
        request = self.pb2.WatchRequest()
        request.filter.topics.extend(self.args.topic)
        request.filter.kinds.extend(self.args.kind)
        if self.delivered is not None:
            request.start_revision = self.delivered + 1
        elif self.args.from_revision:
            request.start_revision = self.args.from_revision
        return request

    def done(self):
        return self.args.max_events and self.printed >= self.args.max_events

    def handle(self, response):
        Type = self.pb2.WatchResponse
        if response.type == Type.TYPE_EVENTS:
            reached = response.revision
            for event in response.events:
                if self.delivered is not None and \
                        event.change.revision <= self.delivered:
                    continue  # never repeat a change
                if self.done():
                    reached = event.change.revision - 1
                    break
                self.out.write((event_json(event) if self.args.json
                                else event_line(event)) + "\n")
                self.printed += 1
            self.out.flush()
            self.advance(reached)
        elif response.type in (Type.TYPE_SYNCED, Type.TYPE_PROGRESS):
            self.advance(response.revision)

    def advance(self, revision):
        if self.delivered is None or revision > self.delivered:
            self.delivered = revision

    def run(self, channel):
        import grpc
        stub = self.grpc_module.AtlasStub(channel)
        metadata = []
        if self.args.token:
            metadata.append(("authorization", "Bearer " + self.args.token))
        delay = 0.1
        while True:
            stream = stub.Watch(self.request(), metadata=metadata)
            try:
                for response in stream:
                    delay = 0.1
                    self.handle(response)
                    if self.done():
                        stream.cancel()
                        return 0
                reason = "server ended the stream"
            except grpc.RpcError as error:
                code = error.code().name
                if code not in RETRYABLE:
                    self.err.write("atlas_watch: %s: %s\n" % (
                        code.lower().replace("_", " "), error.details()))
                    return 1
                reason = "%s: %s" % (code.lower().replace("_", " "),
                                     " ".join((error.details() or "").split()))
            self.err.write("atlas_watch: %s; reconnecting in %dms\n" % (
                reason, delay * 1000))
            self.err.flush()
            self.sleep(delay)
            delay = min(delay * 2, 5.0)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Print Atlas changes on some topics, one line per event.")
    parser.add_argument("--server",
                        default=os.environ.get("ATLAS_SERVER", DEFAULT_SERVER),
                        help="host:port (env ATLAS_SERVER; default %(default)s)")
    parser.add_argument("--topic", action="append", default=[],
                        help="topic slug; repeatable (any of them)")
    parser.add_argument("--kind", action="append", default=[],
                        help="entity kind, e.g. document; repeatable")
    parser.add_argument("--from-revision", type=int, default=0,
                        help="start at this revision (default: now)")
    parser.add_argument("--max-events", type=int, default=0,
                        help="exit after this many events (default: never)")
    parser.add_argument("--token", default=os.environ.get("ATLAS_TOKEN", ""),
                        help="bearer token (env ATLAS_TOKEN)")
    parser.add_argument("--json", action="store_true",
                        help="print events as JSON, one object per line")
    parser.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR,
                        help="folder holding atlas/v1/*.proto")
    parser.add_argument("--stubs-dir",
                        help="where generated stubs live (default: a "
                             "temporary folder)")
    args = parser.parse_args(argv)
    if args.from_revision < 0 or args.max_events < 0:
        parser.error("--from-revision and --max-events must be >= 0")
    return args


def main(argv=None, out=sys.stdout, err=sys.stderr, sleep=time.sleep):
    args = parse_args(argv)
    temporary = None
    stubs_dir = args.stubs_dir
    if stubs_dir is None:
        temporary = tempfile.mkdtemp(prefix="atlas-stubs-")
        stubs_dir = temporary
    try:
        try:
            service_pb2, service_grpc = load_stubs(args.proto_dir, stubs_dir)
        except (RuntimeError, ImportError) as error:
            err.write("atlas_watch: cannot load the Atlas stubs: %s\n" % error)
            return 1
        import grpc
        # A Watch message carries a whole change set, which can be larger
        # than gRPC's default 4 MiB receive limit: take what the server sends.
        options = [("grpc.max_receive_message_length", -1)]
        with grpc.insecure_channel(args.server, options=options) as channel:
            watcher = Watcher(args, service_pb2, service_grpc, out, err, sleep)
            return watcher.run(channel)
    except KeyboardInterrupt:
        return 130
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
