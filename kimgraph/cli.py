"""The ``kimgraph`` command: build, validate, query, export and serve the graph."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rdflib import Graph

from ingest.manifest import ManifestError, load_manifest
from ingest.page_files import PageFileError, extract_dataset, feeds_and_pages, serialize_dataset
from kimdata.namespaces import KIM, Iris
from kimdata.paths import DEFAULT_MANIFEST
from sparql_api import formats
from sparql_api.compact import compact_ntriples
from sparql_api.settings import Settings
from store.connect import open_store
from store.embedded import Store
from store.errors import QuerySyntaxError, StoreError
from store.protocol import KnowledgeStore
from store.remote import RemoteStore, build_remote
from store.terms import RDF_FORMATS, RESULT_FORMATS, is_graph
from store.versions import build_atomically, prepare_versions

EXIT_BAD_INPUT = 2
EXIT_FINDINGS = 1


class CommandError(Exception):
    """A problem with the command's input, reported on standard error with exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings()
    if getattr(args, "store", None) is None:
        args.store = settings.store
    try:
        return args.run(args, settings) or 0
    except (CommandError, StoreError, QuerySyntaxError, ManifestError, ValueError) as e:
        print(f"kimgraph {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kimgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--store", type=Path, help="store path (default: KIM_STORE or var/store)")
        sub.set_defaults(run=run)
        return sub

    build = command("build", run_build, "Parse the sources, validate them and write a new store atomically.")
    build.add_argument("files", nargs="*", type=Path, metavar="FILE",
                       help="IfATE / Skills England feed documents (JSON) to stream into the store, and standard or "
                            "occupation pages (text or HTML) in any mix; with FILEs the manifest is used only when "
                            "--manifest is given")
    build.add_argument("--manifest", type=Path, help=f"source manifest (TOML; default {DEFAULT_MANIFEST})")
    build.add_argument("--quiet", action="store_true", help="print nothing on success")
    build.add_argument("--progress", action="store_true",
                       help="show a progress bar (default: on a terminal, for long inputs)")
    build.add_argument("--batch", type=int, metavar="TRIPLES",
                       help="triples per bulk load when streaming FILEs (default 100000)")
    build.add_argument("--no-validate", action="store_true",
                       help="with FILEs: skip the conformance check after loading")

    validate = command("validate", run_validate, "Check the stored standards against the conformance shapes.")
    validate.add_argument("--format", choices=("text", "turtle", "jsonld"), default="text")
    validate.add_argument("--fail-on", choices=("violation", "warning", "never"), default="violation",
                          help="exit 1 when a finding this severe (or worse) is found")
    validate.add_argument("--graph", action="append", metavar="IRI",
                          help="validate only these source graphs (repeatable); default: all data graphs")
    validate.add_argument("--engine", choices=("fast", "reference"), default="fast",
                          help="fast: the shapes compiled to SPARQL, run in the store; reference: pyshacl "
                               "over an rdflib copy (same findings, much slower on large graphs)")

    query = command("query", run_query, "Run a SPARQL query; the default graph is the union of the data graphs.")
    query.add_argument("query", nargs="?", help="the query text")
    query.add_argument("--file", type=Path, help="read the query from a file")
    query.add_argument("--format", choices=("json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld"))

    export = command("export", run_export, "Write the whole dataset, named graphs included, to standard output.")
    export.add_argument("--format", choices=("trig", "nquads", "turtle", "jsonld"), required=True,
                        help="turtle has no graph names: it carries the union of all graphs")

    # Page extraction: reads files only, so it takes no --store.
    extract = commands.add_parser("extract", help=EXTRACT_HELP, description=EXTRACT_HELP)
    extract.add_argument("files", nargs="+", type=Path, metavar="FILE",
                         help="standard or occupation pages (plain text or HTML), or feed documents (JSON)")
    extract.add_argument("--format", choices=tuple(EXTRACT_FORMATS), default="turtle",
                         help="turtle has no graph names: it carries the union of the files' graphs")
    extract.set_defaults(run=run_extract)

    prepare = command("prepare", run_prepare, "Prepare the answers of /id/... ahead, for a server at --public-url "
                                              "(a server does this itself when they are missing).")
    prepare.add_argument("--public-url", help="the address clients reach the server at (default: KIM_PUBLIC_URL, "
                                              "else http://KIM_HOST:KIM_PORT/)")
    prepare.add_argument("--data-version", type=int, default=0,
                         help="the writes the serving process has applied to the store (set by the server)")
    prepare.add_argument("--quiet", action="store_true", help="print nothing on success")
    prepare.add_argument("--parent", type=int, metavar="PID",
                         help="stop when the process PID, which started this one, ends (set by the server)")

    align = commands.add_parser("align", help=ALIGN_HELP, description=ALIGN_HELP)
    align.add_argument("--method", action="append", choices=("lexical-bm25", "semantic-minilm"),
                       help="run only this method (repeatable); default: both")
    align.add_argument("--out", type=Path, help="folder of the mapping sets (default: curated/alignments)")
    align.add_argument("--evaluate", action="store_true",
                       help="compute nothing: print P@1, P@3 and recall of the committed mapping sets "
                            "against the judged set")
    align.add_argument("--judged", type=Path, default=Path("tests/data/alignment/judged.tsv"),
                       help="the judged set for --evaluate (default: tests/data/alignment/judged.tsv)")
    align.add_argument("--date", help="the mapping date to record (default: today)")
    align.add_argument("--cache", type=Path, default=Path("var/align-cache"),
                       help="folder for the unpacked model and the embeddings of each text set (default: var/align-cache)")
    align.set_defaults(run=run_align)

    serve = command("serve", run_serve, "Serve the graph over HTTP (builds it first when there is none).")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--require-writable", action="store_true",
                       help="with KIM_WRITE_TOKEN: exit when the store cannot be opened for writing (locked by "
                            "another process, or not writable) instead of serving it read-only")
    return parser


