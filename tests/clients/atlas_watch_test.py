#!/usr/bin/python3
"""Tests clients/python/atlas_watch.py against a fake Atlas Watch service.

Run: /usr/bin/python3 tests/clients/atlas_watch_test.py (ctest runs it too).
Stubs are generated from proto/ into a temporary folder.
"""

import concurrent.futures
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import grpc

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))
SCRIPT = os.path.join(ROOT, "clients", "python", "atlas_watch.py")
PROTO_DIR = os.path.join(ROOT, "proto")


def load_script():
    spec = importlib.util.spec_from_file_location("atlas_watch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


atlas_watch = load_script()
STUBS = tempfile.mkdtemp(prefix="atlas-watch-test-")
pb2, pb2_grpc = atlas_watch.load_stubs(PROTO_DIR, STUBS)


def events(revision, changes):
    response = pb2.WatchResponse(type=pb2.WatchResponse.TYPE_EVENTS,
                                 revision=revision)
    for change_revision, name in changes:
        event = response.events.add()
        event.change.revision = change_revision
        event.change.type = 2  # CHANGE_TYPE_UPDATED
        event.change.entity.name = name
    return response


def progress(revision):
    return pb2.WatchResponse(type=pb2.WatchResponse.TYPE_PROGRESS,
                             revision=revision)


class FakeAtlas(pb2_grpc.AtlasServicer):
    """Plays one script per Watch call: (responses, (code, details) or None)."""

    def __init__(self, scripts):
        self.scripts = list(scripts)
        self.requests = []
        self.metadata = []
        self.lock = threading.Lock()

    def Watch(self, request, context):
        with self.lock:
            self.requests.append(request)
            self.metadata.append(dict(context.invocation_metadata()))
            if not self.scripts:
                context.abort(grpc.StatusCode.UNAVAILABLE, "no more scripts")
            responses, ending = self.scripts.pop(0)
        for response in responses:
            yield response
        if ending is not None:
            context.abort(ending[0], ending[1])


class AtlasWatchTest(unittest.TestCase):

    def serve(self, scripts):
        self.fake = FakeAtlas(scripts)
        self.server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=4))
        pb2_grpc.add_AtlasServicer_to_server(self.fake, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.addCleanup(self.server.stop, None)
        return "127.0.0.1:%d" % port

    def run_watch(self, server, *args):
        out, err, sleeps = io.StringIO(), io.StringIO(), []
        code = atlas_watch.main(
            ["--server", server, "--stubs-dir", STUBS] + list(args),
            out=out, err=err, sleep=sleeps.append)
        return code, out.getvalue(), err.getvalue(), sleeps

    def test_prints_events_and_resumes_without_gaps_or_repeats(self):
        server = self.serve([
            ([events(3, [(2, "topics/ai"), (3, "facts/a")]), progress(5)],
             (grpc.StatusCode.UNAVAILABLE, "restarting")),
            ([events(6, [(5, "facts/repeat"), (6, "facts/b")])], None),
        ])
        code, out, err, sleeps = self.run_watch(
            server, "--topic", "artificial-intelligence", "--topic",
            "cybersecurity", "--max-events", "3", "--token", "t0k")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "2 UPDATED topics/ai\n3 UPDATED facts/a\n"
                              "6 UPDATED facts/b\n")
        self.assertEqual(len(self.fake.requests), 2)
        self.assertEqual(list(self.fake.requests[0].filter.topics),
                         ["artificial-intelligence", "cybersecurity"])
        self.assertEqual(self.fake.requests[0].start_revision, 0)
        self.assertEqual(self.fake.requests[1].start_revision, 6)
        self.assertEqual(self.fake.metadata[0].get("authorization"),
                         "Bearer t0k")
        self.assertEqual(sleeps, [0.1])
        self.assertIn("reconnecting in 100ms", err)

    def test_from_revision_and_json(self):
        server = self.serve([([events(9, [(9, "documents/g-tbt-56")])], None)])
        code, out, err, _ = self.run_watch(
            server, "--from-revision", "9", "--max-events", "1", "--json")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.fake.requests[0].start_revision, 9)
        self.assertEqual(out.count("\n"), 1)
        self.assertTrue(out.startswith('{"change":{"revision":"9"'), out)

    def test_out_of_range_exits_with_one_line(self):
        server = self.serve([([], (grpc.StatusCode.OUT_OF_RANGE,
                                   "oldest kept revision is 50"))])
        code, out, err, _ = self.run_watch(server, "--from-revision", "1")
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertEqual(err,
                         "atlas_watch: out of range: oldest kept revision is 50\n")

    def test_runs_as_a_program_generating_its_own_stubs(self):
        server = self.serve([([events(4, [(4, "topics/ai")])], None)])
        result = subprocess.run(
            ["/usr/bin/python3", SCRIPT, "--server", server, "--topic", "ai",
             "--max-events", "1"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "4 UPDATED topics/ai\n")

    def test_help_runs_as_a_program(self):
        result = subprocess.run(["/usr/bin/python3", SCRIPT, "--help"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("--max-events", result.stdout)


if __name__ == "__main__":
    try:
        unittest.main()
    finally:
        shutil.rmtree(STUBS, ignore_errors=True)
