"""TC-CLIP: temporal contextualization and video-conditional prompting (Kim et al., ECCV 2024)."""

from t2l.model.tc_clip.model import TCClip
from t2l.model.tc_clip.options import TCClipOptions

__all__ = ["TCClip", "TCClipOptions"]