def run_build(args, settings: Settings) -> int:
    if args.files:
        return run_stream_build(args, settings)
    if args.batch is not None or args.no_validate:
        raise CommandError("--batch and --no-validate apply only when FILEs are given")
    from conformance.reference import check  # pyshacl (lazy: start-up time)
    from ingest.build import source_graphs, validation_input, vocabulary_graphs  # parsers (lazy: start-up time)

    started = time.perf_counter()
    if not settings.store_url:
        prepare_versions(args.store)  # before the parsing, so a store that cannot be written fails at once
    iris = Iris(settings.base_iri)
    graphs = vocabulary_graphs(iris) + source_graphs(load_manifest(args.manifest or DEFAULT_MANIFEST), iris)
    parsed = time.perf_counter()
    report = check(validation_input(graphs))
    validated = time.perf_counter()
    if settings.store_url:  # a remote SPARQL store: each graph replaced (GSP PUT) once all parsed and validated
        remote = build_remote(RemoteStore.from_settings(settings), graphs + [(iris.graph("validation"), report.graph)],
                              prune=str(iris.graph("")))
        if not args.quiet:
            print(summary(remote, iris, report))
        return 0

    def fill(store: Store) -> None:
        for named in graphs:
            store.add_graph(str(named.iri), named.graph)
        store.add_graph(str(iris.graph("validation")), report.graph)

    target = build_atomically(args.store, fill)
    done = time.perf_counter()
    if not args.quiet:
        store = Store.open(args.store, read_only=True)
        print(summary(store, iris, report))
        print(f"built {target} in {done - started:.2f} s "
              f"(parse {parsed - started:.2f} s, validate {validated - parsed:.2f} s, load {done - validated:.2f} s)")
    return 0


def run_stream_build(args, settings: Settings) -> int:
    """``build FILE...``: stream feed documents (and the manifest's sources, if one is named) into a new store."""
    from ingest.stream_build import BATCH_TRIPLES, build_stream, describe  # parsers, pyshacl (lazy: start-up time)

    if args.batch is not None and args.batch < 1:
        raise CommandError("--batch must be a positive number of triples")
    started = time.perf_counter()
    iris = Iris(settings.base_iri)
    sources = load_manifest(args.manifest) if args.manifest else []
    try:
        feeds, pages = feeds_and_pages(args.files)
    except PageFileError as e:
        raise CommandError(str(e)) from None
    result = build_stream(args.store, feeds, iris, sources + pages, batch_triples=args.batch or BATCH_TRIPLES,
                          progress=True if args.progress else None, check=not args.no_validate)
    if not args.quiet:
        print(describe(Store.open(args.store, read_only=True), result, time.perf_counter() - started))
    return 0


