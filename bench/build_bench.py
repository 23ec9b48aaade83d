"""Build rate of ``kimgraph build --store PATH FILE`` against pyoxigraph's own ``bulk_load`` of the same quads.

    .venv/bin/python bench/build_bench.py [--standards 75] [--work var/bench] [--runs 3]

Builds the generated feed of N standards (bench/corpus.py) without validation (validation is timed by
bench/validate_bench.py), dumps the store it built as N-Quads, and bulk-loads that file into a fresh
on-disk store: the same quads, graph names included. Each run is a fresh process timing only its own
work (no interpreter start); runs alternate, and the medians are compared. Ours reads the feed JSON and
writes the triples itself, the baseline reads ready-made N-Quads, so a ratio of 1 means the feed model
costs nothing beside Oxigraph's loading. A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.validate_bench import feed_file  # noqa: E402


def child(engine: str, source: Path, target: Path, out: Path) -> None:
    """Build (``ours``) or bulk-load (``bulk_load``) into ``target``; write quads and seconds as JSON."""
    import pyoxigraph as ox
    if engine == "ours":
        from ingest.stream_build import build_stream
        from kimdata.namespaces import Iris
        started = time.perf_counter()
        build_stream(target, [source], Iris(), check=False, progress=False)
        seconds = time.perf_counter() - started
        quads = len(ox.Store.read_only(str(target)))
    else:
        started = time.perf_counter()
        store = ox.Store(str(target))
        store.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
        store.flush()
        seconds = time.perf_counter() - started
        quads = len(store)
        del store
    out.write_text(json.dumps({"seconds": seconds, "quads": quads}))


def run_child(engine: str, source: Path, target: Path, out: Path) -> dict:
    """One timed build or load in a fresh process, into a target removed first."""
    remove_store(target)
    subprocess.run([sys.executable, __file__, "--child", engine, "--source", str(source), "--target", str(target),
                    "--out", str(out)], check=True, cwd=ROOT)
    return json.loads(out.read_text())


def remove_store(target: Path) -> None:
    """A store path and, for a kimgraph store (a link), its versions directory."""
    versions = target.with_name(target.name + ".versions")
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(versions, ignore_errors=True)


def dump_nquads(store_path: Path, nq: Path) -> None:
    import pyoxigraph as ox
    ox.Store.read_only(str(store_path)).dump(output=str(nq), format=ox.RdfFormat.N_QUADS)


@dataclass
class BuildComparison:
    """Median build seconds against median bulk_load seconds for the same quads."""

    quads: int
    ours_s: float
    bulk_load_s: float
    runs: int

    @property
    def ours_rate(self) -> float:
        return self.quads / self.ours_s

    @property
    def bulk_load_rate(self) -> float:
        return self.quads / self.bulk_load_s

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.bulk_load_rate


def compare(feed: Path, work: Path, runs: int = 3) -> BuildComparison:
    """Alternate ``runs`` builds of ``feed`` and ``runs`` bulk loads of the N-Quads of what the build wrote."""
    scratch = work / f"build-bench-{feed.stem}"
    scratch.mkdir(parents=True, exist_ok=True)
    nq, ours_store, bulk_store = scratch / "built.nq", scratch / "ours", scratch / "bulk_load"
    ours, baseline = [], []
    try:
        for run in range(runs):
            ours.append(run_child("ours", feed, ours_store, scratch / "ours.json"))
            if run == 0:
                dump_nquads(ours_store, nq)
            baseline.append(run_child("bulk_load", nq, bulk_store, scratch / "bulk_load.json"))
    finally:
        remove_store(ours_store)
        remove_store(bulk_store)
        nq.unlink(missing_ok=True)
    if ours[0]["quads"] != baseline[0]["quads"]:
        print(f"warning: the build wrote {ours[0]['quads']} quads, bulk_load {baseline[0]['quads']}", file=sys.stderr)
    return BuildComparison(ours[0]["quads"], statistics.median(r["seconds"] for r in ours),
                           statistics.median(r["seconds"] for r in baseline), runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standards", type=int, nargs="+", default=[75], help="corpus sizes (standards)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="where feeds and stores go")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("ours", "bulk_load"), help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.source, args.target, args.out)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"{'standards':>9} {'quads':>10} {'build s':>8} {'bulk_load s':>12} {'build q/s':>10} "
          f"{'bulk q/s':>10} {'ratio':>6}")
    for n in args.standards:
        result = compare(feed_file(n, args.work), args.work, args.runs)
        print(f"{n:>9} {result.quads:>10,} {result.ours_s:>8.2f} {result.bulk_load_s:>12.2f} "
              f"{result.ours_rate:>10,.0f} {result.bulk_load_rate:>10,.0f} {result.ratio:>6.2f}", flush=True)
    print(f"median of {args.runs} runs each; ratio = build rate / bulk_load rate (target >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
