#!/usr/bin/env python3
"""crunner benchmarks: figures, not pass/fail.

Each benchmark drives the real crunner binary against the fake coordinator
(tests/fakegitlab, in this process, on loopback) with crunner's default
settings (FF_TIMESTAMPS on, as gitlab-runner 19 has it) and prints what it
measured.  Every figure is measured --repeat times and reported as the
median with the spread (min-max) of the repeats.  Comparisons are paired:
with --baseline OTHER_CRUNNER each repeat runs A (crunner) then B (the
baseline) back to back and the figure is the median ratio of the pairs, so
a busy machine slows both sides alike; `exec` pairs crunner with
gitlab-ci-local the same way.

Nothing is written into the source tree and nothing is installed: the
table goes to stdout (and to --record FILE when asked); a missing
gitlab-ci-local is reported with the command that installs it.  Run
through bench/run.
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


def rss_by_file(pid):
    """{short name of the mapped file (or [heap], [anon]...): Rss KiB} from smaps."""
    out = {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if not parts[0].endswith(":"):
                name = os.path.basename(parts[5]) if len(parts) > 5 else "[anon]"
                name = name.split(".so")[0] if ".so" in name else name
            elif parts[0] == "Rss:" and name:
                out[name] = out.get(name, 0) + int(parts[1])
    return out


def make_tls_pki(d):
    """A CA and a server certificate for 127.0.0.1 in d (openssl); (ca, cert, key)."""
    os.makedirs(d, exist_ok=True)
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=bench CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bench", "-keyout",
        "server.key", "-out", "server.csr")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    return (os.path.join(d, "ca.pem"), os.path.join(d, "server.pem"),
            os.path.join(d, "server.key"))


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
                 check_interval=3, extra_env=None, output_limit_kib=4096, runner_lines=()):
        self.workdir = workdir
        self.config = os.path.join(workdir, "config.toml")
        lines = [f"concurrent = {concurrent}", f"check_interval = {check_interval}",
                 'log_level = "warning"', ""]
        for i, tok in enumerate(tokens):
            lines += ["[[runners]]", f'  name = "bench-{i}"', f'  url = "{url}"',
                      f'  token = "{tok}"', '  executor = "shell"',
                      f'  builds_dir = "{workdir}/builds"', f"  limit = {limit}",
                      f"  output_limit = {output_limit_kib}",
                      f"  request_concurrency = {min(concurrent, 16) if concurrent > 1 else 1}"]
            lines += [f"  {line}" for line in runner_lines] + [""]
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


def spread(values, fmt):
    """'median (min-max)' of repeated measurements, each formatted with fmt."""
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def paired(args, measure):
    """Runs measure(binary) --repeat times for crunner (A) and, with
    --baseline, for the baseline (B) right after it: A B A B ...  Returns
    (list of A results, list of B results); each result is a dict of
    figures."""
    a, b = [], []
    for _ in range(args.repeat):
        a.append(measure(args.crunner))
        if args.baseline:
            b.append(measure(args.baseline))
    return a, b


def report(args, results, bench, what, a, b, key, fmt, note="", higher_is_better=True):
    """One row: crunner's figure over the repeats, and with a baseline the
    median of the per-pair ratios (how many times better crunner is)."""
    av = [r[key] for r in a if r.get(key) is not None]
    fig = spread(av, fmt)
    if b:
        ratios = []
        for ra, rb in zip(a, b):
            x, y = ra.get(key), rb.get(key)
            if x and y:
                ratios.append(x / y if higher_is_better else y / x)
        bv = [r[key] for r in b if r.get(key) is not None]
        note = (f"baseline {spread(bv, fmt)}; paired ratio {spread(ratios, '{:.2f}')}x"
                + (f"; {note}" if note else ""))
    results.append((bench, what, fig, note))


def bench_footprint(args, results):
    def size(binary):
        stripped = os.path.join(args.tmp, "crunner.stripped")
        shutil.copy(binary, stripped)
        subprocess.run(["strip", stripped], check=True)
        return {"size": os.path.getsize(stripped) / 1024 / 1024,
                "unstripped": os.path.getsize(binary) / 1024 / 1024}

    a, b = [size(args.crunner)], [size(args.baseline)] if args.baseline else []
    report(args, results, "footprint", "binary size (stripped)", a, b, "size", "{:.2f} MiB",
           f"unstripped {a[0]['unstripped']:.2f} MiB", higher_is_better=False)
    idle = 5 if args.quick else 30

    pki = make_tls_pki(os.path.join(args.tmp, "pki")) if shutil.which("openssl") else None

    def idle_memory(binary):
        out = {}
        for n, scheme in ((1, "http"), (50, "http"), (1, "https")):
            if scheme == "https" and not pki:
                continue
            tls = {"cert": pki[1], "key": pki[2], "client_ca": None} if scheme == "https" else None
            with FakeGitLab(tls=tls) as fake:
                tokens = [f"glrt-t1_benchIdle{n:03d}x{i:04d}" for i in range(n)]
                for t in tokens:
                    fake.add_runner(t)
                work = tempfile.mkdtemp(dir=args.tmp)
                lines = [f'tls-ca-file = "{pki[0]}"'] if tls else []
                r = Runner(binary, work, fake.url, tokens, concurrent=4, runner_lines=lines)
                time.sleep(idle)
                rss, pss, private, maps, archive = memory_kib(r.proc.pid)
                by_file = rss_by_file(r.proc.pid)
                r.stop()
            key = f"{n}" if scheme == "http" else "tls"
            out.update({f"rss{key}": rss / 1024, f"pss{key}": pss / 1024,
                        f"private{key}": private / 1024, f"maps{key}": maps,
                        f"archive{key}": archive, f"files{key}": by_file})
        out["per_runner"] = (out["rss50"] - out["rss1"]) * 1024 / 49
        out["per_runner_private"] = (out["private50"] - out["private1"]) * 1024 / 49
        return out

    a, b = paired(args, idle_memory)
    keys = [("1", "1 runner"), ("50", "50 runners")] + ([("tls", "1 runner, https (tls-ca-file)")]
                                                       if pki else [])
    for key, what in keys:
        top = sorted(a[0][f"files{key}"].items(), key=lambda kv: -kv[1])[:10]
        report(args, results, "footprint", f"idle RSS, {what}, after {idle} s", a, b,
               f"rss{key}", "{:.2f} MiB",
               f"target <= 4 MiB at 1; PSS {spread([r[f'pss{key}'] for r in a], '{:.2f}')} MiB, "
               f"private dirty {spread([r[f'private{key}'] for r in a], '{:.2f}')} MiB, "
               f"{a[0][f'maps{key}']} mappings, libarchive "
               f"{'mapped' if a[0][f'archive{key}'] else 'not mapped'}; largest (MiB): "
               + ", ".join(f"{k} {v / 1024:.2f}" for k, v in top),
               higher_is_better=False)
    if not pki:
        results.append(("footprint", "idle RSS, https", "n/a", "install openssl to make the test certificates"))
    report(args, results, "footprint", "idle RSS per extra runner (50 vs 1)", a, b,
           "per_runner", "{:.0f} KiB",
           f"target <= 10 KiB; private dirty {spread([r['per_runner_private'] for r in a], '{:.0f}')} KiB",
           higher_is_better=False)


def process_cpu(pid):
    """(own CPU seconds, CPU seconds of its waited-for children) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return ((int(fields[11]) + int(fields[12])) / tick,
            (int(fields[13]) + int(fields[14])) / tick)


