"""Knowledge base from the command line and at server start: `kb add/list/search` on the real
binary against a temporary SB_DATA_DIR, re-adding unchanged and changed files, missing paths,
files that are not text, usage errors, an OpenAI-compatible embeddings server (Python, here),
and `serve` indexing SB_KB_DIR in the background."""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

from harness import REPO_ROOT, ServerTestCase, base_env, binary_path, deadline_loop

EXAMPLES = os.path.join(REPO_ROOT, "examples", "kb")


class Kb:
    """A data dir and a copy of the sample shop's documents; runs `switchboard kb ...`."""

    def __init__(self, test, **env):
        self.tmp = tempfile.mkdtemp(prefix="sb-it-kb-")
        test.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = os.path.join(self.tmp, "data")
        self.docs = os.path.join(self.tmp, "docs")
        shutil.copytree(EXAMPLES, self.docs)
        self.extra = env

    def env(self):
        e = base_env()
        e["SB_DATA_DIR"] = self.data
        e["SB_LOG_LEVEL"] = "warn"
        e.update(self.extra)
        return e

    def run(self, *args, timeout=60):
        p = subprocess.run([binary_path(), "kb"] + list(args), env=self.env(), cwd=self.tmp,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def path(self, name):
        return os.path.join(self.docs, name)

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())


def lines(text):
    return [ln for ln in text.split("\n") if ln]


def outcomes(out):
    """{"shipping.md": "added", ...} from `kb add` output."""
    got = {}
    for ln in lines(out):
        word, _, rest = ln.partition(" ")
        got[os.path.basename(rest.strip().split(" (")[0])] = word
    return got


def first_title(out):
    first = lines(out)[0]
    assert first.startswith("1. "), first
    return first[3:].split(" | ")[0]


