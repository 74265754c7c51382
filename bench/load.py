"""A burst of week-1 submissions against the whole service as real processes, all on 127.0.0.1.

Starts PostgreSQL 15, Redis, the API, grading workers (several processes with their own --hostname, to
show scale-out) and a deliveries worker; creates an instructor token, students and an LMS integration
whose callback URL is a receiver in this script. Then:

  1. bare compute: each kind of notebook's code run in a fresh process that has already imported
     TensorFlow (the ideal's numerator), measured before the service starts, on a quiet machine;
  2. the burst: --count submissions (solutions, untouched templates, wrong models), half through the
     signed LMS webhook and half through the student web form (login with CSRF, multipart upload), sent
     by --clients concurrent clients; --late of them are held back and sent during step 3;
  3. while every grading slot is busy: --clients clients for --probe-seconds, each doing a request and
     then thinking (exponential, mean --think seconds): new uploads (the held-back ones), replayed LMS
     webhooks (same webhook-id, answered 202 with the same submission, nothing new stored),
     a student's progress poll and the instructor's REST report;
  4. waits for every result and callback, then checks through the database and the REST API that each
     submission has exactly one grading, one final result with its kind's score, and (LMS) one delivery
     whose callbacks all carry its webhook-id, and reports throughput, latencies and gradings per worker.

It stops by itself (--timeout bounds the wait for results) and exits 1 when a submission was lost,
graded twice or scored wrongly.
"""

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "service"))

from load_checks import all_final, busy_fraction, cpu_times, percentile, running_gradings, summary, verify  # noqa: E402
from load_kinds import KINDS, bare_compute, bare_compute_side_by_side  # noqa: E402
from load_traffic import Planned, Probe, Service, Student, burst, lms_receiver, log_in, plan, probe  # noqa: E402
from service_processes import create_database, free_port, postgres, ready, redis, running, tfgrade, wait_until  # noqa: E402

from workers.settings import Settings  # noqa: E402


@dataclass(frozen=True)
class Ideal:
    """The machine's best: the submissions' bare compute, summed and divided by the cores."""

    seconds: float  # bare compute measured one process at a time (the definition)
    side_by_side_seconds: float  # measured with every core busy at once
    cpu_seconds: float
    cores: int


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200, help="submissions in all")
    parser.add_argument("--solutions", type=float, default=0.25, help="share of full solutions (~17 s each)")
    parser.add_argument(
        "--wrong", type=float, default=0.35, help="share of wrong models; the rest are templates"
    )
    parser.add_argument("--late", type=float, default=0.25, help="share held back and sent during the probe")
    parser.add_argument("--grading-workers", type=int, default=2, help="grading worker processes")
    parser.add_argument(
        "--slots", type=int, default=(os.cpu_count() or 1) + 1, help="grading slots in all (cores + 1)"
    )
    parser.add_argument(
        "--api-processes", type=int, default=os.cpu_count() or 1, help="processes of the API server (cores)"
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--probe-seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests")
    parser.add_argument("--timeout", type=float, default=1200.0, help="longest wait for all results")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    return parser.parse_args()


def measure_ideal(planned: list[Planned]) -> Ideal:
    print("bare compute (fresh process, TensorFlow imported first, one kind at a time) ...", flush=True)
    bare = {name: bare_compute(kind) for name, kind in KINDS.items()}
    for name, measured in bare.items():
        print(
            f"  {name:<9} {measured['seconds']:6.2f} s (cpu {measured['cpu']:.2f} s; "
            f"import tensorflow {measured['import_seconds']:.2f} s)",
            flush=True,
        )
    cores = os.cpu_count() or 1
    side_by_side = {name: bare_compute_side_by_side(kind, cores) for name, kind in KINDS.items()}
    print(
        f"  side by side ({cores} at once, mean s): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in side_by_side.items()),
        flush=True,
    )
    return Ideal(
        seconds=sum(bare[item.kind.name]["seconds"] for item in planned) / cores,
        side_by_side_seconds=sum(side_by_side[item.kind.name] for item in planned) / cores,
        cpu_seconds=sum(bare[item.kind.name]["cpu"] for item in planned),
        cores=cores,
    )


def start_service(
    exits: ExitStack, root: Path, args: argparse.Namespace, planned: list[Planned]
) -> tuple[Service, dict[int, Student]]:
    """PostgreSQL, Redis, the API, the grading workers and a deliveries worker, all on 127.0.0.1."""
    server = exits.enter_context(postgres())
    broker = exits.enter_context(redis())
    receiver = exits.enter_context(lms_receiver())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "TFGRADE_SECRET_KEY": "load-secret",
        "TFGRADE_DATA_DIR": str(root / "data"),
        "TFGRADE_DATABASE_URL": create_database(server, "tfgrade_load"),
        "TFGRADE_BROKER_URL": f"{broker}/0",
        "TFGRADE_PUBLIC_URL": url,
        "TFGRADE_DELIVERY_BACKOFF_SECONDS": "1",
    }
    settings = Settings.model_validate({k.removeprefix("TFGRADE_").lower(): v for k, v in env.items()})
    tfgrade(env, "migrate")
    token = tfgrade(env, "tokens", "create", "--name", "load").strip().splitlines()[-1]
    receiver.secret = (
        tfgrade(env, "integrations", "create", "--name", "lms", "--callback-url", receiver.url)
        .strip()
        .splitlines()[-1]
    )
    students = enrol_students(env, root, planned)

    def start(name: str, *arguments: str) -> None:
        exits.enter_context(running(env, root / f"{name}.log", *arguments))

    start("api", "api", "--port", str(port), "--processes", str(args.api_processes))
    hostnames = [f"grading-{chr(ord('a') + n)}@bench" for n in range(args.grading_workers)]
    slots = [
        args.slots // args.grading_workers + (n < args.slots % args.grading_workers)
        for n in range(args.grading_workers)
    ]
    for hostname, concurrency in zip(hostnames, slots, strict=True):
        start(
            hostname.split("@")[0],
            *("worker", "--queues", "grading", "--concurrency", str(concurrency), "--hostname", hostname),
        )
    start(
        "deliveries",
        "worker",
        "--queues",
        "deliveries",
        "--concurrency",
        "2",
        "--hostname",
        "deliveries@bench",
    )
    wait_until(lambda: ready(url), 120, f"the service (logs in {root})")
    # Let the zygotes finish importing TensorFlow before the clock starts.
    time.sleep(15)
    print(
        f"service ready at {url} ({args.api_processes} API processes): grading workers "
        f"{dict(zip(hostnames, slots, strict=True))}, "
        f"deliveries@bench; logs in {root}",
        flush=True,
    )
    return Service(url, token, receiver.secret, receiver, settings), students