def bench_overhead(args, results):
    count = 100 if args.quick else 500
    # The job prints bash's clock (a builtin: no process) so the span splits
    # into the request's answer to the script running, and the script to
    # the final update.
    script = ['echo "CRB_AT $EPOCHREALTIME"']

    def run_jobs(binary, concurrent):
        with FakeGitLab() as fake:
            tok = f"glrt-t1_benchOverhead{concurrent:02d}"
            fake.add_runner(tok)
            work = tempfile.mkdtemp(dir=args.tmp)
            ids = [fake.enqueue_job(tok, script=script, git_strategy="none")
                   for _ in range(count)]
            start = time.time()
            if concurrent == 1:
                # One job more than queued: it stays alive to be measured.
                r = SingleRunner(binary, work, fake.url, tok, count + 1)
            else:
                r = Runner(binary, work, fake.url, [tok], concurrent=concurrent,
                           check_interval=1)
            done = wait_jobs(fake, ids, 900)
            wall = time.time() - start
            try:
                own, children = process_cpu(r.proc.pid)
            except OSError:
                own = children = None
            r.stop()
            spans, to_script, from_script = [], [], []
            for jid in ids:
                _, started, finished = peek(fake, jid)
                if not (started and finished):
                    continue
                spans.append((finished - started) * 1000)
                with fake.state.lock:
                    text = fake.state.jobs[jid].trace.decode("utf-8", "replace")
                at = [w for line in text.splitlines() if "CRB_AT " in line
                      and not line.rstrip().endswith("$EPOCHREALTIME\"")
                      for w in line.split("CRB_AT ", 1)[1].split()[:1]]
                try:
                    t = float(at[-1])
                except (IndexError, ValueError):
                    continue
                to_script.append((t - started) * 1000)
                from_script.append((finished - t) * 1000)
        n = len(spans) or 1
        return {"median": statistics.median(spans) if spans else None,
                "p99": percentile(spans, 99), "rate": len(spans) / wall, "done": done,
                "to_script": statistics.median(to_script) if to_script else None,
                "from_script": statistics.median(from_script) if from_script else None,
                "own_cpu": own * 1000 / n if own is not None else None,
                "children_cpu": children * 1000 / n if children is not None else None}

    for concurrent in (1, 8):
        a, b = paired(args, lambda binary: run_jobs(binary, concurrent))
        note = "target <= 5 ms median" if concurrent == 1 else ""
        if not all(r["done"] for r in a + b):
            note += " (NOT ALL JOBS FINISHED)"
        report(args, results, "overhead", f"{count} trivial jobs, concurrent {concurrent}: "
               "request-to-final-update median", a, b, "median", "{:.1f} ms",
               f"p99 {spread([r['p99'] for r in a], '{:.1f}')} ms; {note}",
               higher_is_better=False)
        if concurrent == 1:
            report(args, results, "overhead", "of which: request answered to the script's "
                   "first line (median)", a, b, "to_script", "{:.1f} ms",
                   "the fake's answer, crunner's job set-up, the prepare and step shells",
                   higher_is_better=False)
            report(args, results, "overhead", "of which: the script's line to the final "
                   "update (median)", a, b, "from_script", "{:.1f} ms",
                   "the step shell's exit, the trace's last PATCH, the final PUT",
                   higher_is_better=False)
            report(args, results, "overhead", "crunner's own CPU per job", a, b, "own_cpu",
                   "{:.2f} ms", "user + system of the crunner process (its polls too)",
                   higher_is_better=False)
            report(args, results, "overhead", "the job's processes' CPU per job", a, b,
                   "children_cpu", "{:.2f} ms", "user + system of the shells crunner ran",
                   higher_is_better=False)
        report(args, results, "overhead", f"{count} trivial jobs, concurrent {concurrent}: "
               "throughput", a, b, "rate", "{:.1f} jobs/s")


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

    def one(binary):
        # GitLab's own 100 MB log limit would end the job: lift it here.  The
        # fake keeps only the size and checksum (trace_store), or storing and
        # hashing a GiB in Python would be what is measured.
        with FakeGitLab(config={"trace_size_limit": 4 * mib * 1024 * 1024,
                                "trace_store": False}) as fake:
            tok = "glrt-t1_benchTrace0001"
            fake.add_runner(tok)
            work = tempfile.mkdtemp(dir=args.tmp)
            jid = fake.enqueue_job(tok, script=script, git_strategy="none", variables=masks)
            r = Runner(binary, work, fake.url, [tok], concurrent=1, check_interval=1,
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
            try:
                cpu = cpu_seconds(r.proc.pid)
            except OSError:
                pass
            # The fake runs in this process (its HTTP server's threads);
            # the bench's own polling above is a few ms of it.
            fake_cpu = time.process_time() - fake_cpu0
            status, started, finished = peek(fake, jid)
            with fake.state.lock:
                crc_ok = fake.state.jobs[jid].checksum_ok
                patches = fake.state.jobs[jid].patches
            r.stop()
        secs = finished - started
        return {"rate": mib / secs if status == "success" and crc_ok else None,
                "per_cpu": mib / max(cpu, 0.01), "peak": peak / 1024,
                "fake_per_cpu": mib / max(fake_cpu, 0.01), "patches": patches,
                "ok": status == "success" and crc_ok}

    def job_alone():
        # The same script with its output read through a pipe by this
        # process and dropped: what the job and the machine allow at all
        # right now, the ceiling for the wall figure.
        work = tempfile.mkdtemp(dir=args.tmp)
        start = time.time()
        proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=work,
                                stdout=subprocess.PIPE)
        got = 0
        while True:
            data = proc.stdout.read(1 << 20)
            if not data:
                break
            got += len(data)
        proc.wait()
        secs = time.time() - start
        shutil.rmtree(work, ignore_errors=True)
        return {"rate": got / (1 << 20) / secs if proc.returncode == 0 else None}

    a, b = paired(args, one)
    alone = [job_alone() for _ in a]
    bad = "" if all(r["ok"] for r in a + b) else " (A JOB FAILED OR ITS CHECKSUM WAS WRONG)"
    report(args, results, "trace", f"{mib} MiB of output, 100 masked variables, timestamps "
           "on: throughput", a, b, "rate", "{:.0f} MiB/s",
           f"crunner {spread([r['per_cpu'] for r in a], '{:.0f}')} MiB per CPU-s; "
           f"target >= 300 MB/s{bad}")
    report(args, results, "trace", "crunner's MiB of that log per CPU-second", a, b, "per_cpu",
           "{:.0f} MiB/CPU-s", "user + system of the crunner process: robust under load")
    report(args, results, "trace", "the fake GitLab's MiB of that log per CPU-second", a, b,
           "fake_per_cpu", "{:.0f} MiB/CPU-s",
           f"the Python fake's PATCH handling (CPU of the bench process); "
           f"{spread([r['patches'] for r in a], '{:.0f}')} PATCHes: with crunner's, a bound on "
           "the wall figure on a machine that runs both")
    report(args, results, "trace", "the job alone: its output read through a pipe, no crunner",
           alone, [], "rate", "{:.0f} MiB/s",
           "the machine's ceiling for the throughput row at this load (job start not counted)")
    report(args, results, "trace", "crunner peak RSS during that job", a, b, "peak",
           "{:.1f} MiB", "target < 16 MiB", higher_is_better=False)


