#!/usr/bin/env python3
"""Warm aggregate queries over the 10M-span perf dataset (issue #11, "Queries at scale").

Usage: bench/warm_queries.py [--data DIR] [--meta meta.json] [--port N] [--perf OUT] BINARY...

For each binary: copies DIR (never written) to a scratch dir, starts `BINARY serve
--no-trace-index` on it, runs each query once to warm the column cache, then 5 times and prints
the median (ms) per query and the server's RSS. With --perf, records `perf record -g` of the
server while the three queries loop (after warm-up) into OUT.<binary-name>.
"""
import argparse, json, os, shutil, subprocess, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument('--data', default='/work/wt/perf-data/ariadne')
ap.add_argument('--meta', default='/work/wt/perf-data/dataset/meta.json')
ap.add_argument('--scratch', default='/tmp/qspeed-data')
ap.add_argument('--port', type=int, default=18791)
ap.add_argument('--runs', type=int, default=5)
ap.add_argument('--perf')
ap.add_argument('binaries', nargs='+')
args = ap.parse_args()

meta = json.load(open(args.meta))
start = meta["min_start_unix_nano"] // 10**9
end = meta["max_start_unix_nano"] // 10**9 + 2
rng = {"start_time": start, "end_time": end, "limit": 1000}
QUERIES = {
    "p99": dict(rng, calculations=[{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}],
                breakdowns=["service.name"]),
    "status": dict(rng, calculations=[{"op": "COUNT"}], breakdowns=["name"],
                   filters=[{"column": "http.status_code", "op": ">=", "value": 500}]),
    "flag": dict(rng, calculations=[{"op": "COUNT"}], breakdowns=["name"],
                 filters=[{"column": "app.feature_flag", "op": "=", "value": True}]),
}
base = f"http://127.0.0.1:{args.port}"


def cache_counters():
    text = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
    out = {}
    for line in text.splitlines():
        for k in ("hits", "misses"):
            if line.startswith(f"ariadne_column_cache_{k}_total"):
                out[k] = float(line.split()[-1])
    return out


def query(spec):
    t = time.time()
    req = urllib.request.Request(base + "/api/v1/query", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    body = urllib.request.urlopen(req, timeout=300).read()
    return (time.time() - t) * 1000, body


for binary in args.binaries:
    shutil.rmtree(args.scratch, ignore_errors=True)
    shutil.copytree(args.data, args.scratch)
    log = open(args.scratch + '.log', 'w')
    p = subprocess.Popen([binary, 'serve', '--data-dir', args.scratch, '--otlp-grpc', '0',
                          '--zipkin', '0', '--http', str(args.port), '--otlp-http', '0',
                          '--xray', '0', '--no-trace-index'], stderr=log)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/metrics", timeout=2)
                break
            except Exception:
                time.sleep(0.5)
        res, answers = {}, {}
        for name, spec in QUERIES.items():
            _, answers[name] = query(spec)
        before = cache_counters()
        for name, spec in QUERIES.items():
            ts = sorted(query(spec)[0] for _ in range(args.runs))
            res[name] = round(ts[len(ts) // 2])
        after = cache_counters()
        res['cache_misses_per_query'] = round(
            (after.get('misses', 0) - before.get('misses', 0)) / (3 * args.runs), 1)
        rss = [l for l in open(f'/proc/{p.pid}/status') if l.startswith('VmRSS')][0].split()[1]
        print(os.path.basename(binary), res, 'rss_kb', rss, flush=True)
        for name, body in answers.items():
            with open(f'{args.scratch}.{os.path.basename(binary)}.{name}.json', 'wb') as f:
                f.write(body)
        if args.perf:
            out = f'{args.perf}.{os.path.basename(binary)}'
            perf = subprocess.Popen(['perf', 'record', '-g', '-o', out, '-p', str(p.pid)],
                                    stderr=subprocess.DEVNULL)
            time.sleep(1)
            for _ in range(4):
                for spec in QUERIES.values():
                    query(spec)
            perf.send_signal(2)
            perf.wait()
    finally:
        p.terminate()
        p.wait()
    shutil.rmtree(args.scratch, ignore_errors=True)
