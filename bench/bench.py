#!/usr/bin/env python3
"""crunner benchmarks (issue "Benchmarks"): figures, not pass/fail.

Each benchmark drives the real crunner binary against the fake coordinator
(tests/fakegitlab, in this process, on loopback) and prints what it measured;
main() appends a dated table to bench/RESULTS.md.  Run through bench/run.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakegitlab"))

from fglib.core import FakeGitLab  # noqa: E402


def peek(fake, jid):
    """(status, started_at, finished_at) of a job without copying its log,
    which may be a GiB: read the fake's state directly."""
    with fake.state.lock:
        j = fake.state.jobs[jid]
        return j.status, j.started_at, j.finished_at


FINAL = ("success", "failed", "canceled")


def rss_kib(pid, field="VmRSS"):
    """Resident set size (or VmHWM, the peak) of a live process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory_kib(pid):
    """(Rss, Pss, private dirty) of a live process from smaps_rollup, in KiB, its
    number of mappings and whether libarchive is one of them.  Rss counts every shared
    library page the process maps (libc, libcrypto...) in full; Pss shares them out
    among the processes mapping them, so both move with what else runs; private dirty
    (heap, stacks, relocated library data) is what this process alone costs whatever
    runs beside it.  (Private clean is left out: a library page counts as private
    clean whenever no other process happens to map it.)"""
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                vals[parts[0][:-1]] = int(parts[1])
    with open(f"/proc/{pid}/maps") as f:
        lines = f.readlines()
    return (vals.get("Rss", 0), vals.get("Pss", 0),
            vals.get("Private_Dirty", 0), len(lines),
            any("libarchive" in line for line in lines))


def cpu_seconds(pid):
    """User + system CPU time a live process has used (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Runner:
    """crunner run with a generated config.toml, stopped with SIGQUIT."""

    def __init__(self, crunner, workdir, url, tokens, concurrent=1, limit=0,
                 check_interval=3, extra_env=None, output_limit_kib=4096):
        self.workdir = workdir
        self.config = os.path.join(workdir, "config.toml")
        lines = [f"concurrent = {concurrent}", f"check_interval = {check_interval}",
                 'log_level = "warning"', ""]
        for i, tok in enumerate(tokens):
            lines += ["[[runners]]", f'  name = "bench-{i}"', f'  url = "{url}"',
                      f'  token = "{tok}"', '  executor = "shell"',
                      f'  builds_dir = "{workdir}/builds"', f"  limit = {limit}",
                      f"  output_limit = {output_limit_kib}",
                      f"  request_concurrency = {min(concurrent, 16) if concurrent > 1 else 1}",
                      "  [runners.feature_flags]", "    FF_TIMESTAMPS = false", ""]
        with open(self.config, "w") as f:
            f.write("\n".join(lines))
        env = dict(os.environ, **(extra_env or {}))
        self.log = open(os.path.join(workdir, "run.log"), "wb")
        self.proc = subprocess.Popen([crunner, "run", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     cwd=workdir)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class SingleRunner:
    """crunner run-single for max_builds jobs, asking again at once."""

    def __init__(self, crunner, workdir, url, token, max_builds):
        self.log = open(os.path.join(workdir, "run.log"), "wb")
        self.proc = subprocess.Popen(
            [crunner, "--log-level", "warning", "run-single", "--url", url,
             "--token", token, "--builds-dir", os.path.join(workdir, "builds"),
             "--max-builds", str(max_builds), "--check-interval", "10ms"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
            env=dict(os.environ, CR_BENCH="1"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_jobs(fake, ids, timeout):
    deadline = time.time() + timeout
    pending = set(ids)
    while pending and time.time() < deadline:
        for jid in list(pending):
            if peek(fake, jid)[0] in FINAL:
                pending.discard(jid)
        if pending:
            time.sleep(0.2)
    return not pending


def bench_footprint(args, results):
    size = os.path.getsize(args.crunner)
    stripped = os.path.join(args.tmp, "crunner.stripped")
    shutil.copy(args.crunner, stripped)
    subprocess.run(["strip", stripped], check=True)
    results.append(("footprint", "binary size (stripped)",
                    f"{os.path.getsize(stripped) / 1024 / 1024:.2f} MiB",
                    f"unstripped {size / 1024 / 1024:.2f} MiB"))
    idle = 5 if args.quick else 60
    for n in (1, 50):
        with FakeGitLab() as fake:
            tokens = [f"glrt-t1_benchIdle{n:03d}x{i:04d}" for i in range(n)]
            for t in tokens:
                fake.add_runner(t)
            work = tempfile.mkdtemp(dir=args.tmp)
            r = Runner(args.crunner, work, fake.url, tokens, concurrent=4)
            time.sleep(idle)
            rss = rss_kib(r.proc.pid)
            _, pss, private, maps, archive = memory_kib(r.proc.pid)
            r.stop()
        results.append(("footprint", f"idle RSS, {n} runner(s), after {idle} s",
                        f"{rss / 1024:.2f} MiB",
                        f"target <= 4 MiB; PSS {pss / 1024:.2f} MiB, private dirty "
                        f"{private / 1024:.2f} MiB, {maps} mappings, libarchive "
                        f"{'mapped' if archive else 'not mapped (CR_LAZY_LIBARCHIVE)'}"))


def bench_overhead(args, results):
    count = 100 if args.quick else 1000
    for concurrent in (1, 8):
        with FakeGitLab() as fake:
            tok = f"glrt-t1_benchOverhead{concurrent:02d}"
            fake.add_runner(tok)
            work = tempfile.mkdtemp(dir=args.tmp)
            ids = [fake.enqueue_job(tok, script=["true"], git_strategy="none")
                   for _ in range(count)]
            start = time.time()
            if concurrent == 1:
                # run-single, as recorded since the first run (`run` now also
                # asks again at once when a job ends and the queue was not
                # empty, see the concurrent 8 case).
                r = SingleRunner(args.crunner, work, fake.url, tok, count)
            else:
                r = Runner(args.crunner, work, fake.url, [tok], concurrent=concurrent,
                           check_interval=1)
            done = wait_jobs(fake, ids, 900)
            wall = time.time() - start
            r.stop()
            spans = []
            for jid in ids:
                _, started, finished = peek(fake, jid)
                if started and finished:
                    spans.append((finished - started) * 1000)
        note = "target <= 15 ms median at concurrent 1" if concurrent == 1 else ""
        if not done:
            note += " (NOT ALL JOBS FINISHED)"
        results.append(("overhead", f"{count} trivial jobs, concurrent {concurrent}: "
                        "request-to-final-update median / p99",
                        f"{statistics.median(spans):.1f} / {percentile(spans, 99):.1f} ms",
                        note))
        results.append(("overhead", f"{count} trivial jobs, concurrent {concurrent}: throughput",
                        f"{len(spans) / wall:.1f} jobs/s", f"{wall:.1f} s wall"))


def bench_trace(args, results):
    mib = 64 if args.quick else 1024
    masks = [{"key": f"SECRET_{i:03d}", "value": f"s3cr3t-value-{i:03d}-xyz",
              "public": False, "masked": True} for i in range(100)]
    # Build-log text (paths, flags, URLs with '?' and '&'), so every masking
    # stage does real work: the masks' first byte 's', the token prefixes'
    # 'g' and '_' are all over it.  A 1 MiB block is written once and cat'ed
    # mib times: the first version piped /dev/zero through tr and fold, and
    # that pipeline alone tops out at 160-240 MiB/s on 2 cores, so it
    # measured the job, not crunner.  No `yes | head`: under pipefail yes's
    # SIGPIPE would fail the job.
    line = ("[%3d%%] Building C object src/job/stage_%05d.c.o: gcc -O2 -g -Wall "
            "-c src/job/stage_%05d.c (see https://docs.example.com/build?id=%d&step=compile)")
    script = ["awk 'BEGIN{for(i=0;i<9000;i++)printf \"" + line + "\\n\", i%100, i, i, i}' > big",
              "head -c 1048576 big > blk",
              f"set --; for i in $(seq {mib}); do set -- \"$@\" blk; done; cat \"$@\""]
    # GitLab's own 100 MB log limit would end the job: lift it here.  The
    # fake keeps only the size and checksum (trace_store), or storing and
    # hashing a GiB in Python would be what is measured.
    with FakeGitLab(config={"trace_size_limit": 4 * mib * 1024 * 1024,
                            "trace_store": False}) as fake:
        tok = "glrt-t1_benchTrace0001"
        fake.add_runner(tok)
        work = tempfile.mkdtemp(dir=args.tmp)
        jid = fake.enqueue_job(tok, script=script, git_strategy="none", variables=masks)
        r = Runner(args.crunner, work, fake.url, [tok], concurrent=1, check_interval=1,
                   output_limit_kib=mib * 1024 * 2)
        peak = 0
        cpu = 0.0
        fake_cpu0 = time.process_time()
        while peek(fake, jid)[0] not in FINAL:
            try:
                peak = max(peak, rss_kib(r.proc.pid, "VmHWM"))
                cpu = cpu_seconds(r.proc.pid)
            except OSError:
                break
            time.sleep(0.2)
        fake_cpu = time.process_time() - fake_cpu0
        try:
            cpu = cpu_seconds(r.proc.pid)   # idle again: the job's share is all in
        except OSError:
            pass
        status, started, finished = peek(fake, jid)
        with fake.state.lock:
            crc_ok = fake.state.jobs[jid].checksum_ok
        r.stop()
    secs = finished - started
    results.append(("trace", f"{mib} MiB of output, 100 masked variables: throughput",
                    f"{mib / secs:.0f} MiB/s", f"{secs:.1f} s, job {status}, checksum "
                    f"{'ok' if crc_ok else 'WRONG'}; crunner CPU {cpu:.1f} s "
                    f"({mib / max(cpu, 0.01):.0f} MiB per CPU-s), fake CPU {fake_cpu:.1f} s; "
                    "target >= 300 MB/s"))
    results.append(("trace", "crunner peak RSS during that job", f"{peak / 1024:.1f} MiB",
                    "target < 16 MiB"))


def bench_concurrency(args, results):
    n = 40 if args.quick else 200
    with FakeGitLab() as fake:
        tok = "glrt-t1_benchConcurrent"
        fake.add_runner(tok)
        work = tempfile.mkdtemp(dir=args.tmp)
        ids = [fake.enqueue_job(tok, script=["sleep 5"], git_strategy="none")
               for _ in range(n)]
        r = Runner(args.crunner, work, fake.url, [tok], concurrent=n, check_interval=1)
        t0 = time.time()
        max_rss = 0
        cpu = 0.0
        while time.time() - t0 < 30:
            running = sum(1 for jid in ids if peek(fake, jid)[0] == "running")
            max_rss = max(max_rss, rss_kib(r.proc.pid))
            cpu = cpu_seconds(r.proc.pid)
            if running == n:
                break
            time.sleep(0.2)
        done = wait_jobs(fake, ids, 120)
        r.stop()
        starts = sorted(peek(fake, jid)[1] for jid in ids if peek(fake, jid)[1])
    spread = starts[-1] - starts[0] if starts else float("nan")
    results.append(("concurrency", f"{n} jobs sleeping 5 s: all started within",
                    f"{spread:.2f} s", f"crunner CPU {cpu:.2f} s until all ran; target <= 1 s"
                    + ("" if done else " (NOT ALL FINISHED)")))
    results.append(("concurrency", "crunner RSS with all of them running",
                    f"{max_rss / 1024:.1f} MiB", f"{max_rss / max(n, 1):.0f} KiB per job"))


PIPELINE_ONE = "job:\n  script:\n    - echo hello\n"
PIPELINE_SIX = """stages: [a, b, c]
a1: {stage: a, script: [echo a1]}
a2: {stage: a, script: [echo a2]}
b1: {stage: b, script: [echo b1]}
b2: {stage: b, script: [echo b2]}
c1: {stage: c, script: [echo c1]}
c2: {stage: c, script: [echo c2]}
"""


def timed(cmd, cwd, runs):
    times = []
    for _ in range(runs):
        t = time.time()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.time() - t)
    return statistics.median(times)


def bench_exec(args, results):
    runs = 2 if args.quick else 5
    gcl_dir = os.path.join(ROOT, "bench", ".gitlab-ci-local")
    gcl = os.path.join(gcl_dir, "node_modules", ".bin", "gitlab-ci-local")
    if not os.path.exists(gcl):
        os.makedirs(gcl_dir, exist_ok=True)
        # 4.65 is the newest release that runs on Node 20 (later ones need
        # Node 22's Set methods); it needs rsync, from install-deps.sh.
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", gcl_dir,
                            "gitlab-ci-local@4.65.0"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            results.append(("exec", "gitlab-ci-local", "not installed",
                            r.stderr.decode(errors="replace")[-200:]))
            gcl = None
    for name, text in (("one-job", PIPELINE_ONE), ("six-job", PIPELINE_SIX)):
        proj = tempfile.mkdtemp(dir=args.tmp)
        with open(os.path.join(proj, ".gitlab-ci.yml"), "w") as f:
            f.write(text)
        subprocess.run(["git", "init", "-q", "-b", "main", proj], check=True)
        # gitlab-ci-local wants a remote to derive the project path from.
        subprocess.run(["git", "-C", proj, "remote", "add", "origin",
                        "https://gitlab.example.com/bench/pipeline.git"], check=True)
        subprocess.run(["git", "-C", proj, "-c", "user.email=b@e", "-c", "user.name=b",
                        "add", "."], check=True)
        subprocess.run(["git", "-C", proj, "-c", "user.email=b@e", "-c", "user.name=b",
                        "commit", "-q", "-m", "bench"], check=True)
        ours = timed([os.path.abspath(args.crunner), "exec"], proj, runs)
        line = f"{ours * 1000:.0f} ms"
        note = ""
        if gcl:
            theirs = timed([gcl], proj, runs)
            note = f"gitlab-ci-local {theirs * 1000:.0f} ms: {theirs / ours:.1f}x faster"
        results.append(("exec", f"{name} pipeline, median of {runs}", line, note))


BENCHES = {"footprint": bench_footprint, "overhead": bench_overhead, "trace": bench_trace,
           "concurrency": bench_concurrency, "exec": bench_exec}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crunner", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(BENCHES))
    args = ap.parse_args()
    args.tmp = tempfile.mkdtemp(prefix="crunner-bench-")
    results = []
    try:
        for name in args.only.split(","):
            print(f"--- {name}", flush=True)
            before = len(results)
            BENCHES[name](args, results)
            for row in results[before:]:
                print(f"  {row[1]}: {row[2]}  {row[3]}", flush=True)
    finally:
        shutil.rmtree(args.tmp, ignore_errors=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    needed = subprocess.run(["readelf", "-d", args.crunner], capture_output=True,
                            text=True).stdout
    lazy = ", CR_LAZY_LIBARCHIVE" if needed and "libarchive" not in needed else ""
    table = [f"\n## {stamp} ({rev}{', quick' if args.quick else ''}{lazy}, "
             f"{os.cpu_count()} cores)\n",
             "| bench | what | figure | notes |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in results]
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
