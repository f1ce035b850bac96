"""The build stage: standardized images, questions, SpineBench-Sub, the `datasets` builder, card, push, pipeline."""
