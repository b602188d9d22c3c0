"""Video files through ffmpeg: decoding to frames and encoding frames, below every stage that reads or writes video."""
