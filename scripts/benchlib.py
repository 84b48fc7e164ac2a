# benchlib: what the bench-* scripts and scripts/load-test share.
#
# Tools (apt-get for nginx, GNU time and the peers; cargo for tributary), the
# farm cache (scripts/bench-farm), nginx on 127.0.0.1 with the farm's config
# and its access log, a running daemon (its environment, HTTP GETs, the poll
# counters of /metrics), `/usr/bin/time -v` output, the machine description
# and the marked sections of docs/. Standard library only.
#
# Messages are prefixed with PROG, which each script sets to its own name.

import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "performance.md"
TIME = "/usr/bin/time"
PROG = Path(sys.argv[0]).name or "bench"


def log(msg):
    print(f"[{PROG} {datetime.now():%H:%M:%S}] {msg}", flush=True)


class Stop(Exception):
    pass


def on_signal(signum, _frame):
    raise Stop(f"stopped by signal {signal.Signals(signum).name}")


# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------


def find_nginx():
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def apt_install(packages):
    if os.geteuid() != 0:
        sys.exit(f"{PROG}: {', '.join(packages)} missing and not root: install them first")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(f"installing {' '.join(packages)} with apt-get")
    subprocess.run(["apt-get", "update"], check=True, env=env)
    # Keep the package's own nginx service from starting on port 80: the
    # benchmark runs its own instance on loopback.
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        made_policy = True
    try:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], check=True, env=env)
    finally:
        if made_policy:
            policy.unlink()


def ensure_tools(extra=()):
    """nginx and GNU time, plus `extra`: (Debian package, is-it-there check) pairs."""
    missing = []
    if not find_nginx():
        missing.append("nginx")
    if not os.access(TIME, os.X_OK):
        missing.append("time")
    missing += [pkg for pkg, present in extra if not present()]
    if missing:
        apt_install(missing)
    nginx = find_nginx()
    if not nginx:
        sys.exit(f"{PROG}: nginx still not found after installing it")
    return nginx


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def build():
    if not shutil.which("cargo"):
        sys.exit(f"{PROG}: cargo not found (install the Rust toolchain)")
    log("cargo build --release")
    t = time.monotonic()
    # own process group, so an interruption stops cargo and its rustc children
    proc = subprocess.Popen(["cargo", "build", "--release", "--quiet"], cwd=REPO, start_new_session=True)
    try:
        rc = proc.wait()
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    if rc:
        raise subprocess.CalledProcessError(rc, ["cargo", "build", "--release"])
    log(f"build done in {time.monotonic() - t:.1f} s")
    binary = target_dir() / "release" / "tributary"
    if not binary.exists():
        sys.exit(f"{PROG}: {binary} missing after the build")
    return binary


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(binary, work):
    """A private copy of the binary, so a rebuild during the runs changes nothing."""
    copy = work / f"tributary-{sha256(binary)[:12]}"
    if not copy.exists():
        tmp = copy.with_suffix(f".tmp{os.getpid()}")
        shutil.copy2(binary, tmp)
        tmp.rename(copy)
    return copy


# ---------------------------------------------------------------------------
# Farm and nginx
# ---------------------------------------------------------------------------


def ensure_farm(work, n, a):
    """The farm for N feeds in WORK (a.seed, a.port, a.pathological), generated if needed."""
    d = work / (f"{n}-pathological" if a.pathological else str(n))
    manifest = d / "farm.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if (m.get("feeds"), str(m.get("seed")), m.get("port"), m.get("pathological")) == (
            n,
            str(a.seed),
            a.port,
            a.pathological,
        ):
            log(f"reusing the farm in {d} ({m['feeds']} feeds, {m['bytes'] / 1e6:.0f} MB, dated up to {m['date']})")
            return d, m, 0.0
    log(f"generating the farm for N={n} in {d}")
    cmd = [sys.executable, str(REPO / "scripts" / "bench-farm"), "--feeds", str(n), "--out", str(d),
           "--port", str(a.port), "--seed", str(a.seed)]
    if a.pathological:
        cmd.append("--pathological")
    t = time.monotonic()
    subprocess.run(cmd, check=True)
    took = time.monotonic() - t
    log(f"farm generated in {took:.1f} s")
    return d, json.loads(manifest.read_text()), took


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# One line of the farm's access log (bench-farm's `log_format bench`):
#   $status $body_bytes_sent $request_time "$request" "$http_if_none_match"
ACCESS = re.compile(rb'^(\S+) (\d+) ([\d.]+) "([^"]*)" "([^"]*)"')


