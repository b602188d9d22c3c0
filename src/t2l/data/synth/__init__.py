"""The embedded video world: shapes that move in time-reversed motion pairs, written as H.264 mp4."""
