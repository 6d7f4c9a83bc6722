"""What resume's check against the file costs (issue 9, item 11).

    .venv/bin/python scripts/bench-verify.py SIZE_MIB RUNS

Needs a release build (cargo build --release), Garage 2.5.0 and boto3 (the
moto virtualenv of scripts/install-servers has it). Starts one local Garage
as scripts/bench.py does. Each run makes an upload of a random SIZE_MIB file
with exactly its first 90 % of 8 MiB parts on Garage and in an s3up journal,
as an interrupted put leaves it, then times `s3up resume` (the check, the
default) or `s3up resume --no-verify` from the page cache: wall time, and
the user+sys CPU of s3up. The two modes alternate in order from run to run.
"""
import json, os, resource, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

S3UP = os.path.join(os.path.dirname(HERE), "target", "release", "s3up")
SIZE = int(sys.argv[1]) * bench.MIB
RUNS = int(sys.argv[2])
PART = 8 * bench.MIB
PARTS = SIZE // PART


def make_pending(s3, garage, path, key, jdir):
    """An upload with exactly the first 90 % of its parts on Garage and in
    its journal (schema: src/journal/mod.rs), as s3up would have left it."""
    import base64, hashlib
    up = s3.create_multipart_upload(Bucket=bench.BUCKET, Key=key, ChecksumAlgorithm="SHA256",
                                    ContentType="application/octet-stream")
    upload_id = up["UploadId"]
    k = PARTS * 9 // 10
    parts = []
    with open(path, "rb") as f:
        for n in range(1, k + 1):
            body = f.read(PART)
            sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
            r = s3.upload_part(Bucket=bench.BUCKET, Key=key, UploadId=upload_id, PartNumber=n,
                               Body=body, ChecksumSHA256=sha)
            parts.append({"number": n, "size": len(body), "etag": r["ETag"], "sha256": sha})
    st = os.stat(path)
    jid = hashlib.sha256(upload_id.encode()).hexdigest()[:12]
    journal = {
        "version": 1, "id": jid, "upload_id": upload_id, "bucket": bench.BUCKET, "key": key,
        "connection": {"endpoint_url": garage.endpoint, "region": bench.REGION, "profile": None,
                       "path_style": True},
        "source": {"path": os.path.abspath(path), "size": SIZE, "mtime_ns": st.st_mtime_ns},
        "part_size": PART, "part_count": PARTS,
        "object": {"content_type": "application/octet-stream", "storage_class": None, "metadata": [],
                   "if_none_match": False},
        "created_unix": int(time.time()), "updated_unix": int(time.time()), "parts": parts,
    }
    os.makedirs(jdir, mode=0o700, exist_ok=True)
    with open(os.path.join(jdir, f"{jid}.json"), "w") as f:
        json.dump(journal, f)
    os.chmod(os.path.join(jdir, f"{jid}.json"), 0o600)
    return k


def main():
    tmp = tempfile.mkdtemp(prefix="verify-measure-")
    gdir = os.path.join(tmp, "garage")
    os.makedirs(gdir)
    garage = bench.Garage(bench.find_garage()[0], gdir)
    garage.start()
    s3 = bench.s3_client(garage.endpoint)
    bench.wait_until_serving(s3, garage)
    s3.create_bucket(Bucket=bench.BUCKET)
    path = os.path.join(tmp, "f.bin")
    bench.make_file(path, SIZE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3UP_"))}
    env.update({"AWS_ACCESS_KEY_ID": bench.KEY_ID, "AWS_SECRET_ACCESS_KEY": bench.SECRET,
                "AWS_REGION": bench.REGION, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": garage.endpoint})
    results = {"verify": [], "no-verify": []}
    try:
        for run in range(RUNS):
            for mode in (["verify", "no-verify"] if run % 2 == 0 else ["no-verify", "verify"]):
                jdir = os.path.join(tmp, f"j-{run}-{mode}")
                env["S3UP_JOURNAL_DIR"] = jdir
                key = f"r{run}-{mode}"
                done = make_pending(s3, garage, path, key, jdir)
                # Read the file once so both modes start from the page cache.
                bench.warm(path)
                args = [S3UP, "resume", "--no-progress", "--json"] + (["--no-verify"] if mode == "no-verify" else [])
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.monotonic()
                r = subprocess.run(args, env=env, capture_output=True, text=True)
                wall = time.monotonic() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                if r.returncode != 0:
                    raise SystemExit(f"resume failed: {r.stderr}")
                summary = json.loads(r.stdout)
                head = s3.head_object(Bucket=bench.BUCKET, Key=key)
                assert head["ContentLength"] == SIZE
                results[mode].append((wall, cpu, done, summary.get("sent_bytes")))
                print(f"run {run} {mode}: journal had {done}/{PARTS} parts; resume wall {wall:.2f} s, "
                      f"cpu {cpu:.2f} s, sent {summary.get('sent_bytes')} bytes",
                      flush=True)
    finally:
        garage.stop()
    for mode, rows in results.items():
        walls = sorted(r[0] for r in rows)
        cpus = sorted(r[1] for r in rows)
        print(f"{mode}: wall median {walls[len(walls)//2]:.2f} s (min {walls[0]:.2f}, max {walls[-1]:.2f}); "
              f"cpu median {cpus[len(cpus)//2]:.2f} s")


main()
