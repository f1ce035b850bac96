"""Image embeddings (open_clip SigLIP2) and the similarity mining of distractors and nearest classes."""
