"""The `vfiogen` command line: a thin layer over `driver`.

Exit status: 0 success, 1 a user error (bad schema, stale output), 2 bad
usage or an internal error. A Python traceback is shown only with --debug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vfiogen import DEFAULT_LICENSE
from vfiogen.passes import FREEZE_PASS, PASS_NAMES, PassNameError

TYPE_CHECKING = False  # not `typing`'s: a check the cache answers imports nothing it does not use

if TYPE_CHECKING:  # the compiler is imported when a command needs it: not for a check the cache answers
    from vfiogen.context import Context
    from vfiogen.diagnostics import Diagnostic, Reporter
    from vfiogen.inputs import SchemaInput
    from vfiogen.ir.checked import CheckedModule

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"vfiogen: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _license(text: str) -> str:
    """`--license`: an SPDX expression, or a usage error (exit 2) saying what is wrong where."""
    from vfiogen.spdx import check_expression

    error = check_expression(text)
    if error is not None:
        raise argparse.ArgumentTypeError(f"'{text}' is not an SPDX expression: {error.message} "
                                         f"(at character {error.start + 1}); for example '{DEFAULT_LICENSE}'")
    return text


def _parser() -> argparse.ArgumentParser:
    base = _Parser(add_help=False)
    base.add_argument("-W", dest="warnings", action="append", default=[], metavar="SPEC",
                        help="no-VGnnnn disables a warning; error=VGnnnn makes it an error")
    base.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    base.add_argument("--stop-before", metavar="PASS", help=f"stop before a pass ({', '.join(PASS_NAMES)})")
    base.add_argument("--dump-ir-after", metavar="PASS", help="print the IR after a pass")
    common = _Parser(add_help=False, parents=[base])
    common.add_argument("--format", choices=("text", "json"), default="text",
                        help="diagnostics as GCC-style text or as JSON")

    parser = _Parser(prog="vfiogen", description="Schema compiler for VFIO live-migration state.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", parents=[common], help="validate schemas only")
    check.add_argument("schemas", nargs="+", help="schema directories or files")
    check.add_argument("--no-cache", action="store_true",
                       help="check even if the result cache holds this check, and keep nothing in it")
    build = commands.add_parser("build", parents=[common], help="check schemas and generate outputs")
    build.add_argument("schemas", nargs="+", help="schema directories or files")
    build.add_argument("-o", "--output", default="generated", help="output directory (default: generated)")
    build.add_argument("--check", action="store_true", help="change nothing; fail if the output is stale")
    build.add_argument("--accept-break", action="store_true",
                       help="accept a changed wire layout of a version the previous lock records (VG0801)")
    build.add_argument("--no-cache", action="store_true",
                       help="compile even if the result cache holds this build, and keep nothing in it")
    build.add_argument("--license", type=_license, metavar="SPDX-EXPR",
                       help="licence line of the generated code; overrides the schemas' options file "
                       f"(default there: {DEFAULT_LICENSE})")
    decode = commands.add_parser("decode", parents=[common], help="dump a saved blob with byte offsets")
    decode.add_argument("schemas", help="schema directory")
    decode.add_argument("blob", help="the blob file")
    decode.add_argument("--device", help="device whose params apply (default: the only device, if one)")
    diff = commands.add_parser("diff", help="classify the changes between two schema versions (0 compatible, "
                               "1 breaking, 2 usage error)")
    diff.add_argument("sides", nargs="*", metavar="OLD NEW",
                      help="schema directories or lock files; with --against, at most the schema directory")
    diff.add_argument("--against", metavar="REV", help="the old side: the schemas at this git revision")
    diff.add_argument("--with", dest="extra", action="append", default=[], metavar="DIR",
                      help="a schema directory built with both sides, as given to build (a hypervisor's own "
                      "sections beside the standard library); repeatable")
    diff.add_argument("--format", choices=("text", "markdown", "json", "github"), default="text")
    diff.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    diff.set_defaults(warnings=[])
    inspect = commands.add_parser("inspect", parents=[common],
                                  help="walk a config-space dump's capabilities and show what the schemas capture")
    inspect.add_argument("dumps", nargs="+", metavar="DUMP",
                         help="binary config space (64, 256 or 4096 bytes; a sysfs config file) or lspci -x text")
    inspect.add_argument("--schemas", dest="schemas", action="append", metavar="DIR",
                         help=f"schema directory (default: the standard library, {STANDARD_SCHEMAS})")
    inspect.add_argument("--descriptor", action="store_true",
                         help="print the migration descriptor as JSON, the form `vfiogen compat` takes")
    inspect.add_argument("--device", help="with --descriptor: the device whose sections apply (default: every "
                         "section the dump has)")
    inspect.add_argument("--function", metavar="ADDR", help="with --descriptor: only this function of the dump")
    capture = commands.add_parser("capture", parents=[common],
                                  help="capture a function's state from a config-space dump into a blob")
    capture.add_argument("schemas", help="schema directory")
    capture.add_argument("dump", help="binary config space or lspci -x text")
    capture.add_argument("-o", "--output", required=True, metavar="STATE.bin", help="the blob to write")
    capture.add_argument("--device", help="device whose sections apply (default: every section the dump has)")
    capture.add_argument("--function", metavar="ADDR", help="the function, when the dump holds several")
    compat = commands.add_parser("compat", parents=[base],
                                 help="would a migration from SRC to DST be allowed (0 allowed, 1 refused, "
                                 "2 usage error)")
    compat.add_argument("schemas", help="schema directory")
    compat.add_argument("source", metavar="SRC", help="descriptor JSON (inspect --descriptor) or a config dump")
    compat.add_argument("target", metavar="DST", help="descriptor JSON (inspect --descriptor) or a config dump")
    compat.add_argument("--device", help="device whose sections and rules apply (default: every section a "
                        "side has, each required)")
    compat.add_argument("--function", metavar="ADDR", help="the function, when a dump holds several")
    compat.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    return parser


STANDARD_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
"""The standard schema library, beside the `compiler/` directory of the checkout vfiogen runs from."""


def _reporter(specs: list[str]) -> Reporter:
    from vfiogen.diagnostics import CATALOGUE, Reporter, Severity

    disabled, promoted = set(), set()
    for spec in specs:
        if spec.startswith("no-") and spec[3:] in CATALOGUE:
            disabled.add(spec[3:])
        elif spec.startswith("error=") and spec[6:] in CATALOGUE:
            promoted.add(spec[6:])
        else:
            raise _UsageError(f"-W {spec}: expected no-VGnnnn or error=VGnnnn with a known code")
        code = spec.split("=")[-1].removeprefix("no-")
        if CATALOGUE[code][0] is not Severity.WARNING:
            raise _UsageError(f"-W {spec}: {code} is an error, not a warning")
    return Reporter(frozenset(disabled), frozenset(promoted))


class _UsageError(Exception):
    pass


def _emitted(diagnostics: list[Diagnostic], ctx: Context, fmt: str) -> tuple[str, str]:
    """What `diagnostics` print: (stdout, stderr)."""
    from vfiogen.diagnostics import render_json, render_text

    if fmt == "json":
        return render_json(diagnostics), ""
    return "", render_text(diagnostics, ctx.sources) if diagnostics else ""


def _emit(diagnostics: list[Diagnostic], ctx: Context, fmt: str) -> None:
    out, err = _emitted(diagnostics, ctx, fmt)
    sys.stdout.write(out)
    sys.stderr.write(err)


def _decode(args: argparse.Namespace, module: CheckedModule) -> int:
    from vfiogen.wire.decode import DecodeError, decode_blob, render_decoded

    devices = {d.name: d for d in module.devices}
    if args.device is not None and args.device not in devices:
        print(f"vfiogen: error: no device '{args.device}' (devices: {', '.join(sorted(devices)) or 'none'})",
              file=sys.stderr)
        return EXIT_USER
    device = devices.get(args.device) if args.device else (next(iter(devices.values())) if len(devices) == 1
                                                            else None)
    try:
        blob = Path(args.blob).read_bytes()
    except OSError as exc:
        print(f"vfiogen: error: cannot read '{args.blob}': {exc.strerror}", file=sys.stderr)
        return EXIT_USER
    try:
        decoded = decode_blob(blob, module, device)
    except DecodeError as exc:
        print(f"{args.blob}: error: {exc}", file=sys.stderr)
        return EXIT_USER
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(decoded.to_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_decoded(decoded))
    return EXIT_OK


def _migration(args: argparse.Namespace, module: CheckedModule) -> int:
    """`capture` and `compat` (and `inspect --descriptor`): the work is in vfiogen.migration."""
    from vfiogen.migration import commands

    try:
        if args.command == "inspect":
            return commands.descriptor_command(args.dumps, module, args.device, args.function, sys.stdout,
                                               sys.stderr)
        if args.command == "capture":
            return commands.capture_command(args.dump, module, args.device, args.function, args.output,
                                            sys.stderr)
        return commands.compat_command(args.source, args.target, module, args.device, args.function,
                                       args.format, sys.stdout, sys.stderr)
    except commands.UsageError as exc:
        raise _UsageError(str(exc)) from None


def _inspect(args: argparse.Namespace, module: CheckedModule) -> int:
    if args.descriptor:
        return _migration(args, module)
    if args.device is not None or args.function is not None:
        raise _UsageError("inspect: --device and --function go with --descriptor")
    from vfiogen.configspace.dump import DumpError, read_dump
    from vfiogen.configspace.report import FunctionReport, inspect_function
    from vfiogen.configspace.report import render_json as render_inspection_json
    from vfiogen.configspace.report import render_text as render_inspection_text

    reports: list[FunctionReport] = []
    for given in args.dumps:
        try:
            functions = read_dump(Path(given))
        except DumpError as exc:
            print(f"vfiogen: error: {exc}", file=sys.stderr)
            return EXIT_USER
        reports.extend(inspect_function(function, module) for function in functions)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(render_inspection_json(reports), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_inspection_text(reports))
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from vfiogen.diff.compare import compare_locks, verdict
    from vfiogen.diff.report import render_github, render_markdown
    from vfiogen.diff.report import render_json as render_diff_json
    from vfiogen.diff.report import render_text as render_diff_text
    from vfiogen.diff.sources import SideError, read_revision, read_side

    if args.against is not None and len(args.sides) > 1:
        raise _UsageError("diff --against REV takes at most one schema directory")
    if args.against is None and len(args.sides) != 2:
        raise _UsageError("diff takes OLD and NEW (schema directories or lock files), or --against REV")
    try:
        if args.against is not None:
            schemas = args.sides[0] if args.sides else "schemas"
            old, new = read_revision(args.against, schemas, args.extra), read_side(schemas, args.extra)
        else:
            old, new = read_side(args.sides[0], args.extra), read_side(args.sides[1], args.extra)
    except SideError as exc:
        print(f"vfiogen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    changes = compare_locks(old.lock, new.lock, old.places, new.places)
    if args.format == "markdown":
        sys.stdout.write(render_markdown(changes, old.lock, new.lock))
    elif args.format == "json":
        sys.stdout.write(render_diff_json(changes))
    elif args.format == "github":
        sys.stdout.write(render_github(changes))
    else:
        sys.stdout.write(render_diff_text(changes))
    return EXIT_USER if verdict(changes).breaking else EXIT_OK


class _Run:
    """One command's run; `ctx` is set once the compiler is needed (the internal-error report names its pass)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ctx: Context | None = None

    def context(self) -> Context:
        from vfiogen.context import Context

        self.ctx = Context(reporter=_reporter(self.args.warnings))
        return self.ctx

    def run(self) -> int:
        args = self.args
        if args.command == "diff":
            return _diff(args)
        if args.command in ("check", "build"):
            return self.check_or_build()
        if args.command == "inspect" and args.schemas is None:
            args.schemas = [str(STANDARD_SCHEMAS)]
        from vfiogen import driver

        ctx = self.context()
        schema_paths = args.schemas if isinstance(args.schemas, list) else [args.schemas]
        inputs = driver.discover(schema_paths, ctx.reporter)
        if not inputs and not ctx.reporter.error_count:
            return _no_schemas(schema_paths)
        result = driver.compile_schemas(inputs, ctx, stop_before=args.stop_before, dump_after=args.dump_ir_after)
        for text in result.dumps:
            sys.stdout.write(text + "\n")
        diagnostics = ctx.reporter.sorted()
        if diagnostics:  # stdout is these commands' output
            _emit(diagnostics, ctx, args.format)
        if ctx.reporter.error_count:
            return _errors(ctx, args.format)
        if result.module is None:
            return EXIT_OK
        if args.command == "decode":
            return _decode(args, result.module)
        if args.command == "inspect":
            return _inspect(args, result.module)
        return _migration(args, result.module)  # capture, compat

    def check_or_build(self) -> int:
        """`check` and `build`: answered by the result cache (`vfiogen.cache`) when it holds this run, else
        compiled (and kept in the cache when clean)."""
        from vfiogen.inputs import scan

        args = self.args
        found, problems = scan(args.schemas)
        run_key = self.cache_key(found) if found and not problems else None
        if run_key is not None:
            from vfiogen import cache

            entry = cache.load(run_key)
            if entry is not None:
                return _finish(args, *entry)
        from vfiogen import driver

        ctx = self.context()
        driver.report_scan(problems, ctx.reporter)
        inputs = found
        if not inputs and not ctx.reporter.error_count:
            return _no_schemas(args.schemas)
        stop_before = args.stop_before
        if args.command == "check" and stop_before is None and args.dump_ir_after != FREEZE_PASS:
            stop_before = FREEZE_PASS  # it reports nothing: it only prepares the module for the back ends
        result = driver.compile_schemas(inputs, ctx, stop_before=stop_before, dump_after=args.dump_ir_after)
        for text in result.dumps:
            sys.stdout.write(text + "\n")
        outputs: dict[str, str] | None = None
        if result.module is not None and args.command == "build":
            if not args.accept_break:
                driver.check_previous_lock(result.module, Path(args.output), ctx)
            if not ctx.reporter.error_count:
                outputs = driver.render(result.module, ctx, license=args.license)
        out, err = _emitted(ctx.reporter.sorted(), ctx, args.format)
        if ctx.reporter.error_count:
            sys.stdout.write(out)
            sys.stderr.write(err)
            return _errors(ctx, args.format)
        if outputs is not None:
            from vfiogen.outputs import with_manifest

            outputs = with_manifest(outputs)
        if run_key is not None:
            from vfiogen import cache
            from vfiogen.outputs import LOCK_PATH

            # The next build into this directory reads the lock this one writes; the module agrees with its own
            # lock, so that run is this one: keep it under that key too (`vfiogen.cache`).
            own_lock = outputs.get(LOCK_PATH) if outputs is not None and not args.accept_break else None
            aliases = [cache.key(self.options(), found, own_lock.encode("utf-8"))] if own_lock is not None else []
            cache.save(run_key, (out, err, outputs), aliases)
        return _finish(args, out, err, outputs)

    def cache_key(self, inputs: list[SchemaInput]) -> str | None:
        """The result cache's key of this run, or None when it is not to be cached (turned off, a debugging
        option, or a previous lock that cannot be read: the compile reports that)."""
        from vfiogen import cache

        args = self.args
        if args.no_cache or args.debug or args.stop_before or args.dump_ir_after or not cache.enabled():
            return None
        lock: bytes | None = None
        if args.command == "build" and not args.accept_break:
            from vfiogen.outputs import LOCK_PATH

            lock_file = Path(args.output) / LOCK_PATH
            try:
                lock = lock_file.read_bytes() if lock_file.is_file() else None
            except OSError:
                return None
        return cache.key(self.options(), inputs, lock)

    def options(self) -> list[str]:
        """The command and the options that change what it prints or renders, for the result cache's key."""
        args = self.args
        options = [args.command, args.format, *(f"-W{spec}" for spec in args.warnings)]
        if args.command == "build":
            options += [f"--license={args.license}" if args.license is not None else "", f"{args.accept_break}"]
        return options


