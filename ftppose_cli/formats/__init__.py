"""Data formats: joint sets, PoseTrack files, COCO files."""
