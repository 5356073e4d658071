"""The benchmark suite: run every benchmark and print one summary table.

    python -m benchmarks [--quick] [--only a,c|NAME,...] [--with-load] [--timeout 1800]

Each benchmark runs in its own process (`python -m benchmarks.<name>` with its default arguments;
with --quick, fewer repeats where it has a --repeats), and the JSON it writes to
benchmarks/results/ is read back for one headline figure, set against issue 7's target where it
has one: (a) the spiral engine at >= 0.9 of a bare loop's epochs/s; (c) a boundary frame under
10 ms and 60 KB; (e) draw to prediction under 20 ms. The others have no target ("-"). The load
test (benchmarks/load_test.py, 30 sessions) takes minutes: it runs only with --with-load, and
shows "not available" while the module does not exist. A benchmark that fails (non-zero exit,
timeout, no fresh JSON, a JSON without the expected figures) is shown as failed with the end of
its stderr, and the suite goes on. Writes benchmarks/results/suite.json.

Not done here: no benchmark is timed by the suite beyond its wall-clock seconds, and a missed
target is reported, never asserted. The exit status is 1 only when a benchmark failed to run.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT, RESULTS = HERE.parent, HERE / "results"
SUITE_JSON = RESULTS / "suite.json"
Headline = Callable[[dict], tuple[str, bool | None]]  # a benchmark's JSON -> (figure, target met?)


@dataclass(frozen=True)
class Bench:
    label: str  # issue 7's letter, "-" where it has none
    name: str  # module benchmarks/<name>.py, writing benchmarks/results/<name>.json
    headline: Headline
    target: str = "-"
    args: tuple[str, ...] = ()  # always passed
    quick: tuple[str, ...] = ()  # added under --quick
    needs_flag: bool = False  # runs only with --with-load


# --- headline figures, one per benchmark's JSON (structures as written by each module) --------


def spiral_epochs(result: dict) -> tuple[str, bool]:
    engine = next(row for row in result["rows"] if row["name"] == "engine")
    return (f"engine {engine['epochs_per_second']:.0f} epochs/s = {engine['ratio_to_bare']:.2f}x bare loop",
            engine["ratio_to_bare"] >= 0.9)


def time_to_accuracy(result: dict) -> tuple[str, None]:
    row = result["rows"]["Adam lr 0.001"]
    if row["median_seconds"] is None:
        return f"never reached {result['target']:.0%} (Adam 1e-3)", None
    return f"{row['median_seconds']:.2f} s, {row['epochs']} epochs to {result['target']:.0%} (Adam 1e-3)", None


def boundary_frame(result: dict) -> tuple[str, bool]:
    ms, kb = result["rows"]["whole frame"]["median_ms"], result["frame_kb"]
    return f"{ms:.1f} ms, {kb:.1f} KB per frame", ms < 10 and kb < 60


def fashion_epoch(result: dict) -> tuple[str, None]:
    row = next(row for row in result["rows"] if row["name"].startswith("engine train only"))
    return (f"engine {row['images_per_second']:.0f} images/s = {row['ratio_classic_over_row']:.2f}x "
            f"classic loop ({result['train_images']:,} images)", None)


def lstm_digits(result: dict) -> tuple[str, None]:
    last = result["results"][0]["epochs"][-1]
    return (f"{last['kind']}: {last['seconds']:.2f} s/epoch, {last['test_accuracy']:.1%} test after "
            f"{last['epoch']} epochs ({result['results'][0]['train']:,} digits)"), None


def augment_cost(result: dict) -> tuple[str, bool]:
    row = next(row for row in result["table"] if "+" in row["row"])  # all three at once
    return f"{row['row']}: {row['overhead']:+.1%} an epoch of the one-conv CNN", row["overhead"] <= 0.15


def draw_latency(result: dict) -> tuple[str, bool]:
    ms = result["rows"]["draw to prediction (both)"]["median_ms"]
    return f"{ms:.2f} ms draw to prediction", ms < 20


def inside_view(result: dict) -> tuple[str, None]:
    row = result["models"]["2-100-3 (default)"]
    return (f"2-100-3: diagram {row['network diagram + JSON']['median_ms']:.1f} ms {row['diagram_kb']:.0f} KB, "
            f"neurons {row['neuron maps + JSON']['median_ms']:.1f} ms {row['neurons_kb']:.0f} KB"), None


def cold_start(result: dict) -> tuple[str, None]:
    rows = {name: row["median_seconds"] for name, row in result["rows"].items()}
    return (f"health {rows['health ok (fresh server)']:.1f} s, home {rows['home rendered (fresh server)']:.1f} s; "
            f"Playground {rows['Playground Train button (fresh server)']:.1f} s cold, "
            f"{rows['Playground Train button (second visit)']:.1f} s second visit"), None


def board_cost(result: dict) -> tuple[str, bool]:
    rows = result["rows"]
    moving = rows["later refresh, every run advanced a frame"]["median_ms"]
    return (f"{result['students']} students: {moving:.1f} ms a refresh while all train "
            f"({rows['first refresh (empty caches)']['median_ms']:.0f} ms the first), {result['html_kb']:.0f} KB"), \
        moving <= 50


def load_test(result: dict) -> tuple[str, None]:
    """From its "summary" (sessions, completed, all_done_s, interaction p50/p95, checks); else its top-level numbers."""
    summary = result.get("summary")
    if not isinstance(summary, dict) or not {"sessions", "completed"} <= summary.keys():
        numbers = [f"{key} {value:g}" for key, value in result.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)]
        return (", ".join(numbers[:4]) or "ran (see load_test.json)"), None
    clicks = summary.get("interaction") or {}
    failed = [name for name, ok in (summary.get("checks") or {}).items() if not ok]
    return (f"{summary['completed']}/{summary['sessions']} trained, all done in {summary.get('all_done_s')} s; "
            f"interaction p50 {clicks.get('p50_ms')} / p95 {clicks.get('p95_ms')} ms; "
            + ("checks ok" if not failed else "checks failed: " + ", ".join(failed))), None


def ray_overhead(result: dict) -> tuple[str, None]:
    fast = {row["backend"]: row for row in result["rows"] if row["pace"] == "fast"}
    return (f"first snapshot pool {fast['pool']['first_snapshot_s']:.2f} s, Ray warm "
            f"{fast['ray']['first_snapshot_s']:.2f} s, fresh {fast['ray-fresh']['first_snapshot_s']:.2f} s; "
            f"epochs/s {fast['ray']['epochs_per_s_ratio']:.2f}x pool; "
            f"2nd node {result['second_node_speedup']:.2f}x"), None


BENCHES = (
    Bench("a", "spiral_epochs", spiral_epochs, ">= 0.90x bare", quick=("--repeats", "1")),
    Bench("b", "time_to_accuracy", time_to_accuracy, quick=("--repeats", "1")),
    Bench("c", "boundary_frame", boundary_frame, "< 10 ms, < 60 KB", quick=("--repeats", "50")),
    Bench("d", "fashion_epoch", fashion_epoch),  # one epoch per side already
    Bench("e", "draw_latency", draw_latency, "< 20 ms", quick=("--repeats", "50")),
    Bench("f", "cold_start", cold_start, quick=("--repeats", "1")),
    Bench("-", "inside_view", inside_view, quick=("--repeats", "50")),
    Bench("-", "lstm_digits", lstm_digits),
    Bench("-", "augment_cost", augment_cost, "<= 15%", args=("--train-images", "5000"), quick=("--repeats", "1")),
    Bench("-", "board_cost", board_cost, "<= 50 ms", quick=("--repeats", "50")),
    Bench("-", "ray_overhead", ray_overhead, quick=("--repeats", "1")),
    Bench("-", "load_test", load_test, args=("--sessions", "30"), needs_flag=True),
)


# --- running ---------------------------------------------------------------------------------


def run_process(command: list[str], timeout: float) -> tuple[int | None, str, str]:
    """(exit status, or None when it ran past `timeout`; stdout; stderr) of a benchmark in its own process group."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        return None, *stop_group(process)


