"""Training: the tiny CLIP's image-text pretraining and T2L's video training loop."""
