"""Outputs are named and claimed for a whole batch before any work."""

from __future__ import annotations

from pathlib import Path

from ftppose_cli.inputs import expand_inputs
from ftppose_cli.pipeline.annotator import AnnotateOptions
from ftppose_cli.pipeline.outputs import claim_outputs
from tests import video_factory as factory


def test_image_outputs_are_claimed_before_any_work(tmp_path: Path) -> None:
    factory.write_images(tmp_path / "a", ["clip.jpg"])
    factory.write_images(tmp_path / "walk", ["f1.jpg", "f2.jpg"])
    (tmp_path / "b").mkdir()
    factory.plain_video(tmp_path / "b", "clip.mp4")
    items, errors = expand_inputs([str(tmp_path / "b" / "clip.mp4"), str(tmp_path / "a" / "clip.jpg"),
                                   str(tmp_path / "walk")])
    out = tmp_path / "out"
    accepted, refused = claim_outputs(items, AnnotateOptions(output_dir=out))
    assert errors == [] and [i.path.name for i in accepted] == ["clip.mp4", "walk"]
    assert [str(e) for e in refused] == [
        f"{tmp_path / 'a' / 'clip.jpg'}: its outputs ({out / 'clip.json'}, {out / 'clip.jpg'}) are also those of "
        f"{tmp_path / 'b' / 'clip.mp4'}, an input of the same name; annotate it into another --output-dir or "
        "rename it"]
    # A sequence annotated into its own parent folder would write over its images; one image taken is found too.
    _, refused = claim_outputs(items[2:], AnnotateOptions(output_dir=tmp_path, overwrite=True))
    assert [e.problem for e in refused] == ["its overlay would replace its own images; choose another --output-dir"]
    factory.write_images(out / "walk", ["f2.jpg"])
    _, refused = claim_outputs(items[2:], AnnotateOptions(output_dir=out))
    assert [str(e) for e in refused] == [f"{out / 'walk' / 'f2.jpg'}: output exists; pass --overwrite to replace it"]
    assert claim_outputs(items[2:], AnnotateOptions(output_dir=out, overwrite=True))[1] == []
    assert not (out / "walk.json").exists()