def stop_group(process: subprocess.Popen) -> tuple[str, str]:
    """SIGINT the process group (so a benchmark can stop the servers it started), SIGKILL it if it
    lingers; what it printed."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            return process.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return "", ""


def tail(text: str, lines: int = 15) -> str:
    """The last lines, without Playwright's echo of Chromium's own log ("[pid=N][err] ...")."""
    kept = [line for line in (text or "").strip().splitlines() if not line.startswith("[pid=")]
    return "\n".join(kept[-lines:])


def read_result(bench: Bench, since: float) -> dict:
    """The benchmark's JSON if it was written after `since` (wall clock); ValueError otherwise."""
    path = RESULTS / f"{bench.name}.json"
    if not path.exists() or path.stat().st_mtime < since - 1:
        raise ValueError(f"exited 0 but wrote no fresh {path.relative_to(ROOT)}")
    return json.loads(path.read_text())


def outcome(bench: Bench, code: int | None, stderr: str, since: float, timeout: float) -> dict:
    """Status, headline and verdict of one finished run (a failed run's fresh JSON still gives its figure)."""
    if code is None:
        return {"status": "failed", "headline": f"timed out after {timeout:g} s", "stderr_tail": tail(stderr)}
    try:
        result = read_result(bench, since)
        headline, met = bench.headline(result)
    except (ValueError, KeyError, TypeError, StopIteration) as error:
        problem = f"exit status {code}" if code else f"unreadable result: {type(error).__name__} {error}"
        return {"status": "failed", "headline": problem, "stderr_tail": tail(stderr)}
    if code != 0:
        return {"status": "failed", "headline": f"exit status {code}: {headline}", "stderr_tail": tail(stderr),
                "result": result}
    return {"status": "ran", "headline": headline, "target_met": met, "result": result}


