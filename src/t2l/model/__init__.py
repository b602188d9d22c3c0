"""Model: CLIP backbones through open_clip, T2L's temporal tokens, adapters, losses and variants."""
