"""``spikebridge migrate RUN --trust-pickle``: convert a run directory's old pickle recordings (``recordings.neo.pkl``)
to the NWB file of today's run directories, in place."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path

from ..errors import RunDirectoryError

EPILOG = """Reading a pickle can run any code its author put in it: convert only run directories from sources you trust.
The new recordings file is written under a temporary name and renamed into place; meta.json's "sha256" list is
updated, then the pickle is removed. An interrupted migration can be run again."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``migrate`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser(
        "migrate",
        help="convert an old run directory's pickle recordings (recordings.neo.pkl) to NWB (recordings.nwb)",
        description="Convert the recordings of a run directory written by an older spikebridge (Neo pickle) to NWB, in place.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", type=Path, metavar="RUN", help="the run directory")
    p.add_argument("--trust-pickle", action="store_true", help="open the pickle although it can run code: only for directories you trust")
    p.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Migrate the run directory (:func:`migrate`) and say so; return 0."""
    path = migrate(args.run_dir, trust_pickle=args.trust_pickle)
    print(f"{args.run_dir}: recordings converted to {path.name}")
    return 0


def migrate(run_dir: Path, trust_pickle: bool = False) -> Path:
    """Convert ``run_dir/recordings.neo.pkl`` to ``run_dir/recordings.nwb``; returns the new file's path.

    Parameters
    ----------
    run_dir
        A complete run directory holding the old pickle recordings.
    trust_pickle
        Must be True: unpickling runs whatever code the file names. Without it nothing is read and
        :class:`~spikebridge.errors.RunDirectoryError` says why.

    If meta.json lists SHA-256 checksums, every file (the pickle included) must still match them before the
    pickle is opened; afterwards meta.json lists the checksums of the converted directory.
    """
    from ..rundir.atomic import atomic_file
    from ..rundir.checksums import digest_files, verify
    from ..rundir.layout import META, RECORDINGS
    from ..rundir.recordings import LEGACY, read_recordings, write_recordings

    run_dir = Path(run_dir)
    old, new = run_dir / LEGACY, run_dir / RECORDINGS
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory")
    if not old.is_file():
        state = f"already has {RECORDINGS}" if new.is_file() else f"has no {LEGACY}"
        raise RunDirectoryError(f"{run_dir} {state}: nothing to migrate")
    if not trust_pickle:
        raise RunDirectoryError(
            f"refusing to open {old}: loading a pickle can run any code it contains; if you trust its source, pass --trust-pickle"
        )
    try:
        meta = json.loads((run_dir / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunDirectoryError(f"{run_dir / META} cannot be read: {err}") from None
    if not isinstance(meta, dict) or meta.get("complete") is not True:
        raise RunDirectoryError(f"{run_dir} is not a complete run directory ({META} is not marked complete)")
    if not new.is_file():  # else an earlier migration renamed it into place and stopped before the end
        digests = meta.get("sha256")
        if isinstance(digests, dict):
            verify(run_dir, digests)
        import neo

        block = neo.io.PickleIO(str(old)).read_block()
        tmp = run_dir / f".migrate-{uuid.uuid4().hex[:8]}.{RECORDINGS}"  # pynwb wants the .nwb suffix
        try:
            write_recordings(block, tmp)
            back = read_recordings(tmp)
            if [len(s.spiketrains.multiplexed[0]) for s in back.segments] != [len(s.spiketrains.multiplexed[0]) for s in block.segments]:
                raise RunDirectoryError(f"{run_dir}: the converted recordings do not hold the same spikes; nothing changed")
            os.replace(tmp, new)
        finally:
            tmp.unlink(missing_ok=True)
    sha = {k: v for k, v in digest_files(run_dir).items() if k != LEGACY and not Path(k).name.startswith(".migrate-")}
    with atomic_file(run_dir / META) as fh:
        fh.write(json.dumps({**meta, "sha256": sha}, indent=2, default=str).encode("utf-8"))
    from ..rundir import load

    load(run_dir)  # the pickle goes only once the converted directory is known to load
    old.unlink()
    return new
