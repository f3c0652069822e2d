#!/usr/bin/env python3
"""The figures SECURITY.md's limits promise, measured on a running server (not a test:
numbers to read, for a closing note or a release).

Usage: .ci/measure-hardening.py PATCHBAY_BINARY SITE_ROOT
  e.g. cargo build -p server --release && PATCHBAY_SITE_ROOT=/tmp/site .ci/build-site release
       .ci/measure-hardening.py target/release/patchbay /tmp/site

Prints resident memory at start, after 1,000 anonymous GET /login (and the session rows
they left), after 60 parallel wrong sign-ins for one account (and their verdicts), the most
argon2 verifies seen running at once (from the debug log), and the bytes of a first visit
to /login with brotli against the same files uncompressed. Linux only (/proc).
"""
import subprocess, os, time, re, sqlite3, tempfile, urllib.request, concurrent.futures, http.cookiejar, urllib.parse, sys
import socket
bin_ = sys.argv[1]; site = sys.argv[2]
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    PORT = probe.getsockname()[1]
data = tempfile.mkdtemp()
env = dict(os.environ, PATCHBAY_DATA_DIR=data, PATCHBAY_BIND=f"127.0.0.1:{PORT}", PATCHBAY_SITE_ROOT=site,
           PATCHBAY_ADMIN_EMAIL="admin@example.com", PATCHBAY_ADMIN_PASSWORD="measure-Admin-Pass-0001", PATCHBAY_LOG="server=debug,info")
log = open(data + "/server.log", "w")
p = subprocess.Popen([bin_, "serve"], env=env, stdout=log, stderr=log)
base = f"http://127.0.0.1:{PORT}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz"); break
    except Exception: time.sleep(0.2)
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p.pid}/status").read()).group(1)) // 1024
print("RSS at start:", rss(), "MB")
def get(_):
    return urllib.request.urlopen(base + "/login").status
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    codes = list(ex.map(get, range(1000)))
print("1000 anonymous GET /login:", codes.count(200), "x 200; RSS", rss(), "MB; session rows:",
      sqlite3.connect(data + "/patchbay.db").execute("select count(*) from sessions").fetchone()[0])
# 60 parallel wrong passwords for one account
jar = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
html = opener.open(base + "/login").read().decode()
token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
def attempt(n):
    body = urllib.parse.urlencode({"csrf_token": token, "email": "admin@example.com", "password": f"wrong-{n:04d}-password"}).encode()
    try:
        opener.open(base + "/login", body)
    except urllib.error.HTTPError as e:
        return e.headers.get("location")
t = time.time()
with concurrent.futures.ThreadPoolExecutor(60) as ex:
    targets = list(ex.map(attempt, range(60)))
invalid = sum(1 for t_ in targets if t_ == "/login?msg=invalid")
throttled = sum(1 for t_ in targets if t_ and t_.startswith("/login?msg=throttled"))
print(f"60 parallel wrong sign-ins: {invalid} invalid, {throttled} throttled, in {time.time()-t:.2f} s; RSS {rss()} MB")
time.sleep(0.5)
log.flush()
peaks = [int(m) for m in re.findall(r"running=(\d+)", open(data + "/server.log").read())]
print("argon2 verifies running at once, at most:", max(peaks) if peaks else 0)
# first visit transfer
def size(url, enc):
    req = urllib.request.Request(url, headers={"Accept-Encoding": enc})
    r = urllib.request.urlopen(req); b = r.read(); return len(b), r.headers.get("Content-Encoding"), r.headers.get("Cache-Control")
page = urllib.request.urlopen(base + "/login").read().decode()
paths = sorted(set(re.findall(r'(/pkg/[^"\s]+\.(?:js|wasm|css))', page)))
total_after = len(page.encode()); total_before = len(page.encode())
for path in paths:
    a = size(base + path, "gzip, deflate, br"); b = size(base + path, "identity")
    print(f"  {path}: {a[0]} bytes ({a[1]}, {a[2]}) vs {b[0]} uncompressed")
    total_after += a[0]; total_before += b[0]
print(f"first visit to /login: {total_after} bytes with br vs {total_before} uncompressed (page {len(page.encode())})")
p.terminate()