def enrol_students(env: dict[str, str], root: Path, planned: list[Planned]) -> dict[int, Student]:
    """One student per web upload: the assignment's 30 s cooldown applies to each student."""
    web_items = [item for item in planned if item.channel == "web"]
    roster = root / "roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        for item in web_items:
            writer.writerow([f"student-{item.index}@example.com", f"Student {item.index}"])
    rows = tfgrade(env, "students", "import", str(roster)).strip().splitlines()[1:]
    passwords = dict(row.split(",", 1) for row in rows)
    return {
        item.index: Student(
            f"student-{item.index}@example.com", passwords[f"student-{item.index}@example.com"]
        )
        for item in web_items
    }


async def drive(
    service: Service, planned: list[Planned], students: dict[int, Student], args: argparse.Namespace
) -> Probe:
    """Logs the students in, sends the burst, then probes the API while every slot grades."""
    await asyncio.gather(*(log_in(service.url, student) for student in students.values()))
    burst_started = time.time()
    await burst(service, planned, students, args.clients)
    print(
        f"burst: {sum(not i.late for i in planned)} uploads in {time.time() - burst_started:.1f} s",
        flush=True,
    )
    deadline = time.monotonic() + 120
    while running_gradings(service.settings) < min(args.slots, len(planned)) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    measured = await probe(
        service, planned, students, args.clients, args.probe_seconds, args.think, args.seed
    )
    for student in students.values():
        if student.client is not None:
            await student.client.aclose()
    return measured


def main() -> int:
    args = arguments()
    planned = plan(args.count, args.solutions, args.wrong, args.late, args.seed)
    mix = Counter(item.kind.name for item in planned)
    print(
        f"plan: {args.count} submissions {dict(mix)}, {sum(i.channel == 'lms' for i in planned)} via LMS, "
        f"{sum(i.channel == 'web' for i in planned)} via the web form, {sum(i.late for i in planned)} late",
        flush=True,
    )
    print(
        f"command: {' '.join([os.path.relpath(sys.executable), *sys.argv])}; load average {os.getloadavg()[0]:.1f}"
    )
    ideal = measure_ideal(planned)
    root = Path(tempfile.mkdtemp(prefix="tfgrade-load-"))
    with ExitStack() as exits:
        service, students = start_service(exits, root, args, planned)
        cpu_before, load_before = cpu_times(), os.getloadavg()
        probed = asyncio.run(drive(service, planned, students, args))
        print(
            f"probe: {sum(len(v) for v in probed.timings.values())} requests in "
            f"{probed.ended - probed.started:.1f} s, {running_gradings(service.settings)} gradings running at its end",
            flush=True,
        )
        ids = [item.submission_id for item in planned]
        wait_until(lambda: all_final(service.settings, ids), args.timeout, f"all results (logs in {root})")
        cpu_after, load_after = cpu_times(), os.getloadavg()
        lms_ids = {item.submission_id for item in planned if item.channel == "lms"}
        wait_until(
            lambda: lms_ids <= {c.submission_id for c in list(service.lms.callbacks)}, 120, "every callback"
        )
        time.sleep(3)  # a late repeat of a callback would show now
        problems, facts = verify(service, planned)
    machine = (
        f"machine CPU busy {busy_fraction(cpu_before, cpu_after):.0%} from burst to last result; load average "
        f"{load_before[0]:.1f} before the burst, {load_after[0]:.1f} at the last result"
    )
    report(args, planned, ideal, problems, facts, probed, machine)
    if not args.keep:
        subprocess.run(["rm", "-rf", str(root)], check=False)
    return 1 if problems or probed.errors else 0


