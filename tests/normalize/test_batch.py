"""A LineBatch is a Sequence[Line] and answers as the list of its lines would (issue 19: an int
attribute named `count` hid Sequence.count, so `batch.count(line)` raised TypeError)."""

from __future__ import annotations

from consolewatch.normalize.batch import LineBatch

TEXTS = ["Booting from Hard Disk...", "eth0: no lease, failing", "eth0: no lease, failing"]


def _batch() -> LineBatch:
    block = ("\n".join(TEXTS) + "\n").encode()
    return LineBatch(source="serial", block=block, count=3, first_seq=10, boot_marks=[(10, 1)], scanned=[])


def test_line_batch_answers_as_the_list_of_its_lines():
    batch = _batch()
    lines = list(batch)
    assert [(ln.seq, ln.text) for ln in lines] == list(zip(range(10, 13), TEXTS, strict=True))
    assert len(batch) == 3 and batch.last_seq == 12 and bool(batch)
    assert batch.count(lines[1]) == lines.count(lines[1]) == 1  # same text, another seq: another line
    assert batch.index(lines[2]) == 2 and lines[2] in batch
    assert [ln.text for ln in batch[1:]] == TEXTS[1:] and batch[-1] == lines[2]


def test_an_empty_batch_is_falsy():
    empty = LineBatch(source="serial", block=b"", count=0, first_seq=1, boot_marks=[(1, 1)], scanned=[])
    assert not empty and list(empty) == [] and empty.count(None) == 0