def bench_concurrency(args, results):
    n = 40 if args.quick else 200

    def one(binary):
        with FakeGitLab() as fake:
            tok = "glrt-t1_benchConcurrent"
            fake.add_runner(tok)
            work = tempfile.mkdtemp(dir=args.tmp)
            ids = [fake.enqueue_job(tok, script=["sleep 5"], git_strategy="none")
                   for _ in range(n)]
            r = Runner(binary, work, fake.url, [tok], concurrent=n, check_interval=1)
            t0 = time.time()
            max_rss = 0
            while time.time() - t0 < 30:
                running = sum(1 for jid in ids if peek(fake, jid)[0] == "running")
                max_rss = max(max_rss, rss_kib(r.proc.pid))
                if running == n:
                    break
                time.sleep(0.2)
            done = wait_jobs(fake, ids, 120)
            r.stop()
            starts = sorted(peek(fake, jid)[1] for jid in ids if peek(fake, jid)[1])
        return {"spread": starts[-1] - starts[0] if done and starts else None,
                "rss": max_rss / 1024, "per_job": max_rss / max(n, 1)}

    a, b = paired(args, one)
    report(args, results, "concurrency", f"{n} jobs sleeping 5 s: all started within", a, b,
           "spread", "{:.2f} s", "target <= 1 s", higher_is_better=False)
    report(args, results, "concurrency", "crunner RSS with all of them running", a, b,
           "rss", "{:.1f} MiB", f"{spread([r['per_job'] for r in a], '{:.0f}')} KiB per job",
           higher_is_better=False)


