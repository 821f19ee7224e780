"""A local stand-in of the Hugging Face Hub for the tests: the endpoints huggingface_hub 2.4
calls for `create_repo`, `upload_folder`, `hf_hub_download` and `snapshot_download`, and
that Keras' own `save_model` / `load_model("hf://…")` use, served on 127.0.0.1.

Every commit is kept in memory, so a commit sha can be pinned after newer pushes. Files
are always stored as regular git blobs (preupload answers "regular"; no LFS, no Xet).

Example:

    with HubStandIn() as hub:
        use_hub(monkeypatch, hub.url, tmp_path / "cache")
        sha = keras_dae.publish(model, "hf://org/repo")
"""

import base64
import hashlib
import http.server
import json
import os
import re
import threading
import urllib.parse

_REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"
_REV = r"(?P<rev>[^/]+)"
_ROUTES = [
    ("GET", r"/api/whoami-v2", "whoami"),
    ("GET", r"/api/agent-harnesses", "agent_harnesses"),
    ("POST", r"/api/repos/create", "create_repo"),
    ("POST", r"/api/validate-yaml", "validate_yaml"),
    ("POST", rf"/api/models/{_REPO}/preupload/{_REV}", "preupload"),
    ("POST", rf"/api/models/{_REPO}/commit/{_REV}", "commit"),
    ("POST", rf"/api/models/{_REPO}/paths-info/{_REV}", "paths_info"),
    ("GET", rf"/api/models/{_REPO}/tree/{_REV}(?:/(?P<path>.*))?", "tree"),
    ("GET", rf"/api/models/{_REPO}/revision/{_REV}", "model_info"),
    ("GET", rf"/api/models/{_REPO}", "model_info"),
    ("GET", rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
    ("HEAD", rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
]


def git_blob_sha1(data):
    """The git object id of a blob: what the Hub sends as the ETag of a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _HubError(Exception):
    def __init__(self, status, message, code=None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class HubStandIn:
    """A threaded HTTP server on a free port of 127.0.0.1 that speaks the Hub API.

    Args:
        max_request_bytes: the largest request body accepted (bigger ones get 413).
        max_stored_bytes: the most file bytes kept over all commits (beyond: 507).

    Attributes:
        url: `http://127.0.0.1:<port>`, for `HF_ENDPOINT`.
        requests: `(method, path)` of every request served, in order.
        unhandled: the requests no route matched (answered 404).
    """

    def __init__(self, max_request_bytes=64 << 20, max_stored_bytes=256 << 20):
        self.max_request_bytes = max_request_bytes
        self.max_stored_bytes = max_stored_bytes
        self.repos = {}
        self.requests = []
        self.unhandled = []
        self._stored = 0
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # Life cycle.

    def start(self):
        hub = self

        class Handler(_Handler):
            stand_in = hub

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Repository state.

    def head(self, repo_id, revision="main"):
        """The commit sha `revision` (a branch or a sha) points at."""
        return self._resolve(repo_id, revision)[0]

    def files(self, repo_id, revision="main"):
        """`{path: bytes}` of the repository at `revision`."""
        return dict(self._resolve(repo_id, revision)[1])

    def _repo(self, repo_id):
        repo = self.repos.get(repo_id)
        if repo is None:
            raise _HubError(401, f"Repository Not Found for url: {repo_id}", "RepoNotFound")
        return repo

    def _resolve(self, repo_id, revision):
        repo = self._repo(repo_id)
        revision = urllib.parse.unquote(revision)
        sha = repo["refs"].get(revision, revision)
        if sha not in repo["commits"]:
            raise _HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return sha, repo["commits"][sha]

    def _new_commit(self, repo_id, parent, files, message):
        repo = self.repos[repo_id]
        digest = hashlib.sha1(f"{repo_id}\n{parent}\n{len(repo['commits'])}\n{message}".encode())
        for path in sorted(files):
            digest.update(path.encode() + git_blob_sha1(files[path]).encode())
        sha = digest.hexdigest()
        repo["commits"][sha] = files
        repo["refs"]["main"] = sha
        return sha

    # Endpoints: each returns (status, body or None, extra headers).

    def whoami(self, req):
        return 200, {"type": "user", "name": "tester", "fullname": "Test User", "orgs": [],
                     "auth": {"accessToken": {"displayName": "test", "role": "write"}}}, {}

    def agent_harnesses(self, req):
        return 404, {"error": "not served by the stand-in"}, {}

    def create_repo(self, req):
        body = req.json()
        repo_id = f"{body.get('organization') or 'tester'}/{body['name']}"
        url = f"{req.base}/{repo_id}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this model repo", "url": url}, {}
        self.repos[repo_id] = {"commits": {}, "refs": {}, "private": bool(body.get("private"))}
        self._new_commit(repo_id, None, {}, "initial commit")
        return 200, {"url": url, "name": repo_id, "id": repo_id}, {}

    def validate_yaml(self, req):
        return 200, {"errors": [], "warnings": []}, {}

    def preupload(self, req, repo, rev):
        _, files = self._resolve(repo, rev)
        answer = []
        for f in req.json()["files"]:
            old = files.get(f["path"])
            answer.append({"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                           "oid": None if old is None else git_blob_sha1(old)})
        return 200, {"files": answer, "commitOid": self.head(repo, rev)}, {}

    def commit(self, req, repo, rev):
        parent, files = self._resolve(repo, rev)
        files = dict(files)
        message = ""
        for line in req.body.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                message = value.get("summary", "")
                if value.get("parentCommit") not in (None, parent):
                    raise _HubError(412, "parentCommit is not the head of the branch")
            elif key == "file":
                data = base64.b64decode(value["content"])
                if self._stored + len(data) > self.max_stored_bytes:
                    raise _HubError(507, "stand-in storage limit reached")
                self._stored += len(data)
                files[value["path"]] = data
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            else:
                raise _HubError(400, f"the stand-in does not support {key!r} operations")
        sha = self._new_commit(repo, parent, files, message)
        return 200, {"commitUrl": f"{req.base}/{repo}/commit/{sha}", "commitOid": sha,
                     "pullRequestUrl": None}, {}

    def model_info(self, req, repo, rev="main"):
        sha, files = self._resolve(repo, rev)
        return 200, {"id": repo, "modelId": repo, "sha": sha, "private": self.repos[repo]["private"],
                     "tags": [], "siblings": [{"rfilename": p} for p in sorted(files)]}, {}

    @staticmethod
    def _entries(files, paths):
        dirs = set()
        out = []
        for path in sorted(paths):
            data = files[path]
            out.append({"type": "file", "path": path, "size": len(data), "oid": git_blob_sha1(data)})
            parts = path.split("/")[:-1]
            dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return out, dirs

    def tree(self, req, repo, rev, path=None):
        _, files = self._resolve(repo, rev)
        prefix = (path.strip("/") + "/") if path else ""
        chosen = [p for p in files if p.startswith(prefix)]
        if req.query.get("recursive", ["false"])[0] not in ("true", "1", "True"):
            chosen = [p for p in chosen if "/" not in p[len(prefix):]]
        out, dirs = self._entries(files, chosen)
        out += [{"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest()}
                for d in sorted(dirs) if d.startswith(prefix)]
        return 200, out, {}

    def paths_info(self, req, repo, rev):
        _, files = self._resolve(repo, rev)
        if req.headers.get("Content-Type", "").startswith("application/json"):
            paths = req.json().get("paths", [])
        else:
            paths = urllib.parse.parse_qs(req.body.decode()).get("paths", [])
        out, _ = self._entries(files, [p for p in paths if p in files])
        return 200, out, {}

    def resolve(self, req, repo, rev, path):
        sha, files = self._resolve(repo, rev)
        path = urllib.parse.unquote(path)
        headers = {"X-Repo-Commit": sha}
        if path not in files:
            raise _HubError(404, f"Entry not found: {path}", "EntryNotFound")
        data = files[path]
        headers["ETag"] = f'"{git_blob_sha1(data)}"'
        return 200, data, headers


class _Request:
    def __init__(self, handler, body):
        parsed = urllib.parse.urlsplit(handler.path)
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query)
        self.headers = handler.headers
        self.body = body
        self.base = f"http://{handler.headers.get('Host', '127.0.0.1')}"

    def json(self):
        return json.loads(self.body or b"{}")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    stand_in = None

    def log_message(self, *args):
        pass

    def _handle(self, method):
        hub = self.stand_in
        length = int(self.headers.get("Content-Length") or 0)
        if length > hub.max_request_bytes:
            self._reply(method, 413, {"error": "request too large"}, {})
            self.close_connection = True
            return
        req = _Request(self, self.rfile.read(length) if length else b"")
        with hub._lock:
            hub.requests.append((method, req.path))
            for verb, pattern, name in _ROUTES:
                match = re.fullmatch(pattern, req.path) if verb == method else None
                if match:
                    kwargs = {k: v for k, v in match.groupdict().items() if v is not None}
                    try:
                        status, body, headers = getattr(hub, name)(req, **kwargs)
                    except _HubError as e:
                        status, body = e.status, {"error": e.message}
                        headers = {"X-Error-Code": e.code} if e.code else {}
                        headers["X-Error-Message"] = e.message
                    break
            else:
                hub.unhandled.append((method, req.path))
                status, body, headers = 404, {"error": f"no route for {method} {req.path}"}, {}
        self._reply(method, status, body, headers)

    def _reply(self, method, status, body, headers):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")


def use_hub(monkeypatch, endpoint, cache_dir, offline=False, token="hf_stand_in_token"):
    """Points huggingface_hub, in this process and in child processes, at `endpoint`.

    huggingface_hub 2.4 reads HF_ENDPOINT, HF_HUB_OFFLINE and HF_HUB_CACHE once, at import,
    into `huggingface_hub.constants` (Keras imports it before any test runs); its functions
    read those module attributes at call time, so patching them is enough in-process. The
    environment variables are set too, for subprocesses. The token is read from HF_TOKEN at
    call time.
    """
    from huggingface_hub import constants

    endpoint = endpoint.rstrip("/")
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", bool(offline))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", os.fspath(cache_dir))
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_CACHE", os.fspath(cache_dir))
    monkeypatch.setenv("HF_HOME", os.fspath(cache_dir))
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