def run_one(bench: Bench, quick: bool, with_load: bool, timeout: float) -> dict:
    """Run one benchmark (or say why not); the row for the summary and suite.json."""
    row = {"label": bench.label, "name": bench.name, "target": bench.target, "seconds": None}
    if not (HERE / f"{bench.name}.py").exists():
        return {**row, "status": "not available", "headline": f"benchmarks/{bench.name}.py does not exist"}
    if bench.needs_flag and not with_load:
        return {**row, "status": "skipped", "headline": "takes minutes: pass --with-load"}
    command = [sys.executable, "-m", f"benchmarks.{bench.name}", *bench.args, *(bench.quick if quick else ())]
    print(f"running {' '.join(command[1:])} ...", flush=True)
    since, started = time.time(), time.perf_counter()
    code, out, err = run_process(command, timeout)
    row.update(command=command[1:], seconds=time.perf_counter() - started, stdout_tail=tail(out, 40))
    row.update(outcome(bench, code, err, since, timeout))
    print(f"  {row['status']} in {row['seconds']:.0f} s: {row['headline']}", flush=True)
    return row


# --- summary ---------------------------------------------------------------------------------


def verdict(row: dict) -> str:
    if row["status"] != "ran":
        return row["status"].upper() if row["status"] == "failed" else row["status"]
    return {True: "pass", False: "MISSED", None: "-"}[row.get("target_met")]


def print_table(rows: list[dict]) -> None:
    header = ("", "benchmark", "headline", "target", "result", "seconds")
    cells = [(r["label"], r["name"], r["headline"], r["target"], verdict(r),
              "-" if r["seconds"] is None else f"{r['seconds']:.0f}") for r in rows]
    widths = [max(len(str(line[i])) for line in (header, *cells)) for i in range(len(header))]
    for line in (header, *cells):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    for row in rows:
        if row["status"] == "failed" and row.get("stderr_tail"):
            print(f"\n{row['name']} failed; end of its stderr:\n" + row["stderr_tail"])


def selected(only: str | None) -> list[Bench]:
    """The benches named in --only (letters or module names, comma separated), in suite order."""
    if not only:
        return list(BENCHES)
    wanted = {token.strip() for token in only.split(",") if token.strip()}
    known = {b.name for b in BENCHES} | {b.label for b in BENCHES if b.label != "-"}
    if wanted - known:
        raise SystemExit(f"--only: unknown {', '.join(sorted(wanted - known))}; choose from {', '.join(sorted(known))}")
    return [b for b in BENCHES if b.name in wanted or b.label in wanted]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats where a benchmark has --repeats")
    parser.add_argument("--only", help="comma-separated letters (a-f) or names, e.g. a,c or cold_start")
    parser.add_argument("--with-load", action="store_true", help="also run load_test --sessions 30 (minutes)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed to each benchmark")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    benches, load_before = selected(args.only), os.getloadavg()[0]
    rows = [run_one(bench, args.quick, args.with_load, args.timeout) for bench in benches]
    print()
    print_table(rows)
    load_after = os.getloadavg()[0]
    print(f"\n{os.cpu_count()} CPUs; 1-minute load average {load_before:.1f} at the start, {load_after:.1f} at "
          "the end (other processes share this machine: figures are noisy)")
    RESULTS.mkdir(exist_ok=True)
    SUITE_JSON.write_text(json.dumps({
        "quick": args.quick, "with_load": args.with_load, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_1min": {"start": load_before, "end": load_after}, "cpu_count": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(), "benchmarks": rows}, indent=2))
    print(f"wrote {SUITE_JSON}")
    return 1 if any(row["status"] == "failed" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
