"""INTERFACE.md's outbound Graph calls checked against a stand-in written from Meta's
documentation (tests/integration/graph_fake.py), not against our emulator: `accounts connect`
with gzip-encoded answers, and /me/accounts paged the documented ways (cursors, paging.next
alone, offset). Every call must carry the version in its path and appsecret_proof beside its
token, and paging.next is never fetched from another host."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from graph_fake import GraphFake
from harness import base_env, binary_path

APP_ID = "1999000000000001"
APP_SECRET = "fake-graph-app-secret"
REQUIRED_FIELDS = {"messages", "messaging_postbacks", "message_reactions", "message_echoes",
                   "messaging_seen"}


class TestContractGraph(unittest.TestCase):
    def setUp(self):
        self.g = GraphFake(APP_ID, APP_SECRET)
        self.addCleanup(self.g.close)
        self.root = tempfile.mkdtemp(prefix="sb-cgraph-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def run_sb(self, *args, stdin=""):
        env = base_env()
        env.update({"SB_DATA_DIR": os.path.join(self.root, "data"), "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET, "SB_META_GRAPH_URL": self.g.base,
                    "SB_META_GRAPH_VERSION": "v24.0"})
        r = subprocess.run([binary_path()] + list(args), input=stdin.encode(), env=env,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def connect_and_check(self):
        rc, out, err = self.run_sb("accounts", "connect", "--user-token", "-",
                                   stdin=self.g.short_token + "\n")
        self.assertEqual(rc, 0, err[-2000:])
        self.assertEqual(self.g.problems, [])
        rc, out, err = self.run_sb("accounts", "list", "--json")
        self.assertEqual(rc, 0, err)
        rows = [json.loads(ln) for ln in out.splitlines()]
        pages = sorted(r["external_id"] for r in rows if r["platform"] == "messenger")
        self.assertEqual(pages, sorted(p["id"] for p in self.g.pages))
        self.assertIn(("instagram", "17841499900000001"),
                      [(r["platform"], r["external_id"]) for r in rows])
        for p in self.g.pages:  # each Page subscribed, with at least the contract's fields
            self.assertTrue(REQUIRED_FIELDS <= set(self.g.subscribed.get(p["id"], [])), p["id"])
        for r in self.g.requests:
            self.assertTrue(r["path"].startswith("/v24.0/"), r["path"])
        return rows

    def accounts_calls(self):
        return [r for r in self.g.requests if r["path"] == "/v24.0/me/accounts"]

    def test_cursor_paging(self):
        self.connect_and_check()
        calls = self.accounts_calls()
        self.assertEqual(len(calls), 3)  # 5 Pages, 2 a page
        self.assertNotIn("after", calls[0]["query"])
        self.assertEqual([c["query"].get("after") for c in calls[1:]], ["cur-2", "cur-4"])

    def test_gzip_answers(self):
        """A request without Accept-Encoding accepts any coding (RFC 9110 12.5.3), and Meta
        compresses its answers: they must be decoded, not taken for a broken answer."""
        self.g.gzip = True
        self.connect_and_check()

    def test_paging_next_without_cursors(self):
        """paging.next alone says there is more (Graph's paginated results page): the next
        request carries that link's after= to our own Graph URL."""
        self.g.paging = "next_only"
        self.connect_and_check()
        calls = self.accounts_calls()
        self.assertEqual([c["query"].get("after") for c in calls], [None, "cur-2", "cur-4"])

    def test_paging_offset(self):
        self.g.paging = "offset"
        self.connect_and_check()
        calls = self.accounts_calls()
        self.assertEqual([c["query"].get("offset") for c in calls], [None, "2", "4"])

    def test_next_on_another_host_is_not_fetched(self):
        """paging.next names another host: its query is used, the host never contacted."""
        decoy = GraphFake(APP_ID, APP_SECRET)
        self.addCleanup(decoy.close)
        self.g.paging = "next_only"
        self.g.next_base = decoy.base
        self.connect_and_check()
        self.assertEqual(decoy.requests, [])
        self.assertEqual(len(self.accounts_calls()), 3)


if __name__ == "__main__":
    unittest.main()