def summary(store: KnowledgeStore, iris: Iris, report) -> str:
    """A short account of what the store holds, what the capture lost and what validation found."""
    counts = store.select(f"""
        PREFIX kim: <{KIM}>
        SELECT (COUNT(DISTINCT ?d) AS ?duties) (COUNT(DISTINCT ?k) AS ?ksbs) (COUNT(DISTINCT ?m) AS ?maps)
        WHERE {{ {{ ?d a kim:Duty }} UNION {{ ?k kim:ksbType ?t }}
                 UNION {{ ?x kim:mapsToKnowledge|kim:mapsToSkill|kim:mapsToBehaviour ?y BIND(CONCAT(STR(?x), STR(?y)) AS ?m) }} }}
    """)[0]
    issues = store.select(f"""
        PREFIX kim: <{KIM}> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?code ?description WHERE {{ ?i a kim:ExtractionIssue ; kim:issueCode ?code ; dcterms:description ?description }}
        ORDER BY ?code ?description
    """)
    lines = [
        f"store: {store.triple_count()} triples in {len(store.named_graphs())} named graphs",
        f"standards data: {counts['duties']} duties, {counts['ksbs']} KSBs, {counts['maps']} duty-KSB mapping pairs",
        f"extraction issues (gaps in the captured sources): {len(issues)}",
        *(f"  - {row['code']}: {row['description']}" for row in issues),
        "conformance: " + ", ".join(f"{n} {severity}" for severity, n in report.counts().items()),
    ]
    return "\n".join(lines)


def _data_graph(store: KnowledgeStore, iris: Iris, only: list[str] | None) -> Graph:
    source_prefix = str(iris.graph("source/"))
    graphs = [g for g in store.named_graphs() if g.startswith(source_prefix)]
    if only:
        unknown = sorted(set(only) - set(graphs))
        if unknown:
            raise CommandError(f"no such source graph: {', '.join(unknown)}")
        graphs = list(only)
    graph = Graph()
    for iri in graphs + [str(iris.graph("concepts"))]:
        graph += store.graph(iri)
    return graph


def run_validate(args, settings: Settings) -> int:
    from conformance import fast, reference  # pyshacl (lazy: start-up time)

    iris = Iris(settings.base_iri)
    store = open_store(settings, read_only=True, path=args.store)
    if args.engine == "reference":
        report = reference.check(_data_graph(store, iris, args.graph))
    else:
        # The same graphs as _data_graph, validated in place: the source graphs and the concept schemes.
        source_prefix = str(iris.graph("source/"))
        graphs = [g for g in store.named_graphs() if g.startswith(source_prefix)]
        unknown = sorted(set(args.graph or ()) - set(graphs))
        if unknown:
            raise CommandError(f"no such source graph: {', '.join(unknown)}")
        report = fast.check_store(store, graphs=list(args.graph or graphs) + [str(iris.graph("concepts"))])
    if args.format == "text":
        sys.stdout.write(report.to_text())
    else:
        # Blank nodes relabelled in document order: rdflib's Turtle writer can print a list cell twice
        # when the list hangs off a shared blank node (rdflib#802), as pyshacl's sh:resultPath copies do.
        stable = reference.Report(report.conforms, report.findings, fast.relabel_blank_nodes(report.graph))
        sys.stdout.write(stable.serialize("turtle" if args.format == "turtle" else "json-ld"))
    worst = report.worst()
    failing = {"violation": {"Violation"}, "warning": {"Violation", "Warning"}, "never": set()}[args.fail_on]
    return EXIT_FINDINGS if worst in failing else 0


def run_query(args, settings: Settings) -> int:
    if (args.query is None) == (args.file is None):
        raise CommandError("give the query as an argument or with --file, not both")
    text = args.query if args.file is None else _read_query(args.file)
    store = open_store(settings, read_only=True, path=args.store)
    result = store.query(text)
    if is_graph(result):
        fmt = args.format or "turtle"
        if fmt not in RDF_FORMATS:
            raise CommandError(f"a CONSTRUCT or DESCRIBE result cannot be written as {fmt}")
        nt = result.serialize(format=RDF_FORMATS["ntriples"])
        if fmt == "jsonld":  # compacted with the published context
            document = compact_ntriples(nt, context_url=_context_url(settings))
            body = json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
        else:
            body = formats.convert_ntriples(nt, fmt)  # Turtle with the prefixes it uses
    else:
        fmt = args.format or "json"
        if fmt not in RESULT_FORMATS:
            raise CommandError(f"a SELECT or ASK result cannot be written as {fmt}")
        body = result.serialize(format=RESULT_FORMATS[fmt])
    sys.stdout.buffer.write(body)
    return 0


