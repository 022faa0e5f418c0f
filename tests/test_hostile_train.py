"""A run directory's JSON files are read through the bounded reader: a run.json that is a FIFO,
a device or a huge file is refused at once (`ahsd-train run --resume --out DIR` with run.json ->
/dev/zero was killed by the OOM killer; hostile review after the issue 11 redesign)."""

from __future__ import annotations

import os

import pytest

from ahsd_train.run import runlog
from ahsd_train.run.rundir import restartable


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_run_json_that_is_not_a_small_file_is_refused_not_read(tmp_path, kind):
    path = tmp_path / runlog.RUN_JSON
    if kind == "fifo":
        os.mkfifo(path)  # a blocking read would wait forever
    elif kind == "device":
        path.symlink_to("/dev/zero")  # an unbounded read would fill memory
    else:
        with open(path, "wb") as f:  # sparse: costs no disk
            f.truncate(runlog.MAX_JSON_BYTES + 1)
    with pytest.raises(OSError):
        runlog.read_json(path)
    assert restartable(tmp_path) is False