def _no_schemas(schema_paths: list[str]) -> int:
    print(f"vfiogen: error: no *.yaml schemas under {' '.join(schema_paths)}", file=sys.stderr)
    return EXIT_USER


def _errors(ctx: Context, fmt: str) -> int:
    if fmt == "text":
        print(f"vfiogen: {ctx.reporter.error_count} error(s)", file=sys.stderr)
    return EXIT_USER


def _finish(args: argparse.Namespace, out: str, err: str, outputs: dict[str, str] | None) -> int:
    """The end of a clean `check` or `build`, compiled or from the cache: print the diagnostics (warnings) and,
    for a build, check or write the output directory."""
    sys.stdout.write(out)
    sys.stderr.write(err)
    if args.command != "build" or outputs is None:
        return EXIT_OK
    from vfiogen.outputs import stale_files, write_outputs

    out_dir = Path(args.output)
    if args.check:
        stale = stale_files(out_dir, outputs)
        for path, action in stale:
            print(f"{out_dir.as_posix()}/{path}: {action}", file=sys.stderr)
        return EXIT_USER if stale else EXIT_OK
    changed = write_outputs(out_dir, outputs)
    if args.format == "text":
        print(f"vfiogen: {len(outputs)} files in {out_dir.as_posix()}/, {len(changed)} changed", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vfiogen` console script."""
    args = _parser().parse_args(argv)
    run = _Run(args)
    try:
        return run.run()
    except (PassNameError, _UsageError) as exc:
        print(f"vfiogen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # noqa: BLE001 - the one place that turns a bug into a report
        where = ""
        ctx = run.ctx
        if ctx is not None and ctx.pass_name:
            where = f" in pass '{ctx.pass_name}'"
            if ctx.focus is not None:
                where += f" while processing {ctx.focus}"
        print(f"vfiogen: internal error{where}; please report it with the schemas that caused it "
              "(run with --debug for a traceback)", file=sys.stderr)
        if args.debug:
            import traceback  # only here: it costs every run a few ms of imports

            traceback.print_exc()
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