def _read_query(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"no query file {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a query file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise CommandError(f"cannot read {path}: {e.strerror}") from None


def _context_url(settings: Settings) -> str:
    """Where the published JSON-LD context is: ``context.jsonld`` under the base IRI."""
    return settings.base_iri + "context.jsonld"


def run_export(args, settings: Settings) -> int:
    store = open_store(settings, read_only=True, path=args.store)
    if args.format == "jsonld":
        sys.stdout.buffer.write(store.dump(args.format))
    else:  # Turtle and TriG with the usual prefixes
        sys.stdout.buffer.write(store.dump(args.format, prefixes=formats.PREFIX_TABLE))
    return 0


EXTRACT_HELP = ("Print the graph extracted from standard or occupation pages, with its extraction issues and "
                "provenance; no store is touched.")
EXTRACT_FORMATS = ("turtle", "trig", "nquads", "jsonld")


def run_prepare(args, settings: Settings) -> int:
    """``prepare``: every resource's answers in the prepared formats, written beside the store version."""
    parent = args.parent
    if parent is not None:  # from the first moment (it may be gone already): the app starts up slowly
        from sparql_api.lifetime import exit_with_parent
        exit_with_parent(parent)
    from sparql_api.preparation import prepare  # the app and its renderers (lazy: start-up time)

    overrides = {"store": args.store, "public_url": args.public_url or settings.public_url}
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\rprepared {done:,} of {total:,} answers", end="", file=sys.stderr, flush=True)

    path = prepare(settings.model_copy(update=overrides), args.data_version, progress, parent)
    if not args.quiet:
        print(f"\nwrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


def run_extract(args, settings: Settings) -> int:
    """``extract FILE...``: one named graph per file on standard output; exit 2 naming a file with nothing in it."""
    try:
        dataset = extract_dataset(args.files, Iris(settings.base_iri))
    except PageFileError as e:
        raise CommandError(str(e)) from None
    sys.stdout.buffer.write(serialize_dataset(dataset, args.format))
    return 0


ALIGN_HELP = ("Compute the alignment mapping sets (SSSOM TSV and RDF in curated/alignments/): each duty and KSB of "
              "the KIM family's standards against the GKIM disciplines, the other standards' statements and ESCO "
              "skills, and each standard against ESCO occupations, by BM25 and by sentence embeddings. Needs the "
              "align extra: pip install -e '.[align]'. With --evaluate, score the committed sets instead.")


def run_align(args, settings: Settings) -> int:
    if args.evaluate:
        from align.evaluate import ALIGNMENTS_DIR, evaluate, table, thresholds_table

        if not args.judged.exists():
            raise CommandError(f"{args.judged}: no such judged set")
        print(table(evaluate(args.judged, args.out or ALIGNMENTS_DIR)))
        print(thresholds_table(args.out or ALIGNMENTS_DIR, args.judged))
        return 0
    try:
        from align.run import ALIGNMENTS_DIR, align
    except ImportError as e:
        raise CommandError(f"{e}; install the align extra: pip install -e '.[align]'") from None
    from tqdm import tqdm

    try:
        sets = align(args.method or ["lexical-bm25", "semantic-minilm"], args.out or ALIGNMENTS_DIR, cache=args.cache,
                     progress=lambda total, name: tqdm(total=total, desc=name, unit="step", file=sys.stderr),
                     date=args.date)
    except ModuleNotFoundError as e:
        raise CommandError(f"{e}; install the align extra: pip install -e '.[align]'") from None
    for ms in sets:
        print(f"{ms.name}: {len(ms.rows)} mappings written to {args.out or ALIGNMENTS_DIR}")
    return 0


def run_serve(args, settings: Settings) -> int:
    from sparql_api.server import EXIT_STORE_UNUSABLE, serve  # FastAPI and uvicorn (lazy: start-up time)

    overrides = {"store": args.store}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    settings = settings.model_copy(update=overrides)
    path = Path(settings.store)
    if not settings.store_url and not path.exists():
        try:
            prepare_versions(path)
        except StoreError as e:
            print(f"kimgraph serve: error: {e}", file=sys.stderr)
            return EXIT_STORE_UNUSABLE
        print(f"kimgraph serve: no store at {path}; building it first", flush=True)
        status = main(["build", "--store", str(path)])
        if status:
            return status
    return serve(settings, require_writable=args.require_writable)


if __name__ == "__main__":
    sys.exit(main())