def report(
    args: argparse.Namespace,
    planned: list[Planned],
    ideal: Ideal,
    problems: list[str],
    facts: dict[str, Any],
    probed: Probe,
    machine: str,
) -> None:
    first_sent = min(item.sent_at for item in planned)
    last_result = max(facts["graded_at"].values()) if facts["graded_at"] else time.time()
    elapsed = last_result - first_sent
    to_result = {
        name: [
            facts["graded_at"][i.submission_id] - i.sent_at
            for i in planned
            if i.kind.name == name and i.submission_id in facts["graded_at"]
        ]
        for name in KINDS
    }
    everything = [v for values in to_result.values() for v in values]
    burst_uploads = [item.upload_seconds for item in planned if not item.late]
    all_probe = [v for values in probed.timings.values() for v in values]

    print("\n=== results ===")
    print(
        f"submissions: sent {len(planned)}, stored {facts['stored']}, final {len(facts['graded_at'])}; "
        f"gradings per submission attempts {facts['attempts']}"
    )
    print(f"problems: {len(problems)}")
    for problem in problems[:20]:
        print(f"  - {problem}")
    print(f"callbacks per LMS submission: {dict(facts['callbacks_per_lms_submission'])}")
    print(f"gradings per worker: {facts['per_worker']}")
    print(
        f"throughput: {len(planned)} in {elapsed:.1f} s = {len(planned) / elapsed * 60:.1f}/min; "
        f"ideal {ideal.seconds:.1f} s = {len(planned) / ideal.seconds * 60:.1f}/min "
        f"(bare compute summed / {ideal.cores} cores); ratio {ideal.seconds / elapsed:.2f}"
    )
    print(
        f"  ideal from bare compute measured {ideal.cores} at once: {ideal.side_by_side_seconds:.1f} s, "
        f"ratio {ideal.side_by_side_seconds / elapsed:.2f}"
    )
    print(
        f"  bare compute CPU {ideal.cpu_seconds:.0f} s: ideal by CPU {ideal.cpu_seconds / ideal.cores:.1f} s, "
        f"ratio {ideal.cpu_seconds / ideal.cores / elapsed:.2f}"
    )
    print(f"  {machine}")
    print(f"upload to result (s): all {summary(everything)}")
    for name, values in to_result.items():
        print(
            f"  {name:<9} {summary(values)}; queued {summary(facts['queued_seconds'].get(name, []))}; "
            f"grading {summary(facts['run_seconds'].get(name, []))}"
        )
    print(f"burst uploads ({args.clients} concurrent clients, ms): {summary(burst_uploads, 1000, 0)}")
    print(
        f"while grading runs ({args.clients} clients, {args.probe_seconds:.0f} s, think {args.think} s, "
        f"{len(all_probe) / (probed.ended - probed.started):.0f} req/s, ms):"
    )
    for what, values in probed.timings.items():
        print(f"  {what:<17} {summary(values, 1000, 0)}")
    print(f"  {'all requests':<17} {summary(all_probe, 1000, 0)}; errors {dict(probed.errors) or 'none'}")
    uploads_busy = probed.timings["new upload"] + probed.timings["replayed webhook"]
    p99 = percentile(uploads_busy, 99) * 1000 if uploads_busy else float("nan")
    print(
        f"targets: upload p99 while busy {p99:.0f} ms (< 100): {'met' if p99 < 100 else 'MISSED'}; "
        f"throughput {ideal.seconds / elapsed:.0%} of ideal (>= 80%): "
        f"{'met' if ideal.seconds / elapsed >= 0.8 else 'MISSED'} "
        f"({ideal.side_by_side_seconds / elapsed:.0%} of the side-by-side ideal); lost or duplicated: "
        f"{len(problems)} ({'met' if not problems else 'MISSED'})"
    )


if __name__ == "__main__":
    sys.exit(main())