class KbCliTests(unittest.TestCase):

    def add_all(self, kb):
        rc, out, err = kb.run("add", kb.docs)
        self.assertEqual(rc, 0, err)
        return out

    def test_add_list_search(self):
        kb = Kb(self)
        out = self.add_all(kb)
        self.assertEqual(outcomes(out), {"hours-and-locations.md": "added", "products.md": "added",
                                         "returns.md": "added", "shipping.md": "added"})
        for ln in lines(out):
            self.assertRegex(ln, r"^added +\S+ \(\d+ chunks?\)$")
        rc, out, err = kb.run("list")
        self.assertEqual(rc, 0, err)
        rows = lines(out)
        self.assertTrue(rows[0].startswith("PATH"), rows[0])
        self.assertEqual(len(rows), 5)
        for title in ("Hours and locations", "Products", "Returns and refunds", "Shipping"):
            self.assertTrue(any(title in r for r in rows[1:]), (title, rows))
        for q, title in (("do you ship to canada", "Shipping"),
                         ("return policy for opened coffee", "Returns and refunds"),
                         ("opening hours sunday", "Hours and locations"),
                         ("discount code", "Returns and refunds")):
            rc, out, err = kb.run("search", q)
            self.assertEqual(rc, 0, err)
            self.assertEqual(first_title(out), title, out)
            self.assertLessEqual(len([ln for ln in lines(out) if ln[0].isdigit()]), 5)
        # the query may also come as several words
        rc, out, _ = kb.run("search", "do", "you", "ship", "to", "canada")
        self.assertEqual(first_title(out), "Shipping")
        self.assertIn("Shipping > Where we ship", lines(out)[0])
        self.assertIn("Canada", lines(out)[1])

    def test_readd_unchanged_and_changed(self):
        kb = Kb(self)
        self.add_all(kb)
        out = self.add_all(kb)
        self.assertEqual(set(outcomes(out).values()), {"unchanged"})
        # named twice, relative and absolute: one document
        rc, out, err = kb.run("add", "docs/shipping.md", kb.path("shipping.md"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(lines(out)[0].split()[0], "unchanged")
        kb.write("shipping.md", "# Shipping\n\n## Islands\n\nWe ship to Zanzibar by sea.\n")
        out = self.add_all(kb)
        got = outcomes(out)
        self.assertEqual(got.pop("shipping.md"), "updated")
        self.assertEqual(set(got.values()), {"unchanged"})
        rc, out, _ = kb.run("search", "zanzibar")
        self.assertEqual(first_title(out), "Shipping")
        rc, out, _ = kb.run("search", "tracking number")
        self.assertEqual(out.strip(), "no matching passages")
        rc, out, _ = kb.run("list")
        self.assertEqual(len(lines(out)), 5)

    def test_removed_and_skipped(self):
        kb = Kb(self)
        self.add_all(kb)
        os.unlink(kb.path("returns.md"))
        kb.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0")
        kb.write("binary.md", b"# T\n\0\0\0")
        kb.write("notes.txt", "Parking is free on Sundays.\n")
        rc, out, err = kb.run("add", kb.docs)
        self.assertEqual(rc, 0, err)  # inside a folder, a skip is not a failure
        got = outcomes(out)
        self.assertEqual(got["returns.md"], "removed")
        self.assertEqual(got["logo.png"], "skipped")
        self.assertEqual(got["binary.md"], "skipped")
        self.assertEqual(got["notes.txt"], "added")
        self.assertIn("not a .md, .markdown or .txt file", out)
        self.assertIn("binary, not text", out)
        rc, out, _ = kb.run("search", "discount code")
        self.assertNotIn("Returns and refunds", out)
        # named on its own, a file that cannot be indexed is a failure
        rc, out, err = kb.run("add", kb.path("binary.md"))
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("skipped"), out)
        big = kb.path("big.md")
        with open(big, "wb") as f:
            f.write(b"a" * (1024 * 1024 + 1))
        rc, out, err = kb.run("add", big)
        self.assertEqual(rc, 1)
        self.assertIn("larger than 1 MiB", out)

    def test_missing_path(self):
        kb = Kb(self)
        rc, out, err = kb.run("add", "nope.md", kb.path("returns.md"))
        self.assertEqual(rc, 1)
        self.assertEqual(len(lines(err)), 1, err)
        self.assertIn("nope.md", err)
        self.assertIn("no such file", err)
        self.assertEqual(outcomes(out), {"returns.md": "added"})  # the rest still done
        rc, out, _ = kb.run("list")
        self.assertEqual(len(lines(out)), 2)

    def test_query_syntax_is_words(self):
        kb = Kb(self)
        self.add_all(kb)
        for q in ('"', "*", "NEAR(", "AND", "-", ":", '"NEAR( AND * -: ^x {a b}:', "OR ship",
                  "heading:ship", "'); DROP TABLE kb_documents; --", "¿dónde? 😀"):
            rc, out, err = kb.run("search", q)
            self.assertEqual(rc, 0, (q, err))
            self.assertEqual(err, "", q)
        rc, out, _ = kb.run("list")
        self.assertEqual(len(lines(out)), 5)

    def test_usage_errors(self):
        kb = Kb(self)
        for args in ([], ["add"], ["search"], ["frob"], ["list", "extra"]):
            rc, out, err = kb.run(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertEqual(len(lines(err)), 1, (args, err))
            self.assertEqual(out, "")

    def test_empty_store(self):
        kb = Kb(self)
        rc, out, _ = kb.run("list")
        self.assertEqual(rc, 0)
        self.assertIn("no documents", out)
        rc, out, _ = kb.run("search", "anything")
        self.assertEqual((rc, out.strip()), (0, "no matching passages"))


class FakeEmbeddings:
    """An OpenAI-compatible POST /v1/embeddings: one small vector per input, by word hashes."""

    def __init__(self):
        self.requests = []
        self.fail = False
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fake.requests.append((self.path, self.headers.get("Authorization"), body))
                if fake.fail or self.path != "/v1/embeddings":
                    self.send_response(503)
                    self.end_headers()
                    return
                req = json.loads(body)
                data = [{"object": "embedding", "index": i, "embedding": fake.vector(t)}
                        for i, t in enumerate(req["input"])]
                out = json.dumps({"object": "list", "data": data, "model": req["model"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d/v1" % self.httpd.server_address[1]

    @staticmethod
    def vector(text):
        v = [0.0] * 8
        for w in text.lower().split():
            v[sum(map(ord, w)) % 8] += 1.0
        return v

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class KbEmbeddingTests(unittest.TestCase):

    def test_hybrid_and_failure(self):
        fake = FakeEmbeddings()
        self.addCleanup(fake.close)
        kb = Kb(self, SB_EMBED_URL=fake.url, SB_EMBED_MODEL="tiny", SB_LLM_API_KEY="sk-test-123")
        rc, out, err = kb.run("add", kb.docs)
        self.assertEqual(rc, 0, err)
        for ln in lines(out):
            self.assertTrue(ln.endswith("with embeddings)"), ln)
        self.assertEqual(len(fake.requests), 4)
        path, auth, body = fake.requests[0]
        self.assertEqual(path, "/v1/embeddings")
        self.assertEqual(auth, "Bearer sk-test-123")
        self.assertEqual(json.loads(body)["model"], "tiny")
        rc, out, err = kb.run("search", "discount code")
        self.assertEqual(rc, 0, err)
        self.assertEqual(first_title(out), "Returns and refunds")
        self.assertIn("cosine", lines(out)[0])
        rc, out, _ = kb.run("list")
        self.assertTrue(all(" yes " in r for r in lines(out)[1:]), out)
        # the service goes down: a changed file is still indexed, lexically; search still works
        fake.fail = True
        kb.write("shipping.md", "# Shipping\n\nWe ship to Zanzibar.\n")
        rc, out, err = kb.run("add", kb.docs)
        self.assertEqual(rc, 0, err)
        self.assertIn("updated   %s (1 chunk)" % kb.path("shipping.md"), out)
        self.assertIn('"kb.embed_failed"', err)
        self.assertNotIn("sk-test-123", err)
        rc, out, err = kb.run("search", "zanzibar")
        self.assertEqual(rc, 0, err)
        self.assertEqual(first_title(out), "Shipping")
        self.assertIn('"kb.query_embed_failed"', err)


class KbServeTests(ServerTestCase):

    def test_serve_indexes_kb_dir(self):
        docs = tempfile.mkdtemp(prefix="sb-it-kbdir-")
        self.addCleanup(shutil.rmtree, docs, True)
        for name in os.listdir(EXAMPLES):
            shutil.copy(os.path.join(EXAMPLES, name), docs)
        server = self.start_server(env={"SB_KB_DIR": docs})
        self.assertEqual(server.wait_scalar("SELECT count(*) FROM kb_documents", 4), 4)
        for _ in deadline_loop(10):
            if any(e.get("event") == "kb.synced" for e in server.log_events()):
                break
        synced = [e for e in server.log_events() if e.get("event") == "kb.synced"]
        self.assertEqual(len(synced), 1, server.stderr())
        self.assertEqual(synced[0]["added"], 4)
        # the CLI reads the same store while the server runs
        env = base_env()
        env.update({"SB_DATA_DIR": server.data_dir, "SB_LOG_LEVEL": "warn"})
        p = subprocess.run([binary_path(), "kb", "search", "do you ship to canada"], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(first_title(p.stdout.decode()), "Shipping")
        self.stop_and_check(server)
        # a restart finds everything unchanged
        os.unlink(os.path.join(docs, "returns.md"))
        server.restart()
        self.assertEqual(server.wait_scalar("SELECT count(*) FROM kb_documents", 3), 3)
        self.stop_and_check(server)
        synced = [e for e in server.log_events() if e.get("event") == "kb.synced"]
        self.assertEqual((synced[0]["unchanged"], synced[0]["removed"]), (3, 1))


if __name__ == "__main__":
    unittest.main()