class Nginx:
    def __init__(self, binary, farm, port):
        self.binary, self.farm, self.port = binary, farm, port
        self.proc = None

    def start(self):
        if not port_free(self.port):
            raise RuntimeError(
                f"127.0.0.1:{self.port} is in use (a stale nginx? see {self.farm / 'nginx.pid'}); "
                "stop it or pass --port"
            )
        (self.farm / "tmp").mkdir(exist_ok=True)
        for f in ("access.log", "error.log"):
            (self.farm / f).write_bytes(b"")
        cmd = [self.binary, "-p", f"{self.farm}/", "-e", str(self.farm / "error.log"), "-c",
               str(self.farm / "nginx.conf")]
        out = open(self.farm / "nginx.out", "wb")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    log(f"nginx up on 127.0.0.1:{self.port} (pid {self.proc.pid})")
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen on 127.0.0.1:{self.port} within 15 s:\n{self.tail()}")

    def tail(self):
        text = ""
        for f in ("nginx.out", "error.log"):
            p = self.farm / f
            if p.exists():
                text += p.read_text(errors="replace")[-2000:]
        return text

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            log("nginx stopped")
        self.proc = None

    def take_log(self):
        """Requests by status since the last call; empties the access log."""
        return self.take_log_details()["statuses"]

    def take_log_details(self):
        """Requests since the last call, then empties the access log: counts by
        status, body bytes sent, requests carrying If-None-Match, and the
        slowest request (nginx's $request_time, seconds) with its path."""
        p = self.farm / "access.log"
        counts = {}
        sent = conditional = 0
        slowest = (0.0, None)
        with p.open("r+b") as f:
            for line in f:
                status = line.split(b" ", 1)[0].decode()
                counts[status] = counts.get(status, 0) + 1
                m = ACCESS.match(line)
                if not m:
                    continue
                sent += int(m.group(2))
                if m.group(5) not in (b"", b"-"):
                    conditional += 1
                took = float(m.group(3))
                if took >= slowest[0]:
                    parts = m.group(4).decode(errors="replace").split(" ")
                    slowest = (took, parts[1] if len(parts) > 1 else parts[0])
            f.truncate(0)
        return {
            "statuses": dict(sorted(counts.items())),
            "bytes": sent,
            "if_none_match": conditional,
            "slowest_s": slowest[0],
            "slowest_path": slowest[1],
        }


# ---------------------------------------------------------------------------
# A running daemon
# ---------------------------------------------------------------------------


def daemon_env():
    """The environment `tributary run` / `poll` gets: no proxies, no systemd
    notify socket or state directory, warnings only."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(RUST_LOG="warn", NO_COLOR="1")
    env.pop("NOTIFY_SOCKET", None)
    env.pop("STATE_DIRECTORY", None)
    return env


def http_get(url, timeout=60, headers=None):
    """(status, body) of a GET, the body gunzipped when the answer says gzip."""
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        coding = r.headers.get("Content-Encoding")
        if coding == "gzip":
            body = gzip.decompress(body)
        elif coding not in (None, "identity"):
            raise ValueError(f"unexpected Content-Encoding {coding}")
        return r.status, body


def poll_counts(listen):
    """From the daemon's /metrics: (sources polled at least once, polls per
    outcome), or None when it did not answer. A source whose schedule comes
    round again during a run counts once among the sources."""
    try:
        _, body = http_get(f"http://127.0.0.1:{listen}/metrics", timeout=30)
    except (OSError, urllib.error.URLError):
        return None
    polled, outcomes = set(), {}
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.startswith("tributary_polls_total{"):
            continue
        count = int(float(line.rsplit(" ", 1)[1]))
        source = re.search(r'source="([^"]*)"', line)
        outcome = re.search(r'outcome="([^"]*)"', line)
        if count > 0:
            polled.add(source.group(1) if source else line)
        key = outcome.group(1) if outcome else "?"
        outcomes[key] = outcomes.get(key, 0) + count
    return len(polled), outcomes


# ---------------------------------------------------------------------------
# Measuring and describing
# ---------------------------------------------------------------------------


def parse_time(path):
    """Wall clock, user and system CPU and peak RSS from `/usr/bin/time -v -o PATH`."""
    text = path.read_text()

    def field(name):
        m = re.search(rf"^\s*{re.escape(name)}: (.+)$", text, re.M)
        if not m:
            raise RuntimeError(f"no '{name}' in {path}")
        return m.group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {
        "wall": secs,
        "user": float(field("User time (seconds)")),
        "sys": float(field("System time (seconds)")),
        "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
    }


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
    except OSError:
        return ""


def machine(nginx):
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    commit = sh(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    if sh(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    nginx_v = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip().replace("nginx version: ", "")
    return {
        "nproc": sh(["nproc"]) or str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "rustc": sh(["rustc", "--version"]) or "unknown",
        "commit": commit,
        "nginx": nginx_v,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def write_doc(text, begin, end, new_doc, heading="", doc_path=None):
    """Puts `text` (which starts with `begin` and ends with `end`) into
    docs/performance.md in place of the old marked section; without markers
    it is appended after `heading`. A missing file starts as `new_doc`."""
    path = Path(doc_path) if doc_path else DOC
    path.parent.mkdir(exist_ok=True)
    if path.exists():
        doc = path.read_text()
    else:
        doc = new_doc
    if begin in doc and end in doc:
        pre, rest = doc.split(begin, 1)
        post = rest.split(end, 1)[1]
        doc = pre + text + post
    else:
        doc = doc.rstrip("\n") + "\n\n" + heading + text + "\n"
    path.write_text(doc)
    log(f"results written to {path}")


# ---------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------


def sqlite(db, sql):
    """The output of one read-only sqlite3 query on the store `db`."""
    out = subprocess.run(["sqlite3", "-readonly", str(db), sql], capture_output=True, text=True)
    return out.stdout.strip()


def copy_store(src, dst_dir):
    """A consistent copy of the store `src` as DST_DIR/tributary.db (the
    folder emptied first), whatever state the source is in (WAL included)."""
    shutil.rmtree(dst_dir, ignore_errors=True)
    dst_dir.mkdir(parents=True)
    subprocess.run(["sqlite3", str(src), f".backup '{dst_dir / 'tributary.db'}'"], check=True)
    return dst_dir / "tributary.db"
