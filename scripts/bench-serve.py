"""Sign-part throughput of `s3up serve` and of Uppy Companion, side by side.

Both backends run on 127.0.0.1 against one Garage 2.5.0 node, and wrk (Debian)
sends `GET /s3/multipart/{uploadId}/{partNumber}?key=` with 64 connections for
a fixed time. For each: requests per second, p50 and p99 latency, and the
backend's peak RSS (VmHWM) after the run. Signing calls no S3 API, so this
measures each backend's own HTTP, auth and SigV4 cost.

Differences that favour Companion, on purpose left as they are: `serve` checks
a bearer token (SHA-256 and a constant-time compare) and the key policy on
every request; Companion, as configured by its docs, has no authentication.
wrk shares the 2 cores with the backend under test.

With --attack (issue 21) it also measures `serve` quiet and under attack, with
the same settings and load both times: 16 legitimate tokens share the 64 wrk
connections (a wrk Lua script rotates them), and serve allows each caller
1,000 requests a second. Under attack a second process
(scripts/bench-serve-attack.py) holds 1,000 slow-header connections (opened
again as serve closes them at its header timeout) and floods sign-part
requests with one more token on 32 keep-alive connections. For the legitimate
client: requests/s, p50/p99 and non-2xx answers; for serve: peak RSS; for the
attacker: what it got.

Usage: scripts/bench-serve [--duration SECS] [--connections N] [--attack] [--no-install]
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (  # noqa: E402  (bench.py: the shared Garage fixture)
    KEY_ID, KEY_NAME, REGION, SECRET, BenchError, Garage, die_with_parent, find_garage,
    free_ports, log, machine_line,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPANION_DIR = os.path.join(ROOT, "tests", "companion")
BUCKET = "bench-serve"
TOKEN = secrets.token_hex(16)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/bench-serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=15, help="seconds of load per backend (default 15)")
    p.add_argument("--connections", type=int, default=64, help="concurrent clients (default 64)")
    p.add_argument("--attack", action="store_true",
                   help="also run serve quiet and under attack (slow headers and a flooding token)")
    p.add_argument("--slow", type=int, default=1000, help="slow-header connections under --attack (default 1000)")
    p.add_argument("--flood", type=int, default=32, help="flooding connections under --attack (default 32)")
    p.add_argument("--no-companion", action="store_true", help="skip Uppy Companion")
    p.add_argument("--no-install", action="store_true",
                   help="do not install wrk, Companion or build s3up; fail if missing")
    return p.parse_args(argv)


def install(args):
    if shutil.which("wrk") is None:
        if args.no_install:
            raise BenchError("wrk is missing (apt-get install wrk)")
        log("installing wrk from Debian")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
    companion = os.path.join(COMPANION_DIR, "node_modules", "@uppy", "companion", "bin", "companion")
    if not os.path.exists(companion) and not args.no_companion:
        if args.no_install:
            raise BenchError(f"{companion} is missing (cd tests/companion && npm ci)")
        log("installing Uppy Companion from tests/companion/package-lock.json (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=COMPANION_DIR, check=True)
    if not args.no_install:
        log("building s3up (release)")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    s3up = os.path.join(target, "release", "s3up")
    if not os.path.exists(s3up):
        raise BenchError(f"{s3up} is missing: cargo build --release")
    return s3up, companion


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_http(url, proc, what, deadline=30):
    end = time.monotonic() + deadline
    while True:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited during startup (status {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > end:
                raise BenchError(f"{what} did not answer {url} within {deadline} s")
            time.sleep(0.2)


def wrk(url, args, headers=(), script=None, script_args=()):
    cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise BenchError(f"no {label} latency in wrk's output:\n{out}")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(0) if errors else ""}


def env_for(garage):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COMPANION_"))}
    env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    return env


def bench_serve(s3up, garage, tmp, args):
    (port,) = free_ports(1)
    tokens = os.path.join(tmp, "tokens")
    with open(tokens, "w") as f:
        f.write(f"sha256:{hashlib.sha256(TOKEN.encode()).hexdigest()} bench bench\n")
    env = env_for(garage)
    env["AWS_ENDPOINT_URL"] = garage.endpoint
    logf = open(os.path.join(tmp, "serve.log"), "w")
    # One token drives all 64 connections as fast as it can: the per-caller
    # limits (100 requests a second, 32 in flight) would refuse most of it,
    # so they are lifted; what is measured is the signing itself.
    proc = subprocess.Popen([s3up, "serve", "--listen", f"127.0.0.1:{port}", "--bucket", BUCKET,
                             "--tokens", tokens, "--rate-limit", "0",
                             "--max-concurrent-per-caller", "256"],
                            env=env, stdout=subprocess.DEVNULL, stderr=logf,
                            preexec_fn=die_with_parent)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", proc, "s3up serve")
        req = urllib.request.Request(base + "/s3/multipart", method="POST",
                                     data=json.dumps({"filename": "bench.bin"}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            up = json.load(r)
        url = f"{base}/s3/multipart/{up['uploadId']}/7?key={urllib.parse.quote(up['key'])}"
        log(f"s3up serve: wrk -c{args.connections} for {args.duration} s")
        result = wrk(url, args, [f"Authorization: Bearer {TOKEN}"])
        result["rss"] = peak_rss_mib(proc.pid)
        return result
    finally:
        proc.terminate()
        proc.wait()
        logf.close()

# wrk: each request carries the next of the tokens given after `--`.
ROTATE_LUA = """
local tokens = {}
local n = 0
init = function(args)
  for i, t in ipairs(args) do tokens[i] = t end
