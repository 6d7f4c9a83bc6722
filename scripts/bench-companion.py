"""Client cost of `s3up put --via` through Uppy Companion on a local Garage:
two s3up binaries (e.g. before and after a change), alternated, one warm-up
round, then medians of wall, user+sys CPU and peak RSS (GNU time).

    .bench-venv/bin/python scripts/bench-companion.py OLD_BINARY NEW_BINARY SIZE_MIB RUNS

Needs what scripts/bench installs (.bench-venv with boto3, Garage 2.5.0, GNU
time) and Companion (scripts/install-servers). Everything runs on 127.0.0.1."""
import importlib.util, os, subprocess, sys, tempfile, time, statistics
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("bench", os.path.join(ROOT, "scripts", "bench.py"))
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
old, new, size_mib, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tmp = tempfile.mkdtemp()
gdir = os.path.join(tmp, "garage"); os.makedirs(gdir)
g = b.Garage(b.find_garage()[0], gdir)
g.start()
s3 = b.s3_client(g.endpoint)
b.wait_until_serving(s3, g)
s3.create_bucket(Bucket="cbench")
port = b.free_ports(1)[0]
comp = os.path.join(ROOT, "tests/companion/node_modules/@uppy/companion/bin/companion")
env = {"PATH": os.environ["PATH"], "HOME": tmp,
       "COMPANION_AWS_KEY": b.KEY_ID, "COMPANION_AWS_SECRET": b.SECRET, "COMPANION_AWS_REGION": b.REGION,
       "COMPANION_AWS_BUCKET": "cbench", "COMPANION_AWS_ENDPOINT": g.endpoint, "COMPANION_AWS_FORCE_PATH_STYLE": "true",
       "COMPANION_DATADIR": tmp, "COMPANION_DOMAIN": f"127.0.0.1:{port}", "COMPANION_PROTOCOL": "http",
       "COMPANION_PORT": str(port), "COMPANION_SECRET": "companion-bench-secret-0123456789",
       "COMPANION_CLIENT_ORIGINS": "true", "COMPANION_UPLOAD_URLS": "http://127.0.0.1/.*",
       "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED"}
cp = subprocess.Popen(["node", comp], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "c.err"), "w"))
import socket
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close(); break
    except OSError:
        time.sleep(0.1)
path = os.path.join(tmp, "f.bin")
b.make_file(path, size_mib << 20)
res = {"old": [], "new": []}
try:
    for i in range(runs + 1):
        order = [("old", old), ("new", new)] if i % 2 == 0 else [("new", new), ("old", old)]
        for name, binary in order:
            b.warm(path)
            jd = tempfile.mkdtemp()
            r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", binary, "put", path, "--via", f"http://127.0.0.1:{port}",
                                "--no-progress", "-q"], env={"PATH": os.environ["PATH"], "HOME": tmp, "S3UP_JOURNAL_DIR": jd,
                                "S3UP_TOKEN": "x"}, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"{name} failed: {r.stderr}")
            wall, user, sys_, rss = r.stderr.strip().splitlines()[-1].split()
            row = (float(wall), float(user) + float(sys_), int(rss) / 1024)
            print(f"run {i} {name}: wall {row[0]:.2f} s, CPU {row[1]:.2f} s, RSS {row[2]:.0f} MiB", flush=True)
            if i > 0:  # run 0 is a warm-up
                res[name].append(row)
    for name in ("old", "new"):
        rows = res[name]
        print(f"{name}: median wall {statistics.median(r[0] for r in rows):.2f} s, "
              f"CPU {statistics.median(r[1] for r in rows):.2f} s, RSS {statistics.median(r[2] for r in rows):.0f} MiB")
finally:
    cp.kill(); g.stop()