PIPELINE_ONE = "job:\n  script:\n    - echo hello\n"
PIPELINE_SIX = """stages: [a, b, c]
a1: {stage: a, script: [echo a1]}
a2: {stage: a, script: [echo a2]}
b1: {stage: b, script: [echo b1]}
b2: {stage: b, script: [echo b2]}
c1: {stage: c, script: [echo c1]}
c2: {stage: c, script: [echo c2]}
"""

# gitlab-ci-local 4.65 is the newest release that runs on Node 20 (later
# ones need Node 22's Set methods); it needs rsync.
GCL_VERSION = "4.65.0"
GCL_PREFIX = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                          "crunner-bench", "gitlab-ci-local")


def find_gitlab_ci_local():
    """$GITLAB_CI_LOCAL, gitlab-ci-local on PATH, or the bench's own prefix."""
    for cand in (os.environ.get("GITLAB_CI_LOCAL"), shutil.which("gitlab-ci-local"),
                 os.path.join(GCL_PREFIX, "node_modules", ".bin", "gitlab-ci-local")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def timed(cmd, cwd):
    t = time.time()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.time() - t


def bench_exec(args, results):
    runs = max(args.repeat, 2 if args.quick else 5)
    gcl = find_gitlab_ci_local()
    if not gcl:
        results.append(("exec", "gitlab-ci-local", "not installed",
                        f"to compare, install it: npm install --prefix {GCL_PREFIX} "
                        f"gitlab-ci-local@{GCL_VERSION} (and rsync), or set GITLAB_CI_LOCAL"))
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
        ours, theirs, base = [], [], []
        for _ in range(runs):   # A B A B: each pair sees the same machine load
            ours.append({"t": timed([os.path.abspath(args.crunner), "exec"], proj)})
            if gcl:
                theirs.append({"t": timed([gcl], proj)})
            if args.baseline:
                base.append({"t": timed([os.path.abspath(args.baseline), "exec"], proj)})
        for r in ours + theirs + base:
            r["ms"] = r["t"] * 1000
        note = ""
        if theirs:
            ratios = [t["t"] / o["t"] for o, t in zip(ours, theirs)]
            note = (f"gitlab-ci-local {spread([t['ms'] for t in theirs], '{:.0f}')} ms; "
                    f"crunner faster by a paired ratio of {spread(ratios, '{:.1f}')}x "
                    "(target >= 10x on six jobs)")
        report(args, results, "exec", f"{name} pipeline, {runs} paired runs", ours, base,
               "ms", "{:.0f} ms", note, higher_is_better=False)


def make_large_pipeline(proj, jobs=400, depth=6):
    """A pipeline of `jobs` jobs over 20 stages, spread over a chain of
    `depth` nested local includes (each file includes the next), with
    extends, anchors, rules, needs and a parallel matrix: what a large real
    pipeline leans on."""
    per_file = jobs // (depth + 1)
    stages = [f"s{i:02d}" for i in range(20)]
    n = 0
    for level in range(depth + 1):
        name = ".gitlab-ci.yml" if level == 0 else f"ci/level{level}.yml"
        lines = []
        if level < depth:
            lines += ["include:", f"  - local: ci/level{level + 1}.yml", ""]
        if level == 0:
            lines += ["stages: [" + ", ".join(stages) + "]", "",
                      ".base: &base", "  script: [echo hi]",
                      "  rules:", "    - if: $CI_COMMIT_BRANCH == \"main\"",
                      "    - when: on_success", ""]
        count = per_file if level < depth else jobs - n
        for k in range(count):
            stage = stages[min(n * 20 // jobs, 19)]
            lines += [f"job-{n:04d}:", "  <<: *base" if level == 0 else "  extends: .tmpl",
                      f"  stage: {stage}"]
            if n % 7 == 3 and n > 20:
                lines += [f"  needs: [job-{n - 20:04d}]"]
            if n % 50 == 0:
                lines += ["  parallel:", "    matrix:", "      - ARCH: [amd64, arm64]"]
            lines.append("")
            n += 1
        if level == depth:
            lines += [".tmpl:", "  script: [echo hi]", "  variables: {X: y}", ""]
        path = os.path.join(proj, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(lines))


def bench_exec_list(args, results):
    """`exec --list` of a 400-job pipeline in 7 files of nested includes,
    paired with gitlab-ci-local's --list where it is installed."""
    runs = max(args.repeat, 2 if args.quick else 5)
    proj = tempfile.mkdtemp(dir=args.tmp)
    make_large_pipeline(proj)
    subprocess.run(["git", "init", "-q", "-b", "main", proj], check=True)
    subprocess.run(["git", "-C", proj, "remote", "add", "origin",
                    "https://gitlab.example.com/bench/pipeline.git"], check=True)
    subprocess.run(["git", "-C", proj, "-c", "user.email=b@e", "-c", "user.name=b",
                    "add", "."], check=True)
    subprocess.run(["git", "-C", proj, "-c", "user.email=b@e", "-c", "user.name=b",
                    "commit", "-q", "-m", "bench"], check=True)
    listed = subprocess.run([os.path.abspath(args.crunner), "exec", "--list"], cwd=proj,
                            capture_output=True, text=True)
    if listed.returncode != 0:
        results.append(("exec", "--list of a 400-job pipeline", "FAILED",
                        listed.stderr.strip()[-200:]))
        return
    nr = sum(1 for line in listed.stdout.splitlines() if line.startswith("job-"))
    gcl = find_gitlab_ci_local()
    ours, theirs = [], []
    import resource
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = timed([os.path.abspath(args.crunner), "exec", "--list"], proj) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
        ours.append({"ms": wall, "cpu": cpu})
        if gcl:
            theirs.append({"ms": timed([gcl, "--list"], proj) * 1000})
    note = (f"{nr} jobs listed, 7 files of nested includes; CPU "
            f"{spread([o['cpu'] for o in ours], '{:.0f}')} ms (crunner and the git it runs)")
    if theirs:
        ratios = [t["ms"] / o["ms"] for o, t in zip(ours, theirs)]
        note += (f"; gitlab-ci-local --list {spread([t['ms'] for t in theirs], '{:.0f}')} ms, "
                 f"paired ratio {spread(ratios, '{:.1f}')}x")
    else:
        note += "; gitlab-ci-local not installed (see the exec row)"
    report(args, results, "exec", f"exec --list of a 400-job pipeline, {runs} runs", ours, [],
           "ms", "{:.1f} ms", note + "; target: a few tens of ms", higher_is_better=False)


def make_config(path, runners):
    """A config.toml as a large fleet's: runners with docker, cache and
    feature-flag sections, as gitlab-runner's register writes them."""
    with open(path, "w") as f:
        f.write('concurrent = 50\ncheck_interval = 3\n\n[session_server]\n'
                '  session_timeout = 1800\n')
        for i in range(runners):
            f.write(f"""
[[runners]]
  name = "runner-{i:03d}"
  url = "https://gitlab.example.com/"
  id = {1000 + i}
  token = "glrt-bench{i:016d}"
  token_obtained_at = 2026-01-01T00:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  limit = 4
  [runners.custom_build_dir]
  [runners.cache]
    Type = "s3"
    Shared = true
    [runners.cache.s3]
      ServerAddress = "s3.amazonaws.com"
      BucketName = "runner-cache-{i}"
      BucketLocation = "eu-west-1"
  [runners.feature_flags]
    FF_USE_FASTZIP = true
  [runners.docker]
    tls_verify = false
    image = "alpine:3.20"
    privileged = false
    disable_cache = false
    volumes = ["/cache", "/var/run/docker.sock:/var/run/docker.sock"]
    shm_size = 0
    pull_policy = ["if-not-present"]
    allowed_pull_policies = ["always", "if-not-present"]
""")


def bench_config_load(args, results):
    """How long loading a 200-runner config.toml takes: `crunner list`
    (which loads, checks and lists it) minus the same on one runner."""
    runs = max(args.repeat, 2 if args.quick else 5)
    big = os.path.join(args.tmp, "config-200.toml")
    one = os.path.join(args.tmp, "config-1.toml")
    make_config(big, 200)
    make_config(one, 1)
    crunner = os.path.abspath(args.crunner)
    check = subprocess.run([crunner, "list", "-c", big], capture_output=True, text=True)
    listed = (check.stdout + check.stderr).count("runner-")
    if check.returncode != 0 or listed < 200:
        results.append(("config", "load a 200-runner config.toml", "FAILED",
                        (check.stderr or check.stdout).strip()[-200:]))
        return
    rows = []
    for _ in range(runs):
        rows.append({"ms": timed([crunner, "list", "-c", big], args.tmp) * 1000,
                     "base": timed([crunner, "list", "-c", one], args.tmp) * 1000})
    for r in rows:
        r["load"] = max(r["ms"] - r["base"], 0.0)
    note = (f"`crunner list -c` of {os.path.getsize(big) // 1024} KiB, 200 runners: "
            f"{spread([r['ms'] for r in rows], '{:.1f}')} ms wall in all, "
            f"{spread([r['base'] for r in rows], '{:.1f}')} ms for one runner")
    report(args, results, "config", f"load a 200-runner config.toml, {runs} runs (beyond one runner's)",
           rows, [], "load", "{:.1f} ms", note, higher_is_better=False)


AUTOSCALE_GRPC = "/usr/bin/python3"


def autoscale_missing():
    """Why the autoscale bench cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (sshd logs users in)"
    if not os.access("/usr/sbin/sshd", os.X_OK):
        return "no /usr/sbin/sshd (openssh-server)"
    if subprocess.run([AUTOSCALE_GRPC, "-c", "import grpc"], capture_output=True).returncode:
        return "no grpc module in /usr/bin/python3 (python3-grpcio)"
    return None


def bench_autoscale(args, results):
    """Time from a job queued to its script running on an instance, through
    the autoscaler and a go-plugin gRPC plugin (tests/autoscale/fakeplugin.py)
    renting instances of a fake cloud whose every instance is a real sshd on
    loopback (tests/autoscale/sshd_cloud.py).  Warm: an idle instance is
    ready (idle_count 1).  Cold: none is, the job's arrival makes the
    runner ask for one (idle_count 0, max_use_count 1, so each job gets a
    fresh instance).  The script's first line writes the time; the runner
    asks for jobs every check_interval (1 s), which the figure includes, and
    each stage before the script is a fresh SSH login, as in gitlab-runner's
    instance executor.  The note has the time until the runner got the job."""
    why = autoscale_missing()
    if why:
        results.append(("autoscale", "job queued to running, warm and cold", "n/a", why))
        return
    jobs = 2 if args.quick else 5
    plugin = os.path.join(ROOT, "tests", "autoscale", "fakeplugin.py")
    sshd_cloud = os.path.join(ROOT, "tests", "autoscale", "sshd_cloud.py")

    def cloud_count(cloud):
        try:
            with open(os.path.join(cloud, "cloud.json")) as f:
                return len(json.load(f)["instances"])
        except (OSError, ValueError):
            return 0

    def wait(cond, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            time.sleep(0.05)
        return False

    def one(binary, warm):
        with FakeGitLab() as fake:
            tok = "glrt-t1_benchAutoscale"
            fake.add_runner(tok)
            work = tempfile.mkdtemp(dir=args.tmp)
            key = os.path.join(work, "key")
            cloud = os.path.join(work, "cloud")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key,
                            "-C", "bench"], check=True)
            policy = ('  idle_count = 1\n  idle_time = "10m"' if warm else
                      '  idle_count = 0\n  idle_time = "0s"')
            config = os.path.join(work, "config.toml")
            with open(config, "w") as f:
                f.write(f"""concurrent = 1
check_interval = 1
log_level = "info"
[[runners]]
  name = "bench-autoscale"
  url = "{fake.url}"
  token = "{tok}"
  executor = "instance"
  builds_dir = "{work}/builds"
  [runners.autoscaler]
    plugin = "{plugin}"
    capacity_per_instance = 1
    max_instances = 2
    {'' if warm else 'max_use_count = 1'}
    delete_instances_on_shutdown = true
    update_interval = "1s"
    update_interval_when_expecting = "200ms"
    shutdown_deletion_interval = "200ms"
    [runners.autoscaler.plugin_config]
      sshd_cloud = "{cloud}"
      authorized_keys = "{key}.pub"
      key_path = "{key}"
    [[runners.autoscaler.policy]]
{policy}
""")
            log_path = os.path.join(work, "run.log")
            log = open(log_path, "wb")
            proc = subprocess.Popen([binary, "run", "--config", config], stdout=log,
                                    stderr=subprocess.STDOUT, cwd=work)
            waits, handed = [], []
            try:
                def ready():
                    with open(log_path, errors="replace") as f:
                        return " ready" in f.read().split("instance group", 1)[-1]
                if warm and not wait(ready, 60):
                    return {"error": "no idle instance within 60 s"}
                for i in range(jobs):
                    if warm:
                        time.sleep(1.5)   # the instance idle again
                    elif not wait(lambda: cloud_count(cloud) == 0, 60):
                        return {"error": "the last job's instance stayed"}
                    stamp = os.path.join(work, f"started-{i}")
                    t0 = time.time()
                    jid = fake.enqueue_job(tok, script=[f"date +%s.%N >{stamp}"],
                                           git_strategy="none")
                    if not wait_jobs(fake, [jid], 120) or peek(fake, jid)[0] != "success":
                        return {"error": f"job {i}: {peek(fake, jid)[0]}"}
                    with open(stamp) as f:
                        waits.append(float(f.read()) - t0)
                    handed.append(peek(fake, jid)[1] - t0)
            finally:
                proc.send_signal(signal.SIGQUIT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.close()
                subprocess.run([AUTOSCALE_GRPC, sshd_cloud, "kill-all", cloud])
        return {"median": statistics.median(waits), "min": min(waits), "max": max(waits),
                "handed": statistics.median(handed)}

    for warm in (True, False):
        a, b = paired(args, lambda binary: one(binary, warm))
        errors = [r["error"] for r in a + b if "error" in r]
        what = (f"job queued to its script running, {'warm: an idle instance ready' if warm else 'cold: the job makes the instance'}"
                f" (median of {jobs} jobs per repeat)")
        note = (f"job handed to the runner after {spread([r['handed'] for r in a if 'handed' in r], '{:.2f}')} s"
                f" (the rest: SSH logins of the stages before the script); ")
        note += f"fastest {spread([r['min'] for r in a if 'min' in r], '{:.2f}')} s, slowest {spread([r['max'] for r in a if 'max' in r], '{:.2f}')} s; check_interval 1 s"
        if errors:
            note += "; errors: " + "; ".join(errors)
        report(args, results, "autoscale", what, a, b, "median", "{:.2f} s", note,
               higher_is_better=False)


BENCHES = {"footprint": bench_footprint, "overhead": bench_overhead, "trace": bench_trace,
           "concurrency": bench_concurrency, "exec": bench_exec,
           "exec-list": bench_exec_list, "config": bench_config_load,
           "autoscale": bench_autoscale}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crunner", required=True)
    ap.add_argument("--baseline", help="another crunner binary, measured in pairs with --crunner")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each figure (default 3)")
    ap.add_argument("--record", metavar="FILE", help="also append the table to FILE")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(BENCHES))
    args = ap.parse_args()
    if args.quick and args.repeat == 3:
        args.repeat = 1
    args.tmp = tempfile.mkdtemp(prefix="crunner-bench-")
    os.environ.setdefault("XDG_CACHE_HOME", os.path.join(args.tmp, "xdg-cache"))
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
    load = os.getloadavg()[0]
    table = [f"\n## {stamp} (tree {rev}{', quick' if args.quick else ''}{lazy}, "
             f"{os.cpu_count()} cores, load {load:.1f}, {args.repeat} repeats"
             f"{', baseline ' + args.baseline if args.baseline else ''})\n",
             "Figures: median (min-max) of the repeats; with a baseline, the paired ratio "
             "is how many times better crunner is than the baseline.\n",
             "| bench | what | figure | notes |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in results]
    print("\n".join(table))
    if args.record:
        with open(args.record, "a") as f:
            f.write("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