end
request = function()
  n = n + 1
  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]})
end
"""
LEGIT_TOKENS = [secrets.token_hex(16) for _ in range(16)]
FLOOD_TOKEN = secrets.token_hex(16)
PER_CALLER_RATE = 1000


def bench_attack(s3up, garage, tmp, args, attacked):
    """serve with per-caller limits on, loaded by 16 tokens; with `attacked`,
    while bench-serve-attack.py holds slow headers and floods with a 17th."""
    (port,) = free_ports(1)
    tokens = os.path.join(tmp, "tokens-attack")
    with open(tokens, "w") as f:
        for i, t in enumerate(LEGIT_TOKENS + [FLOOD_TOKEN]):
            who = "flood" if t == FLOOD_TOKEN else f"legit{i}"
            f.write(f"sha256:{hashlib.sha256(t.encode()).hexdigest()} bench {who}\n")
    script = os.path.join(tmp, "rotate.lua")
    with open(script, "w") as f:
        f.write(ROTATE_LUA)
    env = env_for(garage)
    env["AWS_ENDPOINT_URL"] = garage.endpoint
    log_path = os.path.join(tmp, f"serve-attack-{int(attacked)}.log")
    logf = open(log_path, "w")
    proc = subprocess.Popen([s3up, "serve", "--listen", f"127.0.0.1:{port}", "--bucket", BUCKET,
                             "--tokens", tokens, "--rate-limit", str(PER_CALLER_RATE)],
                            env=env, stdout=subprocess.DEVNULL, stderr=logf,
                            preexec_fn=die_with_parent)
    attacker = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", proc, "s3up serve")
        req = urllib.request.Request(base + "/s3/multipart", method="POST",
                                     data=json.dumps({"filename": "bench.bin"}).encode(),
                                     headers={"Authorization": f"Bearer {LEGIT_TOKENS[0]}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            up = json.load(r)
        path = f"/s3/multipart/{up['uploadId']}/7?key={urllib.parse.quote(up['key'])}"
        stats = None
        if attacked:
            attacker = subprocess.Popen(
                [sys.executable, os.path.join(ROOT, "scripts", "bench-serve-attack.py"), "127.0.0.1",
                 str(port), path, FLOOD_TOKEN, str(args.slow), str(args.flood)],
                stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
            if attacker.stdout.readline().strip() != "ready":
                raise BenchError("the attacker did not start")
            time.sleep(3)  # the slow connections open, the flood runs
        log(f"s3up serve {'under attack' if attacked else 'quiet'}: wrk -c{args.connections} "
            f"for {args.duration} s, {len(LEGIT_TOKENS)} tokens")
        result = wrk(base + path, args, script=script, script_args=LEGIT_TOKENS)
        if attacker:
            attacker.terminate()
            out, _ = attacker.communicate(timeout=60)
            stats = json.loads(out.strip().splitlines()[-1])
            attacker = None
        result["rss"] = peak_rss_mib(proc.pid)
        result["attacker"] = stats
        with open(log_path, errors="replace") as f:
            result["accept_errors"] = sum("accept error" in line for line in f)
        return result
    finally:
        if attacker:
            attacker.kill()
            attacker.wait()
        proc.terminate()
        proc.wait()
        logf.close()


def bench_companion(companion, garage, tmp, args):
    (port,) = free_ports(1)
    data = os.path.join(tmp, "companion-data")
    os.makedirs(data, exist_ok=True)
    env = env_for(garage)
    env.update({
        "COMPANION_AWS_KEY": KEY_ID, "COMPANION_AWS_SECRET": SECRET,
        "COMPANION_AWS_BUCKET": BUCKET, "COMPANION_AWS_REGION": REGION,
        "COMPANION_AWS_ENDPOINT": garage.endpoint, "COMPANION_AWS_FORCE_PATH_STYLE": "true",
        "COMPANION_DATADIR": data, "COMPANION_DOMAIN": f"127.0.0.1:{port}",
        "COMPANION_PROTOCOL": "http", "COMPANION_PORT": str(port),
        "COMPANION_SECRET": secrets.token_hex(16), "COMPANION_CLIENT_ORIGINS": "true",
        "COMPANION_UPLOAD_URLS": f"{garage.endpoint}/.*",
        # Without it aws-sdk-js-v3 presigns a CRC32 of an empty body that Garage
        # rejects (DESIGN §4b); it does not change the cost of signing.
        "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
        "NODE_ENV": "production",
    })
    logf = open(os.path.join(tmp, "companion.log"), "w")
    proc = subprocess.Popen(["node", companion], cwd=COMPANION_DIR, env=env,
                            stdout=logf, stderr=logf, preexec_fn=die_with_parent)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/s3/params?filename=x", proc, "Companion", deadline=60)
        req = urllib.request.Request(base + "/s3/multipart", method="POST",
                                     data=json.dumps({"filename": "bench.bin", "type": "application/octet-stream",
                                                      "metadata": {}}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            up = json.load(r)
        url = f"{base}/s3/multipart/{up['uploadId']}/7?key={urllib.parse.quote(up['key'])}"
        log(f"Companion: wrk -c{args.connections} for {args.duration} s")
        result = wrk(url, args)
        result["rss"] = peak_rss_mib(proc.pid)
        return result
    finally:
        proc.terminate()
        proc.wait()
        logf.close()


def version_of_companion():
    with open(os.path.join(COMPANION_DIR, "node_modules", "@uppy", "companion", "package.json")) as f:
        return json.load(f)["version"]


def main():
    args = parse_args(sys.argv[1:])
    try:
        s3up, companion = install(args)
        garage_bin, _ = find_garage()
        with tempfile.TemporaryDirectory(prefix="s3up-bench-serve-") as tmp:
            gdir = os.path.join(tmp, "garage")
            os.makedirs(gdir)
            garage = Garage(garage_bin, gdir)
            log(f"starting Garage at {garage.endpoint}")
            garage.start()
            try:
                garage.cli("bucket", "create", BUCKET)
                garage.cli("bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_NAME)
                rows = [("s3up serve (release)", bench_serve(s3up, garage, tmp, args))]
                if not args.no_companion:
                    node = subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()
                    rows.append((f"Uppy Companion {version_of_companion()} (Node {node})",
                                 bench_companion(companion, garage, tmp, args)))
                attack = []
                if args.attack:
                    attack = [("quiet", bench_attack(s3up, garage, tmp, args, False)),
                              ("under attack", bench_attack(s3up, garage, tmp, args, True))]
            finally:
                garage.stop()
        print(f"Sign-part requests, {args.connections} concurrent clients (wrk -t2), "
              f"{args.duration} s each, on {machine_line()}:\n")
        print("| backend | requests/s | p50 ms | p99 ms | peak RSS MiB | non-2xx |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, r in rows:
            print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rss']:.1f} | {r['non2xx']} |")
        for name, r in rows:
            if r["socket_errors"]:
                print(f"\n{name}: {r['socket_errors']}")
        if attack:
            print(f"\ns3up serve quiet and under attack: {len(LEGIT_TOKENS)} legitimate tokens rotated over "
                  f"{args.connections} connections, --rate-limit {PER_CALLER_RATE} per caller, other limits "
                  f"at their defaults; the attack: {args.slow} slow-header connections and one token "
                  f"flooding on {args.flood} connections (scripts/bench-serve-attack.py):\n")
            print("| run | requests/s | p50 ms | p99 ms | non-2xx | socket errors | serve peak RSS MiB "
                  "| accept errors in serve's log |")
            print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
            for name, r in attack:
                print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} "
                      f"| {r['socket_errors'] or 'none'} | {r['rss']:.1f} | {r['accept_errors']} |")
            quiet, loud = attack[0][1], attack[1][1]
            print(f"\np99 under attack ÷ quiet: {loud['p99'] / quiet['p99']:.2f} (goal: at most 2); "
                  f"requests/s under attack ÷ quiet: {loud['rps'] / quiet['rps']:.2f}")
            a = loud["attacker"]
            print(f"\nThe attacker, over {a['seconds']} s: slow connections opened {a['opened']}, closed by "
                  f"serve {a['closed']} (median life {a['median_slow_lifetime_s']} s), answered {a['answered']}, "
                  f"connect errors {a['connect_errors']}; the flood's answers by status "
                  f"{json.dumps(a['flood'], sort_keys=True)}, its connections dropped {a['flood_dropped']}.")
    except BenchError as e:
        print(f"bench-serve: error: {e}", file=sys.stderr)
        sys.exit(1)
    except subprocess.CalledProcessError as e:
        print(f"bench-serve: error: {' '.join(map(str, e.cmd))} failed (status {e.returncode})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
